import { createHash, randomBytes } from 'node:crypto'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, forbidden, notFound } from '~/utils/errors.server'
import { logger } from '~/utils/logger.server'
import type { RequestMeta } from '~/utils/request.server'
import type { Actor, ApiKeyActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { PERMISSIONS, missingPermissions, type Permission } from './permissions'
import type { CreateApiKeyInput, UpdateApiKeyInput } from './schemas'

export const API_KEY_PREFIX = 'ck_'
/** `ck_` + 32 random bytes in base64url (43 characters). */
const KEY_PATTERN = /^ck_[A-Za-z0-9_-]{43}$/
// lastUsedAt is refreshed at most this often, so authenticating a request is not a write.
export const LAST_USED_INTERVAL_MS = 60 * 1000

/** What anyone allowed to see a key may see: never the hash, only the prefix and last four characters. */
export interface PublicApiKey {
  id: string
  projectId: string
  name: string
  permissions: Permission[]
  displayKey: string
  createdAt: Date
  expiresAt: Date | null
  revokedAt: Date | null
  lastUsedAt: Date | null
  createdById: string | null
}

export type ApiKeyValidation =
  | { valid: false }
  | { valid: true; projectId: string; permissions: Permission[]; expiresAt: Date | null; name: string }

/** Keys are stored by the SHA-256 of the secret: a leaked table cannot be replayed. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex')

const rowFields = {
  id: true,
  projectId: true,
  name: true,
  prefix: true,
  lastFour: true,
  permissions: true,
  createdAt: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  createdById: true,
} as const

interface ApiKeyRow {
  id: string
  projectId: string
  name: string
  prefix: string
  lastFour: string
  permissions: string[]
  createdAt: Date
  expiresAt: Date | null
  revokedAt: Date | null
  lastUsedAt: Date | null
  createdById: string | null
}

const KNOWN = new Set<string>(PERMISSIONS)
/** Stored permissions, keeping only names this version knows (a removed permission grants nothing). */
const knownPermissions = (stored: string[]) => stored.filter((p): p is Permission => KNOWN.has(p))

function toPublic(row: ApiKeyRow): PublicApiKey {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    permissions: knownPermissions(row.permissions),
    displayKey: `${row.prefix}…${row.lastFour}`,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
    createdById: row.createdById,
  }
}

/** Refuses permissions the actor does not hold itself, naming them. */
function requireGrantable(access: ProjectAccess, requested: readonly Permission[], what: string) {
  const missing = missingPermissions(access.permissions, requested)
  if (missing.length === 0) return
  throw forbidden(`You cannot ${what} permissions you do not hold: ${missing.join(', ')}.`)
}

/** A key and the actor's access to its project; a key in a project the actor cannot see is "not found". */
async function keyWithAccess(db: Transaction, actor: Actor, apiKeyId: string) {
  const key = await db.apiKey.findUnique({ where: { id: apiKeyId }, select: rowFields })
  if (!key) throw notFound('API key')
  const access = await projectAccess(db, actor, key.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('API key') : error
  })
  return { key, access }
}

/**
 * Creates a key for a project and returns it with its secret, which is shown this once. The key can
 * carry only permissions its creator holds in the project (`admin` only from an admin).
 */
export async function createApiKey(actor: Actor, input: CreateApiKeyInput): Promise<{ apiKey: PublicApiKey; key: string }> {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url')
  const apiKey = await prisma.$transaction(async (tx) => {
    const access = await projectAccess(tx, actor, input.projectId)
    requirePermission(access, 'api-keys:write', 'create API keys in this project')
    requireGrantable(access, input.permissions, 'grant')
    const row = await tx.apiKey.create({
      data: {
        projectId: input.projectId,
        name: input.name,
        keyHash: hashApiKey(key),
        prefix: API_KEY_PREFIX,
        lastFour: key.slice(-4),
        permissions: input.permissions,
        expiresAt: input.expiresAt ?? null,
        // A key made by a key has no person behind it; the audit entry names the creating key.
        createdById: actor.type === 'user' ? actor.userId : null,
      },
      select: rowFields,
    })
    await recordAudit(tx, actor, actor, {
      organizationId: access.team.organizationId,
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: row.id,
      after: {
        projectId: row.projectId,
        name: row.name,
        permissions: row.permissions,
        expiresAt: row.expiresAt?.toISOString() ?? null,
        displayKey: `${row.prefix}…${row.lastFour}`,
      },
    })
    return toPublic(row)
  })
  return { apiKey, key }
}

/** The project's keys, revoked ones included, by id for a stable cursor. */
export async function listApiKeys(actor: Actor, projectId: string, page: PageQuery): Promise<Page<PublicApiKey>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'api-keys:read', 'list API keys of this project')
  const rows = await prisma.apiKey.findMany({ where: { projectId }, select: rowFields, ...pageArgs(page) })
  return toPage(rows.map(toPublic), page)
}

