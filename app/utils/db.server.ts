import { remember } from '@epic-web/remember'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '~/generated/prisma/client'
import { releaseRemembered } from './singletons.server'

const PRISMA = 'carcosa.prisma'

function client(): PrismaClient {
  return remember(PRISMA, () => {
    const connectionString = process.env.DATABASE_URL
    if (!connectionString) throw new Error('DATABASE_URL is not set: the server prepares the database before loading the app')
    return new PrismaClient({ adapter: new PrismaPg({ connectionString }) })
  })
}

/** Closes the process's pool, if it was ever opened (shutdown, the end of a test file). */
export function disconnectDatabase(): Promise<void> {
  return releaseRemembered(PRISMA, (client: PrismaClient) => client.$disconnect())
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
