import type { Prisma } from '~/generated/prisma/client'
import { prisma } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import type { Page } from '../pagination'
import { organizationRole, projectAccess, requirePermission, requireRole, teamAccess } from '../workspaces/access.server'
import type { AuditFilter, AuditListQuery, AuditVerifyQuery } from './schemas'
import { sealAuditChain } from './seal.server'

/** What a reader may see: a condition every query adds, and the organization chain it lies in (when one). */
export interface AuditReadScope {
  kind: 'project' | 'team' | 'organization' | 'organizations'
  where: Prisma.AuditLogWhereInput
  /** The chain to verify; null when the scope spans several organizations. */
  organizationId: string | null
}

/**
 * Resolves and authorizes whose entries a reader sees. API keys (with audit-logs:read) see their own
 * project's; users see a project's with audit-logs:read (every role has it), a team's as its admin
 * or owner, an organization's as its admin or owner, and with no scope named every organization
 * they administer. Anything else is "not found" or "forbidden", never an empty page.
 */
export async function resolveAuditScope(
  actor: Actor,
  query: Pick<AuditFilter, 'organizationId' | 'teamId' | 'projectId'>,
): Promise<AuditReadScope> {
  if (actor.type === 'api-key') {
    if (query.organizationId) throw notFound('Organization')
    if (query.teamId) throw notFound('Team')
  }
  if (query.organizationId && actor.type === 'user') {
    const role = await organizationRole(prisma, actor, query.organizationId)
    requireRole(role, 'ADMIN', "read this organization's audit log")
    return { kind: 'organization', where: { organizationId: query.organizationId }, organizationId: query.organizationId }
  }
  if (query.teamId && actor.type === 'user') {
    const { team, role } = await teamAccess(prisma, actor, query.teamId)
    requireRole(role, 'ADMIN', "read this team's audit log")
    return { kind: 'team', where: { teamId: team.id }, organizationId: team.organizationId }
  }
  const projectId = query.projectId ?? (actor.type === 'api-key' ? actor.projectId : undefined)
  if (projectId) {
    const access = await projectAccess(prisma, actor, projectId)
    requirePermission(access, 'audit-logs:read', "read this project's audit log")
    return { kind: 'project', where: { projectId }, organizationId: access.team.organizationId }
  }
  if (actor.type !== 'user') throw notFound('Project')
  const administered = await prisma.organizationMember.findMany({
    where: { userId: actor.userId, role: { in: ['OWNER', 'ADMIN'] } },
    select: { organizationId: true },
  })
  const ids = administered.map((member) => member.organizationId)
  return { kind: 'organizations', where: { organizationId: { in: ids } }, organizationId: ids.length === 1 ? ids[0]! : null }
}

/** The filters of a query as a Prisma condition, inside the reader's scope. */
export function filterWhere(
  scope: AuditReadScope,
  filter: Omit<AuditFilter, 'organizationId' | 'teamId' | 'projectId'>,
): Prisma.AuditLogWhereInput {
  const action = filter.action?.endsWith('.*') ? { startsWith: filter.action.slice(0, -1) } : filter.action
  return {
    ...scope.where,
    tenantId: filter.tenantId,
    actorId: filter.actorId,
    actorType: filter.actorType,
    action,
    targetType: filter.targetType,
    targetId: filter.targetId,
    ...(filter.from || filter.to ? { createdAt: { gte: filter.from, lt: filter.to } } : {}),
  }
}

const listSelect = {
  id: true,
  seq: true,
  organizationId: true,
  teamId: true,
  projectId: true,
  tenantId: true,
  actorType: true,
  actorId: true,
  ipAddress: true,
  userAgent: true,
  action: true,
  targetType: true,
  targetId: true,
  createdAt: true,
  prevHash: true,
  hash: true,
} as const

type ListRow = Prisma.AuditLogGetPayload<{ select: typeof listSelect }>

export interface AuditEntryView {
  id: string
  /** Position in the organization's chain (a string: it is a 64-bit number); null until sealed, moments after it was written (ADR 028). */
  seq: string | null
  organizationId: string | null
  teamId: string | null
  projectId: string | null
  tenantId: string | null
  actor: { type: string; id: string | null }
  ipAddress: string | null
  userAgent: string | null
  action: string
  target: { type: string; id: string | null }
  createdAt: Date
  prevHash: string
  hash: string
}

export interface AuditEntryDetail extends AuditEntryView {
  before: Prisma.JsonValue
  after: Prisma.JsonValue
}

const toView = ({ seq, actorType, actorId, targetType, targetId, ...row }: ListRow): AuditEntryView => ({
  ...row,
  seq: seq?.toString() ?? null,
  actor: { type: actorType, id: actorId },
  target: { type: targetType, id: targetId },
})

