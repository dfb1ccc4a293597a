import { remember } from '@epic-web/remember'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '~/generated/prisma/client'
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
    const created = new pg.Pool({ connectionString })
    // An idle connection dropped by the server (a restart, a failover) must not crash the process:
    // the pool discards it and opens a new one for the next query.
    created.on('error', (error) => logger.warn({ err: error }, 'an idle database connection failed; it will be replaced'))
    return created
  })
}

function client(): PrismaClient {
  return remember(PRISMA, () => new PrismaClient({ adapter: new PrismaPg(pool()) }))
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
    const value = Reflect.get(instance, property, instance)
    return typeof value === 'function' ? value.bind(instance) : value
  },
})

export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0]
