import { EndpointRefused, assertEndpointAllowed, parseEndpointUrl } from '~/storage/endpoint-guard.server'
import { getConfig } from '~/utils/config.server'
import { sealSecret } from '~/utils/credentials.server'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, fieldConflict, notFound } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { recordEvent } from '../events/record-event.server'
import { isUniqueViolation } from '../db-errors.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { requireRole, teamAccess } from '../workspaces/access.server'
import { bucketAccess, mayWrite, requireEdit, requireManage, type BucketAccessLevel } from './bucket-access.server'
import { Prisma } from '~/generated/prisma/client'
import type { BucketPrices } from '../usage/prices'
import { bucketFields, toBucketView, type BucketView } from './bucket-view'
import {
  connectionProblems,
  defaultForcePathStyle,
  defaultRegion,
  type CreateBucketInput,
  type Provider,
  type ShareAccess,
  type UpdateBucketInput,
} from './schemas'

const nameTaken = () => fieldConflict('name', 'This team already has a bucket with this name')

function invalid(problems: { field: string; message: string }[]): AppError {
  const fieldErrors: Record<string, string[]> = {}
  for (const { field, message } of problems) (fieldErrors[field] ??= []).push(message)
  return new AppError('VALIDATION', problems[0]?.message ?? 'Invalid bucket', { fieldErrors })
}

/** The operator's endpoint policy, read at call time (tests and operators may change it). */
export const endpointPolicy = () => ({ allowPrivate: getConfig().STORAGE_ALLOW_PRIVATE_ENDPOINTS })

/**
 * The endpoint as stored (its origin), after the SSRF checks: the text (IP literals in any notation
 * the URL parser accepts), then every address its name resolves to. Refusals are a 400 on `endpoint`.
 */
async function checkedEndpoint(endpoint: string | undefined): Promise<string | null> {
  if (endpoint === undefined) return null
  const policy = endpointPolicy()
  try {
    const url = parseEndpointUrl(endpoint, policy)
    await assertEndpointAllowed(url, policy)
    return url.origin
  } catch (error) {
    if (error instanceof EndpointRefused) throw invalid([{ field: 'endpoint', message: error.message }])
    throw error
  }
}

const sealCredentials = (accessKeyId: string, secretAccessKey: string) => sealSecret(JSON.stringify({ accessKeyId, secretAccessKey }))
const hintOf = (accessKeyId: string) => accessKeyId.slice(-4)

/**
 * Local buckets share one directory tree: a directory name is taken once across all teams. The lock
 * (until the transaction ends) makes the check and the insert one step for concurrent callers.
 */
