import { prisma } from '~/utils/db.server'

const startedAt = Date.now()
const DATABASE_TIMEOUT_MS = 2_000

/** Liveness and readiness in one: 200 when the database answers, 503 when it does not. */
export async function loader() {
  const database = await Promise.race([
    prisma.$queryRaw`SELECT 1`.then(() => 'ok' as const),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), DATABASE_TIMEOUT_MS).unref()),
  ]).catch(() => 'unreachable' as const)
  const healthy = database === 'ok'
  return Response.json(
    { status: healthy ? 'ok' : 'error', database, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) },
    { status: healthy ? 200 : 503, headers: { 'Cache-Control': 'no-store' } },
  )
}
