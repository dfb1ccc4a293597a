import { checkHealth } from '~/services/health/check-health.server'
import { defineOperation } from '../operation.server'

export const systemOperations = [
  defineOperation({
    id: 'health',
    method: 'GET',
    path: '/api/v1/health',
    summary: 'Liveness and readiness: 200 `{"status":"ok"}` when the database answers, 503 `{"status":"error"}` when not',
    tag: 'System',
    auth: 'none',
    tier: 'READ',
    status: 200,
    errors: [429, 503],
    handler: async () => {
      const { healthy, database, uptimeSeconds } = await checkHealth()
      return Response.json(
        { status: healthy ? 'ok' : 'error', database, uptimeSeconds },
        { status: healthy ? 200 : 503, headers: { 'Cache-Control': 'no-store' } },
      )
    },
  }),
]
