import { remember } from '@epic-web/remember'
import { createHash, randomBytes } from 'node:crypto'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, forbidden, notFound } from '~/utils/errors.server'
import { getConfig } from '~/utils/config.server'
import { createInvalidatedCache } from '~/utils/invalidated-cache.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'
import type { RequestMeta } from '~/utils/request.server'
import { sql } from '~/utils/sql.server'
import type { Actor, ApiKeyActor, ApiKeyScope } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { recordEvent } from '../events/record-event.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { storedRateLimitOverrides } from '../settings/settings.server'
import { recordApiKeyUse } from './key-use.server'
import { PERMISSIONS, TENANT_KEY_PERMISSIONS, missingPermissions, type Permission } from './permissions'
import { requireTenantInProject } from '../tenants/tenants.server'
import type { CreateApiKeyInput, UpdateApiKeyInput } from './schemas'

export const API_KEY_PREFIX = 'ck_'
/** `ck_` + 32 random bytes in base64url (43 characters). */
const KEY_PATTERN = /^ck_[A-Za-z0-9_-]{43}$/

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
  /** The tenant a tenant-scoped key is bound to; null for a key of the whole project. */
  tenantId: string | null
}

export type ApiKeyValidation =
  { valid: false } | { valid: true; projectId: string; permissions: Permission[]; expiresAt: Date | null; name: string }

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
  tenantId: true,
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
  tenantId: string | null
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
    tenantId: row.tenantId,
  }
}

/** Refuses permissions the actor does not hold itself, naming them. */
function requireGrantable(access: ProjectAccess, requested: readonly Permission[], what: string) {
  const missing = missingPermissions(access.permissions, requested)
  if (missing.length === 0) return
  throw forbidden(`You cannot ${what} permissions you do not hold: ${missing.join(', ')}.`)
}

/** A tenant-scoped key stays within its tenant: nothing that reaches the whole project (ADR 025). */
function requireTenantKeyPermissions(permissions: readonly Permission[]) {
  const outside = permissions.filter((permission) => !TENANT_KEY_PERMISSIONS.includes(permission))
  if (outside.length === 0) return
  const message = `A tenant-scoped key can carry only ${TENANT_KEY_PERMISSIONS.join(', ')}; not ${outside.join(', ')}.`
  throw new AppError('VALIDATION', message, { fieldErrors: { permissions: [message] } })
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
    if (input.tenantId) {
      await requireTenantInProject(tx, input.projectId, input.tenantId)
      requireTenantKeyPermissions(input.permissions)
    }
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
        tenantId: input.tenantId ?? null,
      },
      select: rowFields,
    })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'api_key.create',
      targetType: 'api_key',
      targetId: row.id,
      after: {
        projectId: row.projectId,
        name: row.name,
        permissions: row.permissions,
        expiresAt: row.expiresAt?.toISOString() ?? null,
        displayKey: `${row.prefix}…${row.lastFour}`,
        tenantId: row.tenantId,
      },
    })
    await recordEvent(tx, {
      type: 'api_key.created',
      data: {
        projectId: row.projectId,
        apiKey: {
          id: row.id,
          name: row.name,
          displayKey: `${row.prefix}…${row.lastFour}`,
          permissions: row.permissions,
          expiresAt: row.expiresAt?.toISOString() ?? null,
        },
      },
    })
    return toPublic(row)
  })
  return { apiKey, key }
}

