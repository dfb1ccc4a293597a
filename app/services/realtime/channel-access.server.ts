import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import { actorTenantId, type Actor } from '../actor'
import { hasPermission } from '../api-keys/permissions'
import { projectAccess } from '../workspaces/access.server'
import type { RealtimeChannel } from './channels'
import type { RealtimeTokenScope } from './realtime-tokens.server'

/** Who holds a realtime connection: an actor (API key, user token, dashboard session) or a realtime token's scope. */
export type RealtimePrincipal = { kind: 'actor'; actor: Actor } | { kind: 'token'; scope: RealtimeTokenScope }

/**
 * Whether the principal may hear a channel: a project's events need `files:read` there; an upload's
 * progress needs `files:read` or `files:write` in its project. A token reaches its own project only,
 * and only the uploads it names when it names some. False for a missing channel too: the caller
 * cannot tell "not yours" from "does not exist".
 */
export async function canSubscribe(principal: RealtimePrincipal, channel: RealtimeChannel): Promise<boolean> {
  const upload =
    channel.kind === 'upload' ? await prisma.upload.findUnique({ where: { id: channel.id }, select: { projectId: true, tenantId: true } }) : null
  const projectId = channel.kind === 'project' ? channel.id : upload?.projectId
  if (!projectId) return false
  if (principal.kind === 'token') {
    const { scope } = principal
    if (scope.projectId !== projectId) return false
    if (channel.kind === 'project') return scope.uploadIds === null
    return scope.uploadIds === null || scope.uploadIds.includes(channel.id)
  }
  // A tenant-scoped key hears its tenant's uploads only, never the project's channel.
  const keyTenant = actorTenantId(principal.actor)
  if (keyTenant && (channel.kind === 'project' || upload?.tenantId !== keyTenant)) return false
  try {
    const { permissions } = await projectAccess(prisma, principal.actor, projectId)
    return hasPermission(permissions, 'files:read') || (channel.kind === 'upload' && hasPermission(permissions, 'files:write'))
  } catch (error) {
    if (error instanceof AppError && error.code === 'NOT_FOUND') return false
    throw error
  }
}