export async function getApiKey(actor: Actor, apiKeyId: string): Promise<PublicApiKey> {
  const { key, access } = await keyWithAccess(prisma, actor, apiKeyId)
  requirePermission(access, 'api-keys:read', 'read API keys of this project')
  return toPublic(key)
}

/**
 * Renames a key or replaces its permissions. The actor must hold every permission the key has now
 * and every one it is given: nobody changes a key more powerful than themselves.
 */
export async function updateApiKey(actor: Actor, apiKeyId: string, input: UpdateApiKeyInput): Promise<PublicApiKey> {
  return prisma.$transaction(async (tx) => {
    const { key, access } = await keyWithAccess(tx, actor, apiKeyId)
    requirePermission(access, 'api-keys:write', 'change API keys of this project')
    if (key.revokedAt) throw new AppError('CONFLICT', 'This API key is revoked and can no longer be changed')
    requireGrantable(access, knownPermissions(key.permissions), 'change a key that holds')
    if (input.permissions) requireGrantable(access, input.permissions, 'grant')
    const updated = await tx.apiKey.updateMany({
      where: { id: apiKeyId, revokedAt: null },
      data: { name: input.name, permissions: input.permissions },
    })
    if (updated.count === 0) throw new AppError('CONFLICT', 'This API key is revoked and can no longer be changed')
    const row = await tx.apiKey.findUniqueOrThrow({ where: { id: apiKeyId }, select: rowFields })
    await recordAudit(tx, actor, actor, {
      organizationId: access.team.organizationId,
      action: 'api_key.update',
      targetType: 'api_key',
      targetId: apiKeyId,
      before: { name: key.name, permissions: key.permissions },
      after: { name: row.name, permissions: row.permissions },
    })
    return toPublic(row)
  })
}

/** Revokes a key at once: the next request with it is refused. Revoking twice is a conflict. */
export async function revokeApiKey(actor: Actor, apiKeyId: string): Promise<PublicApiKey> {
  return prisma.$transaction(async (tx) => {
    const { key, access } = await keyWithAccess(tx, actor, apiKeyId)
    requirePermission(access, 'api-keys:delete', 'revoke API keys of this project')
    const revokedAt = new Date()
    const updated = await tx.apiKey.updateMany({ where: { id: apiKeyId, revokedAt: null }, data: { revokedAt } })
    if (updated.count === 0) throw new AppError('CONFLICT', 'This API key is already revoked')
    await recordAudit(tx, actor, actor, {
      organizationId: access.team.organizationId,
      action: 'api_key.revoke',
      targetType: 'api_key',
      targetId: apiKeyId,
      before: { name: key.name, permissions: key.permissions },
      after: { revokedAt: revokedAt.toISOString() },
    })
    return toPublic({ ...key, revokedAt })
  })
}

/** The stored key for a secret, or null when it is malformed, unknown, revoked or expired. */
async function findUsableKey(key: string) {
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) return null
  const row = await prisma.apiKey.findUnique({
    where: { keyHash: hashApiKey(key) },
    select: { id: true, projectId: true, name: true, permissions: true, expiresAt: true, revokedAt: true, lastUsedAt: true },
  })
  if (!row || row.revokedAt) return null
  if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) return null
  return row
}

/**
 * The actor for a bearer API key, or null. lastUsedAt is written at most once a minute per key (the
 * condition sits in the UPDATE, so instances racing on one key write once); a failed write is
 * logged and does not refuse the request.
 */
export async function authenticateApiKey(key: string, meta: RequestMeta): Promise<ApiKeyActor | null> {
  const row = await findUsableKey(key)
  if (!row) return null
  const now = Date.now()
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= LAST_USED_INTERVAL_MS) {
    const stale = new Date(now - LAST_USED_INTERVAL_MS)
    await prisma.apiKey
      .updateMany({
        where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: stale } }] },
        data: { lastUsedAt: new Date(now) },
      })
      .catch((error: unknown) => logger.warn({ err: error as Error, apiKeyId: row.id }, 'could not record API key use'))
  }
  return {
    type: 'api-key',
    apiKeyId: row.id,
    projectId: row.projectId,
    permissions: knownPermissions(row.permissions),
    ipAddress: meta.ipAddress,
    userAgent: meta.userAgent,
  }
}

/**
 * Whether a key is usable, and what it reaches. An invalid key (malformed, unknown, revoked or
 * expired) gets the same bare answer, so the response tells a guesser nothing. Does not count as use.
 */
export async function validateApiKey(key: string): Promise<ApiKeyValidation> {
  const row = await findUsableKey(key)
  if (!row) return { valid: false }
  return { valid: true, projectId: row.projectId, permissions: knownPermissions(row.permissions), expiresAt: row.expiresAt, name: row.name }
}
