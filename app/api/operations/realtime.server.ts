import { createRealtimeToken } from '~/services/realtime/realtime-tokens.server'
import { createRealtimeTokenSchema, realtimeTokenSchema } from '~/services/realtime/schemas'
import { defineOperation } from '../operation.server'

export const realtimeOperations = [
  defineOperation({
    id: 'createRealtimeToken',
    method: 'POST',
    path: '/api/v1/realtime/tokens',
    summary:
      "Mint a short-lived token for a browser's WebSocket at `/api/v1/realtime?token=...`, scoped to one project and optionally to some of its uploads; the API key stays on your server",
    tag: 'Realtime',
    auth: 'any',
    permission: 'files:read',
    tier: 'STANDARD',
    body: createRealtimeTokenSchema,
    status: 201,
    errors: [400, 403, 404, 413, 415],
    response: realtimeTokenSchema,
    handler: async ({ actor, body }) => {
      const { token, projectId, uploadIds, expiresAt } = await createRealtimeToken(actor, body)
      return { token, projectId, uploadIds, expiresAt: expiresAt.toISOString() }
    },
  }),
]