/**
 * Entries after `cursor` in newest-first order: (createdAt, id) below the cursor's. The redundant
 * `createdAt <= cursor` bounds the index scan; without it PostgreSQL reads from the newest entry down
 * to the cursor (a page 400,000 entries deep took 0.7 s instead of milliseconds).
 */
const olderThan = (cursor: { id: string; createdAt: Date }): Prisma.AuditLogWhereInput => ({
  createdAt: { lte: cursor.createdAt },
  OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }],
})

/** One page of entries, newest first, keyed by (createdAt, id) below the cursor's entry. */
export async function listAuditLogs(actor: Actor, query: AuditListQuery): Promise<Page<AuditEntryView>> {
  const scope = await resolveAuditScope(actor, query)
  const where = filterWhere(scope, query)
  let after: { id: string; createdAt: Date } | null = null
  if (query.cursor) {
    after = await prisma.auditLog.findFirst({ where: { AND: [scope.where, { id: query.cursor }] }, select: { id: true, createdAt: true } })
    // Pruning removes the oldest entries: a gone cursor had nothing left after it.
    if (!after) return { items: [], nextCursor: null }
  }
  const rows = await prisma.auditLog.findMany({
    where: after ? { AND: [where, olderThan(after)] } : where,
    select: listSelect,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  })
  const items = rows.slice(0, query.limit).map(toView)
  return { items, nextCursor: rows.length > query.limit ? items[items.length - 1]!.id : null }
}

/** One entry with its before and after state, if the reader's scope includes it. */
export async function getAuditLog(
  actor: Actor,
  entryId: string,
  query: Pick<AuditFilter, 'organizationId' | 'teamId' | 'projectId'> = {},
): Promise<AuditEntryDetail> {
  const row = await prisma.auditLog.findUnique({ where: { id: entryId }, select: { ...listSelect, before: true, after: true } })
  if (!row) throw notFound('Audit entry')
  // Without a scope named, the reader must be allowed the entry's own project, team or organization.
  const named = query.organizationId || query.teamId || query.projectId
  const own = row.projectId
    ? { projectId: row.projectId }
    : row.teamId
      ? { teamId: row.teamId }
      : row.organizationId
        ? { organizationId: row.organizationId }
        : null
  if (!named && !own) throw notFound('Audit entry')
  const scope = await resolveAuditScope(actor, named ? query : actor.type === 'api-key' ? {} : own!).catch((error: unknown) => {
    throw error instanceof AppError && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN') ? notFound('Audit entry') : error
  })
  const visible = await prisma.auditLog.count({ where: { AND: [scope.where, { id: entryId }] } })
  if (visible === 0) throw notFound('Audit entry')
  const { before, after, ...rest } = row
  return { ...toView(rest), before, after }
}

/** Every entry matching a filter, newest first, read in batches (exports stream them). */
export async function* streamAuditEntries(actor: Actor, filter: AuditFilter, batchSize = 500): AsyncGenerator<AuditEntryDetail> {
  const scope = await resolveAuditScope(actor, filter)
  const where = filterWhere(scope, filter)
  let after: { id: string; createdAt: Date } | null = null
  for (;;) {
    const rows: (ListRow & { before: Prisma.JsonValue; after: Prisma.JsonValue })[] = await prisma.auditLog.findMany({
      where: after ? { AND: [where, olderThan(after)] } : where,
      select: { ...listSelect, before: true, after: true },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: batchSize,
    })
    for (const { before, after: afterState, ...rest } of rows) yield { ...toView(rest), before, after: afterState }
    if (rows.length < batchSize) return
    const last = rows[rows.length - 1]!
    after = { id: last.id, createdAt: last.createdAt }
  }
}

/** Resolves the export's scope first, so a refused export answers 403/404 before any byte is sent. */
export async function authorizeAuditExport(actor: Actor, filter: AuditFilter) {
  await resolveAuditScope(actor, filter)
}

export type ChainBreak = 'hash_mismatch' | 'previous_hash_mismatch' | 'missing_entries' | 'missing_tail'

export interface ChainVerification {
  organizationId: string
  ok: boolean
  /** Entries checked (those left after pruning). */
  checked: number
  /** The last pruned entry, from which the remaining chain starts. */
  anchor: { seq: string; hash: string; writtenAt: Date | null; prunedCount: string; prunedAt: Date | null }
  lastSeq: string
  /** The first entry that does not verify, or null. `id` is given when the reader may see the entry. */
  firstBroken: { seq: string; id: string | null; reason: ChainBreak; detail: string } | null
}

