import type { Prisma } from '~/generated/prisma/client'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, fieldConflict, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { recordEvent } from '../events/record-event.server'
import { isUniqueViolation } from '../db-errors.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'
import { sql } from '~/utils/sql.server'
import { actorTenantId } from '../actor'
import { EFFECTIVE_LIMIT_COLUMNS, effectiveLimits, limitColumns, limitsOfRow, type Limits } from './limits'
import { checkStoredQuota, hourWindow } from './quota.server'
import type { CreateTenantInput, TenantFilters, TenantMetadata, UpdateTenantInput } from './schemas'
import { requireTenantWritable, statusName, statusOfName, type TenantStatusName, type TenantStatusValue } from './tenant-status.server'

export interface TenantUsage {
  storedBytes: number
  fileCount: number
  /** Declared bytes and files of uploads still pending (reserved against the quotas). */
  reservedBytes: number
  reservedFiles: number
  /** Upload starts in the current clock hour (UTC). */
  uploadsThisHour: number
}

export interface TenantView {
  id: string
  projectId: string
  slug: string
  name: string
  metadata: TenantMetadata
  status: TenantStatusName
  plan: { id: string; name: string } | null
  /** The tenant's own overrides (null: the plan's value). */
  limits: Limits
  /** What is enforced: each override, else the plan's limit; null is unlimited. */
  effectiveLimits: Limits
  usage: TenantUsage
  createdAt: Date
  updatedAt: Date
}

const limitSelect = { maxStoredBytes: true, maxFiles: true, maxFileBytes: true, maxUploadsPerHour: true, maxTransformsPerHour: true } as const

export const tenantSelect = {
  id: true,
  projectId: true,
  slug: true,
  name: true,
  metadata: true,
  status: true,
  createdAt: true,
  updatedAt: true,
  ...limitSelect,
  storedBytes: true,
  fileCount: true,
  reservedBytes: true,
  reservedFiles: true,
  uploadsHour: true,
  uploadsInHour: true,
  plan: { select: { id: true, name: true, ...limitSelect } },
} as const

type TenantRow = Prisma.TenantGetPayload<{ select: typeof tenantSelect }>

export function toTenantView(row: TenantRow, now = new Date()): TenantView {
  const limits = limitsOfRow(row)
  return {
    id: row.id,
    projectId: row.projectId,
    slug: row.slug,
    name: row.name,
    metadata: (row.metadata ?? {}) as TenantMetadata,
    status: statusName(row.status),
    plan: row.plan ? { id: row.plan.id, name: row.plan.name } : null,
    limits,
    effectiveLimits: effectiveLimits(row.plan ? limitsOfRow(row.plan) : null, limits),
    usage: {
      storedBytes: Number(row.storedBytes),
      fileCount: row.fileCount,
      reservedBytes: Number(row.reservedBytes),
      reservedFiles: row.reservedFiles,
      uploadsThisHour: row.uploadsHour && hourWindow(row.uploadsHour) === hourWindow(now) ? row.uploadsInHour : 0,
    },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}
const toView = (row: TenantRow) => toTenantView(row)

const tenantData = (row: TenantRow) => ({ id: row.id, slug: row.slug, name: row.name, metadata: (row.metadata ?? {}) as TenantMetadata })

const slugTaken = () => fieldConflict('slug', 'This slug is already taken by another tenant in this project')

/** A tenant and the actor's access to its project; a tenant of a project the actor cannot see is "not found". */
async function tenantWithAccess(db: Transaction, actor: Actor, tenantId: string) {
  const tenant = await db.tenant.findUnique({ where: { id: tenantId }, select: tenantSelect })
  if (!tenant) throw notFound('Tenant')
  const access = await projectAccess(db, actor, tenant.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Tenant') : error
  })
  return { tenant, access }
}

/**
 * Checks that `tenantId` is a tenant of `projectId` (for listings and uploads scoped to one); a
 * tenant of another project is "not found", as if it did not exist.
 */
export async function requireTenantInProject(db: Pick<Transaction, 'tenant'>, projectId: string, tenantId: string) {
  const tenant = await db.tenant.findFirst({ where: { id: tenantId, projectId }, select: { id: true, slug: true, name: true } })
  if (!tenant) throw notFound('Tenant')
  return tenant
}

/**
 * The tenant a streamed upload goes to (its form names it after the project was authorized): a
 * tenant-scoped key's own when none is named, never another; refused unless active. With its limits.
 */
export async function tenantForUpload(actor: Actor, projectId: string, tenantId: string | undefined) {
  const keyTenant = actorTenantId(actor)
  const id = tenantId ?? keyTenant
  if (!id) return null
  if (keyTenant && id !== keyTenant) throw notFound('Tenant')
  const [row] = await sql<{ id: string; slug: string; name: string; status: TenantStatusValue } & Parameters<typeof limitsOfRow>[0]>(
    `SELECT tn.id, tn.slug, tn.name, tn.status, ${EFFECTIVE_LIMIT_COLUMNS}
       FROM "Tenant" tn LEFT JOIN "Plan" pl ON pl.id = tn."planId" WHERE tn.id = $1 AND tn."projectId" = $2`,
    [id, projectId],
  )
  if (!row) throw notFound('Tenant')
  requireTenantWritable(row, 'upload files to it')
  return { id: row.id, slug: row.slug, name: row.name, limits: limitsOfRow(row) }
}

