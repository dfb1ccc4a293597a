import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { remember } from '@epic-web/remember'
import { LRUCache } from 'lru-cache'
import { prisma, type Transaction } from '~/utils/db.server'
import { openSecret, sealSecret } from '~/utils/credentials.server'
import type { Actor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { canonicalQuery, SIGNATURE_PARAM, type TransformParams } from './params'

/**
 * Signed transform URLs (ADR 010): HMAC-SHA256, keyed by a per-project secret, over
 * `carcosa-transform-v1 \n <project id> \n <file path> \n <canonical query with exp>`.
 * The verifier rebuilds that text from the parsed request; it never cuts the signature out of the
 * URL it was given. At most two secrets are active, so one can be rotated in while URLs signed
 * with the other keep working.
 */

const SCHEME = 'carcosa-transform-v1'
export const MAX_ACTIVE_SECRETS = 2

export function canonicalString(projectId: string, path: string, params: TransformParams, expires: number): string {
  return `${SCHEME}\n${projectId}\n${path}\n${canonicalQuery(params, expires)}`
}

const hmac = (secret: Buffer, text: string) => createHmac('sha256', secret).update(text, 'utf8').digest()

/** The `sig` value for a canonical string: 32 bytes, base64url (43 characters). */
export const signatureFor = (secret: Buffer, text: string) => hmac(secret, text).toString('base64url')

/** Compares in constant time against every active secret (all are tried, whatever matches first). */
export function signatureMatches(secrets: Buffer[], text: string, signature: string): boolean {
  const given = Buffer.from(signature, 'base64url')
  let matched = false
  for (const secret of secrets) {
    const expected = hmac(secret, text)
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true
  }
  return matched
}

/** `/api/v1/transform/<project>/<path>?<canonical query>&exp=..&sig=..`, the path encoded per segment. */
export function transformUrl(baseUrl: string, projectId: string, path: string, query: string): string {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/')
  return `${baseUrl.replace(/\/$/, '')}/api/v1/transform/${encodeURIComponent(projectId)}/${encodedPath}${query ? `?${query}` : ''}`
}

// Opened secrets per project, so verifying a URL costs no database read or decryption. Rotation
// clears this instance's entry; other instances see a rotation within the TTL.
const SECRETS_TTL_MS = 30_000
const opened = remember(
  'carcosa.transform-secrets',
  () => new LRUCache<string, { id: string; secret: Buffer }[]>({ max: 10_000, ttl: SECRETS_TTL_MS }),
)

async function activeRows(db: Pick<Transaction, 'transformSigningSecret'>, projectId: string) {
  return db.transformSigningSecret.findMany({
    where: { projectId, revokedAt: null },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: MAX_ACTIVE_SECRETS,
    select: { id: true, secret: true, createdAt: true },
  })
}

/** The project's active secrets, newest first (empty when it never signed anything). */
export async function activeSecrets(projectId: string): Promise<{ id: string; secret: Buffer }[]> {
  const cached = opened.get(projectId)
  if (cached) return cached
  const rows = await activeRows(prisma, projectId)
  const secrets = await Promise.all(rows.map(async (row) => ({ id: row.id, secret: Buffer.from(await openSecret(row.secret), 'base64url') })))
  opened.set(projectId, secrets)
  return secrets
}

/** The opened secrets when this instance holds them, without reading the database (the host's fast path). */
export const cachedSecrets = (projectId: string): { id: string; secret: Buffer }[] | undefined => opened.get(projectId)

/** Test seam and rotation: forget the opened secrets of a project (all when omitted). */
export function forgetSecrets(projectId?: string) {
  if (projectId) opened.delete(projectId)
  else opened.clear()
}

/** Takes a transaction-scoped lock per project so two rotations (or first signings) do not interleave. */
const lockProject = (tx: Transaction, projectId: string) =>
  tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`transform-secrets:${projectId}`}))`

/**
 * Creates a new signing secret, keeps the previous newest one active (URLs it signed keep
 * working) and revokes anything older. Audited; the secret itself is never returned.
 */
async function addSecret(tx: Transaction, actor: Actor, organizationId: string, projectId: string, reason: 'create' | 'rotate') {
  const row = await tx.transformSigningSecret.create({
    data: { projectId, secret: await sealSecret(randomBytes(32).toString('base64url')) },
    select: { id: true, createdAt: true },
  })
  const keep = await activeRows(tx, projectId)
  const revoked = await tx.transformSigningSecret.updateMany({
    where: { projectId, revokedAt: null, id: { notIn: keep.map((k) => k.id) } },
    data: { revokedAt: new Date() },
  })
  await recordAudit(tx, actor, actor, {
    organizationId,
    projectId,
    action: reason === 'create' ? 'transform_secret.create' : 'transform_secret.rotate',
    targetType: 'project',
    targetId: projectId,
    after: { secretId: row.id, activeSecretIds: keep.map((k) => k.id), revokedCount: revoked.count },
  })
  return keep
}

export interface SecretSummary {
  id: string
  createdAt: Date
}

/** Rotates the project's signing secret (needs `admin`): the previous one stays valid, older ones stop. */
export async function rotateSigningSecret(actor: Actor, projectId: string): Promise<{ active: SecretSummary[]; rotatedAt: Date }> {
  const active = await prisma.$transaction(async (tx) => {
    const access = await projectAccess(tx, actor, projectId)
    requirePermission(access, 'admin', 'rotate the signing secret of this project')
    await lockProject(tx, projectId)
    return addSecret(tx, actor, access.team.organizationId, projectId, 'rotate')
  })
  forgetSecrets(projectId)
  return { active: active.map(({ id, createdAt }) => ({ id, createdAt })), rotatedAt: active[0]!.createdAt }
}

/** The active secrets' ids and ages, for the dashboard (never the secrets). */
export async function listSigningSecrets(actor: Actor, projectId: string): Promise<SecretSummary[]> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'transforms:read', 'read the transform settings of this project')
  return (await activeRows(prisma, projectId)).map(({ id, createdAt }) => ({ id, createdAt }))
}

/** The secret to sign with: the newest active one, made on first use (audited). */
export async function signingSecret(actor: Actor, organizationId: string, projectId: string): Promise<Buffer> {
  const existing = await activeSecrets(projectId)
  if (existing[0]) return existing[0].secret
  await prisma.$transaction(async (tx) => {
    await lockProject(tx, projectId)
    if ((await activeRows(tx, projectId)).length === 0) await addSecret(tx, actor, organizationId, projectId, 'create')
  })
  forgetSecrets(projectId)
  const created = (await activeSecrets(projectId))[0]
  if (!created) throw new Error('no signing secret after creating one')
  return created.secret
}

/** The query of a signed URL: the canonical parameters, then `exp`, then `sig` last. */
export function signedQuery(secret: Buffer, projectId: string, path: string, params: TransformParams, expires: number): string {
  const signature = signatureFor(secret, canonicalString(projectId, path, params, expires))
  const query = canonicalQuery(params, expires)
  // canonicalQuery already places exp among the sorted names; sig must come last.
  return `${query}&${SIGNATURE_PARAM}=${signature}`.replace(/^&/, '')
}