const REASONS: Record<ChainBreak, string> = {
  hash_mismatch: "The entry's content no longer matches its hash: it was changed after it was written.",
  previous_hash_mismatch: 'The entry does not link to the entry before it: an earlier entry was changed, replaced or removed.',
  missing_entries: 'Entries are missing before this one: they were deleted from the middle of the chain.',
  missing_tail: 'The newest entries recorded by the chain head are missing: they were deleted.',
}

/**
 * Seals what was written so far, then walks an organization's chain from its anchor: every entry's hash must match its canonical form
 * (carcosa_audit_hash, ADR 024), link to the previous entry's hash and follow it by one; the last
 * must be the chain head's. Reports the first entry that fails.
 */
export async function verifyAuditChain(actor: Actor, query: AuditVerifyQuery): Promise<ChainVerification> {
  const scope = await resolveAuditScope(actor, query)
  const organizationId = scope.organizationId
  if (!organizationId) {
    throw new AppError('VALIDATION', 'Name the organization whose chain to verify', {
      fieldErrors: { organizationId: ['Required: you administer several organizations'] },
    })
  }
  // Everything written until now joins the chain first (ADR 028); then head and entries are read
  // from one snapshot, so a sealing meanwhile cannot look like a missing or extra entry.
  await sealAuditChain(organizationId)
  const { head, found, tail, visible } = await prisma.$transaction(
    async (tx) => {
      const head = await tx.auditChain.findUnique({ where: { key: organizationId } })
      const anchorHash = head?.anchorHash ?? '0'.repeat(64)
      const [found] = await tx.$queryRaw<{ id: string; seq: bigint; reason: ChainBreak }[]>`
        SELECT id, seq, CASE
            WHEN seq <> coalesce(previous_seq, ${head?.anchorSeq ?? 0n}) + 1 THEN 'missing_entries'
            WHEN "prevHash" <> coalesce(previous_hash, ${anchorHash}) THEN 'previous_hash_mismatch'
            ELSE 'hash_mismatch' END AS reason
        FROM (
          SELECT a.id, a.seq, a."prevHash", a.hash, carcosa_audit_hash(a) AS computed,
                 lag(a.seq) OVER w AS previous_seq, lag(a.hash) OVER w AS previous_hash
          FROM "AuditLog" a WHERE a."chainKey" = ${organizationId} AND a.seq IS NOT NULL
          WINDOW w AS (ORDER BY a.seq)
        ) chain
        WHERE seq <> coalesce(previous_seq, ${head?.anchorSeq ?? 0n}) + 1
           OR "prevHash" <> coalesce(previous_hash, ${anchorHash})
           OR hash <> computed
        ORDER BY seq
        LIMIT 1`
      const [tail] = await tx.$queryRaw<{ checked: bigint; last_seq: bigint | null; last_hash: string | null }[]>`
        SELECT count(*) AS checked, max(seq) AS last_seq,
               (SELECT hash FROM "AuditLog" WHERE "chainKey" = ${organizationId} AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last_hash
        FROM "AuditLog" WHERE "chainKey" = ${organizationId} AND seq IS NOT NULL`
      const visible = found ? (await tx.auditLog.count({ where: { AND: [scope.where, { id: found.id }] } })) > 0 : false
      return { head, found, tail, visible }
    },
    { isolationLevel: 'RepeatableRead' },
  )
  const anchor = {
    seq: (head?.anchorSeq ?? 0n).toString(),
    hash: head?.anchorHash ?? '0'.repeat(64),
    writtenAt: head?.anchorAt ?? null,
    prunedCount: (head?.prunedCount ?? 0n).toString(),
    prunedAt: head?.prunedAt ?? null,
  }
  let firstBroken: ChainVerification['firstBroken'] = null
  if (found) {
    firstBroken = { seq: found.seq.toString(), id: visible ? found.id : null, reason: found.reason, detail: REASONS[found.reason] }
  } else if (head && (tail?.last_seq ?? head.anchorSeq) !== head.lastSeq) {
    firstBroken = { seq: ((tail?.last_seq ?? head.anchorSeq) + 1n).toString(), id: null, reason: 'missing_tail', detail: REASONS.missing_tail }
  } else if (head && tail?.last_hash && tail.last_hash !== head.lastHash) {
    firstBroken = { seq: head.lastSeq.toString(), id: null, reason: 'hash_mismatch', detail: REASONS.hash_mismatch }
  }
  return {
    organizationId,
    ok: firstBroken === null,
    checked: Number(tail?.checked ?? 0n),
    anchor,
    lastSeq: (head?.lastSeq ?? 0n).toString(),
    firstBroken,
  }
}