/** A tenant's slug, name and status as the API writes them (audit before/after). */
const auditState = (row: TenantRow) => ({
  projectId: row.projectId,
  slug: row.slug,
  name: row.name,
  metadata: row.metadata as Prisma.InputJsonValue,
  status: statusName(row.status),
  planId: row.plan?.id ?? null,
  limits: limitsOfRow(row),
})

/**
 * A project's tenants by id, each with its plan, limits and usage (files and bytes from counters,
 * never a scan of files). `slug` finds one exactly; `search` matches part of a name or slug.
 */
export async function listTenants(actor: Actor, projectId: string, page: PageQuery, filters: TenantFilters = {}): Promise<Page<TenantView>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'list the tenants of this project')
  const where: Prisma.TenantWhereInput = { projectId }
  if (filters.slug) where.slug = filters.slug
  if (filters.status) where.status = statusOfName(filters.status)
  if (filters.search) {
    where.OR = [{ name: { contains: filters.search, mode: 'insensitive' } }, { slug: { contains: filters.search, mode: 'insensitive' } }]
  }
  const rows = await prisma.tenant.findMany({ select: tenantSelect, ...pageArgs(page, where) })
  return toPage(rows.map(toView), page)
}

export interface TenantName {
  id: string
  slug: string
  name: string
}

/**
 * The first tenants of a project by id, names only (the files page's tenant filter, on every load):
 * the same access as `listTenants`, in one hand-written statement.
 */
export async function listTenantNames(actor: Actor, projectId: string, { limit }: Pick<PageQuery, 'limit'>): Promise<TenantName[]> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'list the tenants of this project')
  return sql<TenantName>('SELECT id, slug, name FROM "Tenant" WHERE "projectId" = $1 ORDER BY id LIMIT $2', [projectId, limit])
}

export async function getTenant(actor: Actor, tenantId: string, options: { projectId?: string } = {}): Promise<TenantView> {
  const { tenant, access } = await tenantWithAccess(prisma, actor, tenantId)
  if (options.projectId && tenant.projectId !== options.projectId) throw notFound('Tenant')
  requirePermission(access, 'projects:read', 'read the tenants of this project')
  return toView(tenant)
}

/** A plan id given for a tenant must name a plan of the tenant's project. */
async function requirePlanInProject(db: Transaction, projectId: string, planId: string | null | undefined) {
  if (!planId) return
  const plan = await db.plan.findFirst({ where: { id: planId, projectId }, select: { id: true } })
  if (!plan)
    throw new AppError('VALIDATION', 'There is no such plan in this project', {
      fieldErrors: { planId: ['There is no such plan in this project'] },
    })
}

/** Creates a tenant inside the caller's transaction (the import's too); the caller has checked access. */
export async function insertTenant(
  tx: Transaction,
  actor: Actor,
  access: ProjectAccess,
  input: CreateTenantInput & { projectId: string },
): Promise<TenantView> {
  await requirePlanInProject(tx, input.projectId, input.planId)
  const row = await tx.tenant.create({
    data: {
      projectId: input.projectId,
      slug: input.slug,
      name: input.name,
      metadata: (input.metadata ?? {}) as Prisma.InputJsonObject,
      status: input.status ? statusOfName(input.status) : undefined,
      planId: input.planId ?? null,
      ...limitColumns(input.limits ?? {}),
    },
    select: tenantSelect,
  })
  await audit(tx, actor, access, 'tenant.create', row.id, { after: auditState(row) })
  await recordEvent(tx, { type: 'tenant.created', data: { projectId: row.projectId, tenant: tenantData(row) } })
  return toView(row)
}

