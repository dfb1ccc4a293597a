import type { RequestMeta } from '~/utils/request.server'
import type { Permission } from './api-keys/permissions'

/** A signed-in person: the dashboard's session or an API user access token. */
export interface UserActor extends RequestMeta {
  type: 'user'
  userId: string
}

/** An API key: reaches its own project only, within its permissions. */
export interface ApiKeyActor extends RequestMeta {
  type: 'api-key'
  apiKeyId: string
  projectId: string
  permissions: Permission[]
}

/** Who performs a service call. */
export type Actor = UserActor | ApiKeyActor

export const userActor = (userId: string, meta: RequestMeta): UserActor => ({ type: 'user', userId, ...meta })

/** The id recorded in audit entries for the actor. */
export const actorId = (actor: Actor) => (actor.type === 'user' ? actor.userId : actor.apiKeyId)