async function lockLocalName(tx: Transaction, bucketName: string) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`carcosa:local-bucket:${bucketName}`}))`
  const taken = await tx.bucket.count({ where: { provider: 'local', bucketName } })
  return taken > 0
}

function requireLocalEnabled() {
  if (!getConfig().STORAGE_LOCAL_ENABLED) {
    throw invalid([
      {
        field: 'provider',
        message: 'The local provider is disabled on this Carcosa (STORAGE_LOCAL_ENABLED=false); choose s3, r2 or s3-compatible',
      },
    ])
  }
}

/** A team's buckets: its own and those shared with it, each with the team's level. */
export async function listBuckets(actor: UserActor, teamId: string, page: PageQuery): Promise<Page<BucketView>> {
  await teamAccess(prisma, actor, teamId)
  const rows = await prisma.bucket.findMany({
    ...pageArgs(page, { OR: [{ teamId }, { shares: { some: { teamId } } }] }),
    select: { ...bucketFields, shares: { where: { teamId }, select: { access: true } } },
  })
  const views = rows.map(({ shares, ...row }) => toBucketView(row, row.teamId === teamId ? 'OWNER' : (shares[0]?.access ?? 'READ_ONLY')))
  return toPage(views, page)
}

/** The buckets a team's projects may store files in (owned, READ_WRITE or ADMIN), for pickers. */
export async function listWritableBuckets(actor: UserActor, teamId: string): Promise<BucketView[]> {
  await teamAccess(prisma, actor, teamId)
  const rows = await prisma.bucket.findMany({
    where: { OR: [{ teamId }, { shares: { some: { teamId, access: { in: ['READ_WRITE', 'ADMIN'] } } } }] },
    select: { ...bucketFields, shares: { where: { teamId }, select: { access: true } } },
    orderBy: { name: 'asc' },
    take: 200,
  })
  return rows.map(({ shares, ...row }) => toBucketView(row, row.teamId === teamId ? 'OWNER' : (shares[0]?.access ?? 'READ_ONLY')))
}

export async function getBucket(actor: UserActor, bucketId: string): Promise<BucketView & { canManage: boolean; canEdit: boolean }> {
  const access = await bucketAccess(prisma, actor, bucketId)
  const row = await prisma.bucket.findUniqueOrThrow({ where: { id: bucketId }, select: bucketFields })
  return { ...toBucketView(row, access.level), canManage: access.canManage, canEdit: access.canEdit }
}

/** Registers a bucket for a team; credentials are sealed before they reach the database. */
export async function createBucket(actor: UserActor, input: CreateBucketInput): Promise<BucketView> {
  const { team, role } = await teamAccess(prisma, actor, input.teamId)
  requireRole(role, 'ADMIN', 'register buckets for this team')
  const provider = input.provider
  if (provider === 'local') requireLocalEnabled()
  const endpoint = provider === 'local' ? null : await checkedEndpoint(input.endpoint)
  const credentials =
    provider === 'local' || !input.accessKeyId || !input.secretAccessKey ? null : await sealCredentials(input.accessKeyId, input.secretAccessKey)
  try {
    return await prisma.$transaction(async (tx) => {
      if (provider === 'local' && (await lockLocalName(tx, input.bucketName))) {
        throw fieldConflict('bucketName', 'Another local bucket already uses this directory name')
      }
      const row = await tx.bucket.create({
        data: {
          teamId: team.id,
          name: input.name,
          provider,
          bucketName: input.bucketName,
          region: provider === 'local' ? defaultRegion('local') : (input.region ?? defaultRegion(provider)),
          endpoint,
          forcePathStyle: provider === 'local' ? false : (input.forcePathStyle ?? defaultForcePathStyle(provider)),
          credentials,
          accessKeyHint: credentials && input.accessKeyId ? hintOf(input.accessKeyId) : null,
        },
        select: bucketFields,
      })
      await recordAudit(tx, actor, actor, {
        organizationId: team.organizationId,
        teamId: team.id,
        action: 'bucket.create',
        targetType: 'bucket',
        targetId: row.id,
        after: { ...auditConnection(row), credentials: credentials ? 'set' : 'none' },
      })
      return toBucketView(row, 'OWNER')
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken()
    throw error
  }
}

/** The connection fields an audit entry may show (never credentials). */
function auditConnection(row: {
  teamId: string
  name: string
  provider: string
  bucketName: string
  region: string
  endpoint: string | null
  forcePathStyle: boolean
}) {
  return {
    teamId: row.teamId,
    name: row.name,
    provider: row.provider,
    bucketName: row.bucketName,
    region: row.region,
    endpoint: row.endpoint,
    forcePathStyle: row.forcePathStyle,
  }
}

/**
 * Changes the name or the connection; new credentials (both keys) replace the old ones. The merged
 * result must still suit the provider. Allowed to the owning team's admins and to admins of a team
 * holding an ADMIN share.
 */
export async function updateBucket(actor: UserActor, bucketId: string, input: UpdateBucketInput): Promise<BucketView> {
  const access = await bucketAccess(prisma, actor, bucketId)
  requireEdit(access, 'change this bucket')
  const current = await prisma.bucket.findUniqueOrThrow({ where: { id: bucketId }, select: bucketFields })
  const provider = current.provider as Provider
  // Checked on the merged values: an update sending only new keys keeps the stored endpoint.
  const problems: { field: string; message: string }[] = connectionProblems(
    provider,
    { ...input, region: input.region ?? current.region, endpoint: input.endpoint ?? current.endpoint ?? undefined },
    { creating: false },
  ).filter(({ field }) => provider !== 'local' || (input as Record<string, unknown>)[field] !== undefined)
  if (provider === 'local') {
    if (input.region !== undefined) problems.push({ field: 'region', message: 'The local provider takes no region' })
    if (input.forcePathStyle !== undefined) problems.push({ field: 'forcePathStyle', message: 'The local provider takes no addressing style' })
  }
  if (problems.length > 0) throw invalid(problems)
  const endpoint = input.endpoint === undefined ? undefined : await checkedEndpoint(input.endpoint)
  const rotating = input.accessKeyId !== undefined && input.secretAccessKey !== undefined
  const credentials = rotating ? await sealCredentials(input.accessKeyId!, input.secretAccessKey!) : undefined
  try {
    return await prisma.$transaction(async (tx) => {
      const row = await tx.bucket.update({
        where: { id: bucketId },
        data: {
          name: input.name,
          region: input.region,
          endpoint,
          forcePathStyle: input.forcePathStyle,
          credentials,
          accessKeyHint: rotating ? hintOf(input.accessKeyId!) : undefined,
          // A changed connection has not been tested yet.
          ...(endpoint !== undefined || rotating || input.region !== undefined || input.forcePathStyle !== undefined
            ? { lastTestedAt: null, lastTestOk: null, lastTestReason: null }
            : {}),
        },
        select: bucketFields,
      })
      const before = auditConnection(current)
      const after = auditConnection(row)
      const changed = (Object.keys(after) as (keyof typeof after)[]).filter((key) => before[key] !== after[key])
      await recordAudit(tx, actor, actor, {
        organizationId: access.bucket.organizationId,
        teamId: access.bucket.teamId,
        action: 'bucket.update',
        targetType: 'bucket',
        targetId: bucketId,
        before: Object.fromEntries(changed.map((key) => [key, before[key]])),
        after: { ...Object.fromEntries(changed.map((key) => [key, after[key]])), ...(rotating ? { credentials: 'rotated' } : {}) },
      })
      // Webhooks are per project: every project storing its files here hears of it.
      const projects = await tx.project.findMany({ where: { bucketId }, select: { id: true } })
      for (const project of projects) {
        await recordEvent(tx, {
          type: 'bucket.updated',
          data: {
            projectId: project.id,
            bucket: { id: row.id, name: row.name, provider: row.provider, bucketName: row.bucketName },
            credentialsRotated: rotating,
          },
        })
      }
      return toBucketView(row, access.level)
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken()
    throw error
  }
}

/** Deletes a bucket's registration (never its objects); refused while projects or files use it. */
export async function deleteBucket(actor: UserActor, bucketId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const access = await bucketAccess(tx, actor, bucketId)
    requireManage(access, 'delete this bucket')
    const [projects, files] = await Promise.all([tx.project.count({ where: { bucketId } }), tx.file.count({ where: { bucketId } })])
    if (projects > 0) {
      throw new AppError('CONFLICT', `This bucket is used by ${projects} project${projects === 1 ? '' : 's'}; give them another bucket first.`)
    }
    if (files > 0) throw new AppError('CONFLICT', `${files} file${files === 1 ? '' : 's'} still live in this bucket; delete them first.`)
    const row = await tx.bucket.delete({ where: { id: bucketId }, select: bucketFields })
    await recordAudit(tx, actor, actor, {
      organizationId: access.bucket.organizationId,
      teamId: access.bucket.teamId,
      action: 'bucket.delete',
      targetType: 'bucket',
      targetId: bucketId,
      before: auditConnection(row),
    })
  })
}

export interface BucketShareView {
  teamId: string
  teamName: string
  teamSlug: string
  access: ShareAccess
  createdAt: Date
  updatedAt: Date
}

const shareFields = { teamId: true, access: true, createdAt: true, updatedAt: true, team: { select: { name: true, slug: true } } } as const
const toShareView = ({
  team,
  ...share
}: {
  teamId: string
  access: ShareAccess
  createdAt: Date
  updatedAt: Date
  team: { name: string; slug: string }
}): BucketShareView => ({
  ...share,
  teamName: team.name,
  teamSlug: team.slug,
})

/** The teams a bucket is shared with; visible to whoever sees the bucket. */
export async function listBucketShares(actor: UserActor, bucketId: string): Promise<{ items: BucketShareView[] }> {
  await bucketAccess(prisma, actor, bucketId)
  const shares = await prisma.bucketShare.findMany({ where: { bucketId }, select: shareFields, orderBy: { createdAt: 'asc' } })
  return { items: shares.map(toShareView) }
}

/** Another team of the same organization; anything else is "not found". */
async function sameOrganizationTeam(tx: Transaction, organizationId: string, teamId: string) {
  const team = await tx.team.findUnique({ where: { id: teamId }, select: { id: true, organizationId: true, name: true } })
  if (!team || team.organizationId !== organizationId) throw notFound('Team')
  return team
}

/** Shares a bucket with another team of its organization. Only the owning team's admins share. */
export async function shareBucket(actor: UserActor, bucketId: string, input: { teamId: string; access: ShareAccess }): Promise<BucketShareView> {
  return prisma.$transaction(async (tx) => {
    const access = await bucketAccess(tx, actor, bucketId)
    requireManage(access, 'share this bucket')
    const team = await sameOrganizationTeam(tx, access.bucket.organizationId, input.teamId)
    if (team.id === access.bucket.teamId) {
      throw new AppError('VALIDATION', 'A bucket cannot be shared with the team that owns it', {
        fieldErrors: { teamId: ['This team owns the bucket'] },
      })
    }
    const existing = await tx.bucketShare.count({ where: { bucketId, teamId: team.id } })
    if (existing > 0) throw fieldConflict('teamId', `The bucket is already shared with ${team.name}; change the share's access instead`)
    const share = await tx.bucketShare.create({ data: { bucketId, teamId: team.id, access: input.access }, select: shareFields })
    await recordAudit(tx, actor, actor, {
      organizationId: access.bucket.organizationId,
      teamId: access.bucket.teamId,
      action: 'bucket.share',
      targetType: 'bucket',
      targetId: bucketId,
      after: { teamId: team.id, access: input.access },
    })
    return toShareView(share)
  })
}

