import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '~/generated/prisma/client'

declare global {
  // Survives dev rebuilds that re-evaluate this module.
  var __carcosaPrisma: PrismaClient | undefined
}

function createClient() {
  const connectionString = process.env.DATABASE_URL
  if (!connectionString) throw new Error('DATABASE_URL is not set: the server must prepare the database before loading the app')
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }) })
}

export const prisma: PrismaClient = (globalThis.__carcosaPrisma ??= createClient())

export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0]
