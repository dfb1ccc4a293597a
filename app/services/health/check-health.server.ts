import { prisma } from '~/utils/db.server'

const DATABASE_TIMEOUT_MS = 2_000
const startedAt = Date.now()

export type DatabaseStatus = 'ok' | 'timeout' | 'unreachable'

/** Whether this instance can serve: the database must answer within two seconds. */
export async function checkHealth() {
  const database: DatabaseStatus = await Promise.race([
    prisma.$queryRaw`SELECT 1`.then(() => 'ok' as const),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), DATABASE_TIMEOUT_MS).unref()),
  ]).catch(() => 'unreachable' as const)
  return { healthy: database === 'ok', database, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }
}
