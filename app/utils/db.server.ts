import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '~/generated/prisma/client'

declare global {
  // Survives dev rebuilds that re-evaluate this module.
  var __carcosaPrisma: PrismaClient | undefined
}

function client(): PrismaClient {
  if (globalThis.__carcosaPrisma) return globalThis.__carcosaPrisma
  const connectionString = process.env.DATABASE_URL
  if (!connectionString) throw new Error('DATABASE_URL is not set: the server prepares the database before loading the app')
  globalThis.__carcosaPrisma = new PrismaClient({ adapter: new PrismaPg({ connectionString }) })
  return globalThis.__carcosaPrisma
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
