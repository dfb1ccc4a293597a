import { createHmac, timingSafeEqual } from 'node:crypto'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import { actorId, actorTenantId, type Actor } from '../actor'
import { hasPermission } from '../api-keys/permissions'
import { projectOfCall } from '../project-scope.server'
import { projectAccess } from '../workspaces/access.server'
import type { CreateRealtimeTokenInput } from './schemas'

export const REALTIME_TOKEN_PREFIX = 'crt_'

/** What a realtime token lets its holder subscribe to. */
export interface RealtimeTokenScope {
  projectId: string
  /** Only these uploads' channels; null: the project's channel and any of its uploads. */
  uploadIds: string[] | null
  expiresAt: Date
}

interface Payload {
  v: 1
  /** project id */
  p: string
  /** upload ids, when restricted */
  u?: string[]
  /** who minted it (audit and logs only) */
  s: string
  /** expiry, Unix seconds */
  e: number
}

let signingKey: Buffer | undefined
/** Derived from SESSION_SECRET under its own label, so a token's MAC can never pass for a cookie's. */
function key() {
  signingKey ??= createHmac('sha256', getConfig().SESSION_SECRET).update('carcosa realtime token v1').digest()
  return signingKey
}

const mac = (body: string) => createHmac('sha256', key()).update(body).digest('base64url')

/**
 * Mints a short-lived token for a browser's WebSocket (the application's server asks with its API
 * key or a user token; the key never reaches the browser). A project-wide token needs `files:read`;
 * one restricted to uploads also accepts `files:write` (the uploader watching its own uploads) for
 * users; the REST operation asks an API key for `files:read` (one permission per operation).
 * Uploads must belong to the project. Stateless: it is checked when a connection opens.
 */
export async function createRealtimeToken(actor: Actor, input: CreateRealtimeTokenInput): Promise<{ token: string } & RealtimeTokenScope> {
  const projectId = projectOfCall(actor, input.projectId)
  const access = await projectAccess(prisma, actor, projectId)
  const uploadIds = input.uploadIds ? [...new Set(input.uploadIds)] : null
  const allowed = hasPermission(access.permissions, 'files:read') || (uploadIds !== null && hasPermission(access.permissions, 'files:write'))
  if (!allowed) {
    const needed = uploadIds ? 'files:read or files:write' : 'files:read'
    throw new AppError(
      'FORBIDDEN',
      access.role
        ? `Your role ${access.role} cannot watch this project's files.`
        : `This API key lacks ${needed}, needed for this realtime token.`,
    )
  }
  // A project's channel carries every tenant's events: a tenant-scoped key watches its own uploads only.
  const keyTenant = actorTenantId(actor)
  if (keyTenant && !uploadIds)
    throw new AppError('FORBIDDEN', "A tenant-scoped key can watch only its tenant's uploads: name them in uploadIds.")
  if (uploadIds) {
    const found = await prisma.upload.count({ where: { id: { in: uploadIds }, projectId, ...(keyTenant ? { tenantId: keyTenant } : {}) } })
    if (found !== uploadIds.length) throw notFound('Upload')
  }
  const expiresAt = new Date(Math.floor(Date.now() / 1000 + getConfig().REALTIME_TOKEN_TTL_SECONDS) * 1000)
  const scope = { projectId, uploadIds, expiresAt }
  return { token: signRealtimeToken(scope, `${actor.type}:${actorId(actor)}`), ...scope }
}

/** The token for a scope already authorized (`subject` names who asked, for the record). */
export function signRealtimeToken(scope: RealtimeTokenScope, subject: string): string {
  const payload: Payload = {
    v: 1,
    p: scope.projectId,
    ...(scope.uploadIds ? { u: scope.uploadIds } : {}),
    s: subject,
    e: Math.floor(scope.expiresAt.getTime() / 1000),
  }
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  return `${REALTIME_TOKEN_PREFIX}${body}.${mac(body)}`
}

/** The token's scope when its signature holds and it has not expired; null otherwise (never says which). */
export function verifyRealtimeToken(token: string, now = Date.now()): RealtimeTokenScope | null {
  if (!token.startsWith(REALTIME_TOKEN_PREFIX) || token.length > 4096) return null
  const [body, signature, extra] = token.slice(REALTIME_TOKEN_PREFIX.length).split('.')
  if (!body || !signature || extra !== undefined) return null
  const expected = Buffer.from(mac(body))
  const given = Buffer.from(signature)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  let payload: Payload
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload
  } catch {
    return null
  }
  if (payload.v !== 1 || typeof payload.p !== 'string' || typeof payload.e !== 'number' || payload.e * 1000 <= now) return null
  const uploadIds = Array.isArray(payload.u) ? payload.u.filter((id): id is string => typeof id === 'string') : null
  return { projectId: payload.p, uploadIds, expiresAt: new Date(payload.e * 1000) }
}
