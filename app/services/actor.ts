import type { RequestMeta } from '~/utils/request.server'
import type { Permission } from './api-keys/permissions'
import type { RateLimitOverrides } from './settings/schemas'

/** A signed-in person: the dashboard's session or an API user access token. */
export interface UserActor extends RequestMeta {
  type: 'user'
  userId: string
  /** The project a dashboard page resolved from its URL for this request (its loaders share this actor). */
  projectAccess?: ProjectAccessOfActor
}

/** What `projectAccess` answers (workspaces/access.server.ts), kept here to avoid an import cycle. */
export interface ProjectAccessOfActor {
  project: ApiKeyScope['project']
  team: ApiKeyScope['team']
  role: 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER' | null
  permissions: readonly Permission[]
}

/**
 * What an API key reaches, read with the key in one statement: its project, team and organization
 * and the project's rate-limit overrides. At most a few seconds old (API_CREDENTIAL_CACHE_SECONDS);
 * changes to any of them are announced on the invalidation bus.
 */
export interface ApiKeyScope {
  project: { id: string; teamId: string; name: string; slug: string; bucketId: string | null; createdAt: Date; updatedAt: Date }
  team: { id: string; organizationId: string; name: string; slug: string }
  organizationSlug: string
  rateLimitOverrides: RateLimitOverrides
  /** The tenant a tenant-scoped key is bound to (ADR 025); null for a key of the whole project. */
  tenant: { id: string; slug: string } | null
}

/** An API key: reaches its own project only, within its permissions. */
export interface ApiKeyActor extends RequestMeta {
  type: 'api-key'
  apiKeyId: string
  projectId: string
  permissions: Permission[]
  scope: ApiKeyScope
}

/** Who performs a service call. */
export type Actor = UserActor | ApiKeyActor

export const userActor = (userId: string, meta: RequestMeta): UserActor => ({ type: 'user', userId, ...meta })

/** The tenant a tenant-scoped API key is bound to, or null (users and project-wide keys). */
export const actorTenantId = (actor: Actor | null | undefined): string | null =>
  actor?.type === 'api-key' ? (actor.scope.tenant?.id ?? null) : null

/** The id recorded in audit entries for the actor. */
export const actorId = (actor: Actor) => (actor.type === 'user' ? actor.userId : actor.apiKeyId)
