import { remember } from '@epic-web/remember'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '~/generated/prisma/client'
import { databaseLimits } from './config.server'
import { asOverloadError, withWriteTurn } from './db-overload.server'
import { logger } from './logger.server'
import { releaseRemembered } from './singletons.server'

const POOL = 'carcosa.pg-pool'
const PRISMA = 'carcosa.prisma'

/**
 * The process's one connection pool: Prisma runs on it through its pg adapter, and the few hot
 * paths written as SQL (`sql` in sql.server.ts) use it directly.
 */
export function pool(): pg.Pool {
  return remember(POOL, () => {
    const connectionString = process.env.DATABASE_URL
    if (!connectionString) throw new Error('DATABASE_URL is not set: the server prepares the database before loading the app')
    const limits = databaseLimits()
    // A bounded wait for a connection: past it the query fails and the request is answered 503.
    const created = new pg.Pool({ connectionString, max: limits.DATABASE_POOL_SIZE, connectionTimeoutMillis: limits.DATABASE_WAIT_MS })
    // An idle connection dropped by the server (a restart, a failover) must not crash the process:
    // the pool discards it and opens a new one for the next query.
    created.on('error', (error) => logger.warn({ reason: error.message }, 'an idle database connection failed; it will be replaced'))
    // The pool listens only to idle connections: one checked out (inside a transaction) that the
    // server terminates would emit 'error' with no listener and end the process. Its query fails instead.
    created.on('connect', (connection) => {
      connection.on('error', (error) =>
        logger.warn({ reason: error.message }, 'a database connection in use failed; its request fails and the pool replaces it'),
      )
    })
    return created
  })
}

function client(): PrismaClient {
  return remember(PRISMA, () => {
    const { DATABASE_WAIT_MS } = databaseLimits()
    const base = new PrismaClient({
      adapter: new PrismaPg(pool()),
      transactionOptions: { maxWait: DATABASE_WAIT_MS, timeout: Math.max(5000, DATABASE_WAIT_MS) },
    })
    // Every query's "no connection in time" becomes the one 503 (db-overload.server.ts).
    const extended = base.$extends({
      query: {
        async $allOperations({ args, query }) {
          try {
            return await query(args)
          } catch (error) {
            throw asOverloadError(error)
          }
        },
      },
    })
    return extended as unknown as PrismaClient
  })
}

/** Closes Prisma and the pool, if they were ever opened (shutdown, the end of a test file). */
export async function disconnectDatabase(): Promise<void> {
  await releaseRemembered(PRISMA, (prisma: PrismaClient) => prisma.$disconnect())
  await releaseRemembered(POOL, (open: pg.Pool) => open.end())
}

/**
 * The Prisma client, created on first use: the database URL is only known once the host has
 * started the embedded database (or a test has created its own).
 */
export const prisma: PrismaClient = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const instance = client()
    // Transactions wait for a write turn, so they never take every connection from the reads.
    if (property === '$transaction')
      return (...args: Parameters<PrismaClient['$transaction']>) => withWriteTurn(() => instance.$transaction(...(args as [never])))
    const value = Reflect.get(instance, property, instance)
    return typeof value === 'function' ? value.bind(instance) : value
  },
})

export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0]