export async function createTenant(actor: Actor, input: CreateTenantInput & { projectId: string }): Promise<TenantView> {
  try {
    return await prisma.$transaction(async (tx) => {
      const access = await projectAccess(tx, actor, input.projectId)
      requirePermission(access, 'tenants:manage', 'create tenants in this project')
      return insertTenant(tx, actor, access, input)
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

const STATUS_EVENTS = { active: 'tenant.activated', suspended: 'tenant.suspended', archived: 'tenant.archived' } as const

/**
 * Changes a tenant inside the caller's transaction: audited once, with `tenant.updated` for a
 * rename, metadata, plan or limits, and `tenant.suspended` / `tenant.archived` / `tenant.activated`
 * for a status change. Returns whether the status changed (the caller invalidates caches after commit).
 */
export async function changeTenant(tx: Transaction, actor: Actor, access: ProjectAccess, before: TenantRow, input: UpdateTenantInput) {
  if (input.planId !== undefined) await requirePlanInProject(tx, before.projectId, input.planId)
  const row = await tx.tenant.update({
    where: { id: before.id },
    data: {
      name: input.name,
      metadata: input.metadata as Prisma.InputJsonObject | undefined,
      status: input.status ? statusOfName(input.status) : undefined,
      planId: input.planId,
      ...limitColumns(input.limits ?? {}),
    },
    select: tenantSelect,
  })
  const previous = auditState(before)
  const next = auditState(row)
  // The entry records name and metadata, and whatever else was sent: before and after.
  const sent = new Set<keyof UpdateTenantInput>([
    'name',
    'metadata',
    ...(Object.keys(input) as Array<keyof UpdateTenantInput>).filter((key) => input[key] !== undefined),
  ])
  const pick = (state: typeof previous) => Object.fromEntries([...sent].map((key) => [key, state[key]])) as Prisma.InputJsonObject
  await audit(tx, actor, access, input.status && input.status !== previous.status ? 'tenant.status' : 'tenant.update', before.id, {
    before: pick(previous),
    after: pick(next),
  })
  const statusChanged = next.status !== previous.status
  const { status: _before, ...restBefore } = previous
  const { status: _after, ...restAfter } = next
  if (JSON.stringify(restBefore) !== JSON.stringify(restAfter)) {
    await recordEvent(tx, { type: 'tenant.updated', data: { projectId: row.projectId, tenant: tenantData(row) } })
  }
  if (statusChanged) {
    await recordEvent(tx, {
      type: STATUS_EVENTS[next.status],
      data: {
        projectId: row.projectId,
        tenant: { id: row.id, slug: row.slug, name: row.name, status: next.status, previousStatus: previous.status },
      },
    })
  }
  return {
    view: toView(row),
    statusChanged,
    limitsChanged: JSON.stringify(previous.limits) !== JSON.stringify(next.limits) || previous.planId !== next.planId,
  }
}

/** After a tenant change commits: caches that answer without the database forget it, quota levels follow new limits. */
export async function afterTenantChange(tenantId: string, change: { statusChanged: boolean; limitsChanged: boolean }) {
  if (change.statusChanged) await publishInvalidation('tenant', tenantId)
  if (change.limitsChanged) await checkStoredQuota(tenantId)
}

/** Renames a tenant, replaces its metadata, changes its status, plan or limits; a field left out keeps its value. */
export async function updateTenant(
  actor: Actor,
  tenantId: string,
  input: UpdateTenantInput,
  options: { projectId?: string } = {},
): Promise<TenantView> {
  const change = await prisma.$transaction(async (tx) => {
    const { tenant, access } = await tenantWithAccess(tx, actor, tenantId)
    if (options.projectId && tenant.projectId !== options.projectId) throw notFound('Tenant')
    requirePermission(access, 'tenants:manage', 'change tenants of this project')
    await tx.$queryRaw`SELECT id FROM "Tenant" WHERE id = ${tenantId} FOR UPDATE`
    const current = await tx.tenant.findUniqueOrThrow({ where: { id: tenantId }, select: tenantSelect })
    return changeTenant(tx, actor, access, current, input)
  })
  await afterTenantChange(tenantId, change)
  return change.view
}

/**
 * Deletes a tenant that has no files and no upload in progress (deleting it would otherwise drop
 * file rows whose objects stay in the bucket). The row is locked first, so a file completing at the
 * same moment is either counted here or refused by its foreign key.
 */
export async function deleteTenant(actor: Actor, tenantId: string, options: { projectId?: string } = {}): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { tenant, access } = await tenantWithAccess(tx, actor, tenantId)
    if (options.projectId && tenant.projectId !== options.projectId) throw notFound('Tenant')
    requirePermission(access, 'tenants:manage', 'delete tenants of this project')
    await tx.$queryRaw`SELECT id FROM "Tenant" WHERE id = ${tenantId} FOR UPDATE`
    const [files, uploads] = await Promise.all([
      tx.file.count({ where: { tenantId } }),
      tx.upload.count({ where: { tenantId, status: 'PENDING' } }),
    ])
    if (files > 0) {
      throw new AppError('CONFLICT', `Tenant ${tenant.slug} still has ${files} file${files === 1 ? '' : 's'}; delete them first.`)
    }
    if (uploads > 0) {
      throw new AppError(
        'CONFLICT',
        `Tenant ${tenant.slug} has ${uploads} upload${uploads === 1 ? '' : 's'} in progress; let them finish or expire first.`,
      )
    }
    await tx.tenant.delete({ where: { id: tenantId } })
    await audit(tx, actor, access, 'tenant.delete', tenantId, { before: auditState(tenant) })
    await recordEvent(tx, { type: 'tenant.deleted', data: { projectId: tenant.projectId, tenantId, slug: tenant.slug } })
  })
  // Its tenant-scoped keys went with it.
  await publishInvalidation('tenant', tenantId)
}

function audit(
  tx: Transaction,
  actor: Actor,
  access: ProjectAccess,
  action: string,
  tenantId: string,
  change: { before?: Prisma.InputJsonValue; after?: Prisma.InputJsonValue },
) {
  return recordAudit(tx, actor, actor, { ...projectAuditScope(access), tenantId, action, targetType: 'tenant', targetId: tenantId, ...change })
}
