/**
 * Another Carcosa instance for the cross-instance invalidation tests: a child process on the same
 * database (and Redis, when REDIS_URL is set) that authenticates and changes credentials through
 * the services when its parent asks over IPC, and tells how many statements each call sent.
 */
import { countStatements } from './statement-counter'
import { authenticateAccessToken, revokeTokenFamily } from '~/services/accounts/api-tokens.server'
import { userActor } from '~/services/actor'
import { authenticateApiKey, revokeApiKey, updateApiKey } from '~/services/api-keys/api-keys.server'
import { updateRateLimitOverrides } from '~/services/settings/settings.server'
import { closeInvalidationBus, invalidationBusConnected, onInvalidation } from '~/utils/invalidation-bus.server'
import { disconnectDatabase } from '~/utils/db.server'

export type PeerRequest =
  | { op: 'ready' }
  | { op: 'bus-transitions' }
  | { op: 'reconnected'; after: number }
  | { op: 'authenticate'; token: string }
  | { op: 'revoke'; userId: string; apiKeyId: string }
  | { op: 'update-key'; userId: string; apiKeyId: string; permissions: string[] }
  | { op: 'set-overrides'; userId: string; projectId: string; overrides: Record<string, number> }
  | { op: 'logout'; userId: string; accessToken: string }
  | { op: 'stop' }

const meta = { ipAddress: '127.0.0.1', userAgent: 'credential-peer' }
// Each loss and each (re)gain of the bus tells listeners to forget everything: count those.
let transitions = 0
onInvalidation((message) => {
  if (message.kind === 'all') transitions++
})

async function waitFor(condition: () => boolean) {
  const deadline = Date.now() + 20_000
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  return condition()
}

async function answer(request: PeerRequest): Promise<unknown> {
  switch (request.op) {
    case 'ready':
      return waitFor(invalidationBusConnected)
    case 'bus-transitions':
      return transitions
    case 'reconnected':
      // Lost (one transition), then listening again (another).
      return waitFor(() => transitions >= request.after + 2 && invalidationBusConnected())
    case 'authenticate': {
      const { result, statements } = await countStatements(async () => {
        const actor = request.token.startsWith('ck_')
          ? await authenticateApiKey(request.token, meta)
          : await authenticateAccessToken(request.token, meta)
        if (!actor) return null
        return actor.type === 'api-key'
          ? { type: actor.type, permissions: actor.permissions, overrides: actor.scope.rateLimitOverrides }
          : { type: actor.type, userId: actor.userId }
      })
      return { actor: result, statements: statements.length }
    }
    case 'revoke':
      return revokeApiKey(userActor(request.userId, meta), request.apiKeyId).then(() => true)
    case 'update-key':
      return updateApiKey(userActor(request.userId, meta), request.apiKeyId, { permissions: request.permissions as never }).then(() => true)
    case 'set-overrides':
      return updateRateLimitOverrides(userActor(request.userId, meta), request.projectId, request.overrides).then(() => true)
    case 'logout':
      return revokeTokenFamily(userActor(request.userId, meta), request.accessToken).then(() => true)
    case 'stop':
      await closeInvalidationBus()
      await disconnectDatabase()
      setImmediate(() => process.exit(0))
      return true
  }
}

process.on('message', (message: { id: number; request: PeerRequest }) => {
  answer(message.request).then(
    (result) => process.send?.({ id: message.id, result }),
    (error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  )
})
process.send?.({ id: 0, result: 'started' })