/** Refuses to take writing away from a team whose projects store files in the bucket. */
async function assertNotInUseBy(tx: Transaction, bucketId: string, teamId: string, what: string) {
  const projects = await tx.project.count({ where: { bucketId, teamId } })
  if (projects > 0) {
    throw new AppError(
      'CONFLICT',
      `${projects} project${projects === 1 ? '' : 's'} of this team store files in the bucket; ${what} after giving them another bucket.`,
    )
  }
}

async function existingShare(tx: Transaction, bucketId: string, teamId: string) {
  const share = await tx.bucketShare.findUnique({ where: { bucketId_teamId: { bucketId, teamId } }, select: shareFields })
  if (!share) throw notFound('Share')
  return share
}

export async function updateBucketShare(actor: UserActor, bucketId: string, teamId: string, level: ShareAccess): Promise<BucketShareView> {
  return prisma.$transaction(async (tx) => {
    const access = await bucketAccess(tx, actor, bucketId)
    requireManage(access, 'change who this bucket is shared with')
    const before = await existingShare(tx, bucketId, teamId)
    if (level === 'READ_ONLY' && mayWrite(before.access)) await assertNotInUseBy(tx, bucketId, teamId, 'make it read-only')
    const share = await tx.bucketShare.update({ where: { bucketId_teamId: { bucketId, teamId } }, data: { access: level }, select: shareFields })
    await recordAudit(tx, actor, actor, {
      organizationId: access.bucket.organizationId,
      teamId: access.bucket.teamId,
      action: 'bucket.share.update',
      targetType: 'bucket',
      targetId: bucketId,
      before: { teamId, access: before.access },
      after: { teamId, access: level },
    })
    return toShareView(share)
  })
}