/** The project's keys, revoked ones included, by id for a stable cursor. */
export async function listApiKeys(
  actor: Actor,
  projectId: string,
  page: PageQuery,
  filters: { tenantId?: string } = {},
): Promise<Page<PublicApiKey>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'api-keys:read', 'list API keys of this project')
  const rows = await prisma.apiKey.findMany({
    select: rowFields,
    ...pageArgs(page, filters.tenantId ? { projectId, tenantId: filters.tenantId } : { projectId }),
  })
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
  const changed = await prisma.$transaction(async (tx) => {
    const { key, access } = await keyWithAccess(tx, actor, apiKeyId)
    requirePermission(access, 'api-keys:write', 'change API keys of this project')
    if (key.revokedAt) throw new AppError('CONFLICT', 'This API key is revoked and can no longer be changed')
    requireGrantable(access, knownPermissions(key.permissions), 'change a key that holds')
    if (input.permissions) requireGrantable(access, input.permissions, 'grant')
    if (key.tenantId && input.permissions) requireTenantKeyPermissions(input.permissions)
    const updated = await tx.apiKey.updateMany({
      where: { id: apiKeyId, revokedAt: null },
      data: { name: input.name, permissions: input.permissions },
    })
    if (updated.count === 0) throw new AppError('CONFLICT', 'This API key is revoked and can no longer be changed')
    const row = await tx.apiKey.findUniqueOrThrow({ where: { id: apiKeyId }, select: rowFields })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'api_key.update',
      targetType: 'api_key',
      targetId: apiKeyId,
      before: { name: key.name, permissions: key.permissions },
      after: { name: row.name, permissions: row.permissions },
    })
    return toPublic(row)
  })
  await publishInvalidation('api-key', apiKeyId)
  return changed
}

/** Revokes a key at once: the next request with it is refused. Revoking twice is a conflict. */
export async function revokeApiKey(actor: Actor, apiKeyId: string): Promise<PublicApiKey> {
  const revoked = await prisma.$transaction(async (tx) => {
    const { key, access } = await keyWithAccess(tx, actor, apiKeyId)
    requirePermission(access, 'api-keys:delete', 'revoke API keys of this project')
    const revokedAt = new Date()
    const updated = await tx.apiKey.updateMany({ where: { id: apiKeyId, revokedAt: null }, data: { revokedAt } })
    if (updated.count === 0) throw new AppError('CONFLICT', 'This API key is already revoked')
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'api_key.revoke',
      targetType: 'api_key',
      targetId: apiKeyId,
      before: { name: key.name, permissions: key.permissions },
      after: { revokedAt: revokedAt.toISOString() },
    })
    await recordEvent(tx, { type: 'api_key.revoked', data: { projectId: key.projectId, apiKeyId, name: key.name } })
    return toPublic({ ...key, revokedAt })
  })
  await publishInvalidation('api-key', apiKeyId)
  return revoked
}

interface ResolvedKey {
  id: string
  name: string
  permissions: Permission[]
  expiresAt: Date | null
  scope: ApiKeyScope
}

interface ResolvedKeyRow {
  id: string
  projectId: string
  name: string
  permissions: string[]
  expiresAt: Date | null
  revokedAt: Date | null
  teamId: string
  projectName: string
  projectSlug: string
  bucketId: string | null
  projectCreatedAt: Date
  projectUpdatedAt: Date
  rateLimitOverrides: unknown
  organizationId: string
  teamName: string
  teamSlug: string
  organizationSlug: string
  tenantId: string | null
  tenantSlug: string | null
}

// Everything authorization needs, in one statement: the key, its project (with the rate-limit
// overrides), team, organization and, for a tenant-scoped key, its tenant.
const RESOLVE_KEY_SQL = `
  SELECT k.id, k."projectId", k.name, k.permissions, k."expiresAt", k."revokedAt",
         p."teamId", p.name AS "projectName", p.slug AS "projectSlug", p."bucketId",
         p."createdAt" AS "projectCreatedAt", p."updatedAt" AS "projectUpdatedAt", p."rateLimitOverrides",
         t."organizationId", t.name AS "teamName", t.slug AS "teamSlug", o.slug AS "organizationSlug",
         k."tenantId", tn.slug AS "tenantSlug"
    FROM "ApiKey" k
    JOIN "Project" p ON p.id = k."projectId"
    JOIN "Team" t ON t.id = p."teamId"
    JOIN "Organization" o ON o.id = t."organizationId"
    LEFT JOIN "Tenant" tn ON tn.id = k."tenantId"
   WHERE k."keyHash" = $1`

