import { checkHealth } from '~/services/health/check-health.server'

/** Liveness and readiness in one: 200 when the database answers, 503 when it does not. */
export async function loader() {
  const { healthy, database, uptimeSeconds } = await checkHealth()
  return Response.json(
    { status: healthy ? 'ok' : 'error', database, uptimeSeconds },
    { status: healthy ? 200 : 503, headers: { 'Cache-Control': 'no-store' } },
  )
}