export async function revokeBucketShare(actor: UserActor, bucketId: string, teamId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const access = await bucketAccess(tx, actor, bucketId)
    requireManage(access, 'change who this bucket is shared with')
    const before = await existingShare(tx, bucketId, teamId)
    await assertNotInUseBy(tx, bucketId, teamId, 'revoke the share')
    await tx.bucketShare.delete({ where: { bucketId_teamId: { bucketId, teamId } } })
    await recordAudit(tx, actor, actor, {
      organizationId: access.bucket.organizationId,
      teamId: access.bucket.teamId,
      action: 'bucket.share.revoke',
      targetType: 'bucket',
      targetId: bucketId,
      before: { teamId, access: before.access },
    })
  })
}

/** The directory of a team's default local bucket: unique, since team ids are. */
export const teamLocalBucketName = (teamId: string) => `team-${teamId.toLowerCase()}`
const LOCAL_BUCKET_DISPLAY_NAME = 'Local storage'

/**
 * The team's default local bucket, created on first need inside the caller's transaction (so a
 * project and its bucket appear together). Null when the local provider is disabled.
 */
export async function ensureTeamLocalBucket(
  tx: Transaction,
  actor: UserActor,
  team: { id: string; organizationId: string },
): Promise<string | null> {
  if (!getConfig().STORAGE_LOCAL_ENABLED) return null
  const bucketName = teamLocalBucketName(team.id)
  const find = () => tx.bucket.findFirst({ where: { teamId: team.id, provider: 'local', bucketName }, select: { id: true } })
  const existing = await find()
  if (existing) return existing.id
  if (await lockLocalName(tx, bucketName)) {
    // Created by a concurrent call after our first look (users cannot take the `team-` prefix).
    const created = await find()
    if (created) return created.id
    throw new AppError('CONFLICT', `The directory ${bucketName} is taken by another local bucket`)
  }
  // A bucket the team named "Local storage" itself keeps its name; ours then says whose it is.
  const nameTaken = (await tx.bucket.count({ where: { teamId: team.id, name: LOCAL_BUCKET_DISPLAY_NAME } })) > 0
  const row = await tx.bucket.create({
    data: {
      teamId: team.id,
      name: nameTaken ? `${LOCAL_BUCKET_DISPLAY_NAME} (${bucketName})` : LOCAL_BUCKET_DISPLAY_NAME,
      provider: 'local',
      bucketName,
      region: defaultRegion('local'),
    },
    select: bucketFields,
  })
  await recordAudit(tx, actor, actor, {
    organizationId: team.organizationId,
    teamId: team.id,
    action: 'bucket.create',
    targetType: 'bucket',
    targetId: row.id,
    after: { ...auditConnection(row), credentials: 'none', reason: "the team's default local storage" },
  })
  return row.id
}

export type { BucketAccessLevel }

/**
 * Sets the prices the team pays for a bucket (usage cost estimates use them instead of list
 * prices), or with null goes back to the provider's list prices. Same rights as editing the bucket;
 * audited with the old and new prices.
 */
export async function setBucketPrices(actor: UserActor, bucketId: string, prices: BucketPrices | null): Promise<BucketView> {
  const access = await bucketAccess(prisma, actor, bucketId)
  requireEdit(access, "set this bucket's prices")
  return prisma.$transaction(async (tx) => {
    const before = await tx.bucket.findUniqueOrThrow({ where: { id: bucketId }, select: { prices: true } })
    const row = await tx.bucket.update({ where: { id: bucketId }, data: { prices: prices ?? Prisma.DbNull }, select: bucketFields })
    await recordAudit(tx, actor, actor, {
      organizationId: access.bucket.organizationId,
      teamId: access.bucket.teamId,
      action: 'bucket.prices.update',
      targetType: 'bucket',
      targetId: bucketId,
      before: { prices: (before.prices ?? null) as Prisma.InputJsonValue },
      after: { prices: prices ?? null } as Prisma.InputJsonValue,
    })
    return toBucketView(row, access.level)
  })
}