// Resolved keys by hash, for API_CREDENTIAL_CACHE_SECONDS; revoking or changing a key, its project,
// team or organization forgets them on every instance (the invalidation bus).
const resolvedKeys = () =>
  remember('carcosa.resolved-api-keys', () =>
    createInvalidatedCache<ResolvedKey>({
      max: getConfig().API_CREDENTIAL_CACHE_MAX,
      ttlMs: getConfig().API_CREDENTIAL_CACHE_SECONDS * 1000,
      matches: (key, kind, id) =>
        (kind === 'api-key' && key.id === id) ||
        (kind === 'tenant' && key.scope.tenant?.id === id) ||
        (kind === 'project' && key.scope.project.id === id) ||
        (kind === 'team' && key.scope.team.id === id) ||
        (kind === 'organization' && key.scope.team.organizationId === id),
    }),
  )

async function loadKey(keyHash: string): Promise<ResolvedKey | null> {
  const [row] = await sql<ResolvedKeyRow>(RESOLVE_KEY_SQL, [keyHash])
  if (!row || row.revokedAt) return null
  return {
    id: row.id,
    name: row.name,
    permissions: knownPermissions(row.permissions),
    expiresAt: row.expiresAt,
    scope: {
      project: {
        id: row.projectId,
        teamId: row.teamId,
        name: row.projectName,
        slug: row.projectSlug,
        bucketId: row.bucketId,
        createdAt: row.projectCreatedAt,
        updatedAt: row.projectUpdatedAt,
      },
      team: { id: row.teamId, organizationId: row.organizationId, name: row.teamName, slug: row.teamSlug },
      organizationSlug: row.organizationSlug,
      rateLimitOverrides: storedRateLimitOverrides(row.rateLimitOverrides),
      tenant: row.tenantId ? { id: row.tenantId, slug: row.tenantSlug! } : null,
    },
  }
}

/** The key for a secret, or null when it is malformed, unknown, revoked or expired. */
async function findUsableKey(key: string): Promise<ResolvedKey | null> {
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) return null
  const keyHash = hashApiKey(key)
  const cache = resolvedKeys()
  const resolved = cache.get(keyHash) ?? (await cache.resolve(keyHash, () => loadKey(keyHash)))
  if (!resolved) return null
  // Checked on every use, cached or not: expiry takes effect to the millisecond.
  if (resolved.expiresAt && resolved.expiresAt.getTime() <= Date.now()) return null
  return resolved
}

/**
 * The actor for a bearer API key, or null. Usually answered from memory; `lastUsedAt` is written
 * in batches off the request path (key-use.server.ts).
 */
export async function authenticateApiKey(key: string, meta: RequestMeta): Promise<ApiKeyActor | null> {
  const resolved = await findUsableKey(key)
  if (!resolved) return null
  recordApiKeyUse(resolved.id)
  return {
    type: 'api-key',
    apiKeyId: resolved.id,
    projectId: resolved.scope.project.id,
    permissions: resolved.permissions,
    scope: resolved.scope,
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
  return { valid: true, projectId: row.scope.project.id, permissions: row.permissions, expiresAt: row.expiresAt, name: row.name }
}

/**
 * The actor of a stored key by its id, for work done later on its behalf (an upload's
 * reconciliation), with the key's hash (the upload callback secret derives from it). Null once the
 * key is revoked or expired: the work is not done in the name of a key that may no longer act.
 */
export async function apiKeyActorById(apiKeyId: string): Promise<{ actor: ApiKeyActor; keyHash: string } | null> {
  const row = await prisma.apiKey.findUnique({ where: { id: apiKeyId }, select: { keyHash: true } })
  if (!row) return null
  const resolved = await loadKey(row.keyHash)
  if (!resolved || (resolved.expiresAt && resolved.expiresAt.getTime() <= Date.now())) return null
  return {
    keyHash: row.keyHash,
    actor: {
      type: 'api-key',
      apiKeyId: resolved.id,
      projectId: resolved.scope.project.id,
      permissions: resolved.permissions,
      scope: resolved.scope,
      ipAddress: null,
      userAgent: null,
    },
  }
}
