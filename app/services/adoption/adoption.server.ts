import type { Prisma } from '~/generated/prisma/client'
import type { AdoptionItemStatus, AdoptionStatus } from '~/generated/prisma/enums'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, forbidden, notFound } from '~/utils/errors.server'
import { actorTenantId, type Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { assertTeamMayWrite } from '../buckets/bucket-access.server'
import { bucketConnectionSelect, storageFor } from '../buckets/bucket-storage.server'
import { recordEvent } from '../events/record-event.server'
import { enqueueJob } from '../jobs/enqueue.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { NO_BUCKET_MESSAGE } from '../uploads/upload-target.server'
import { loadTenants, planPage, unknownSlug, type AdoptionContext } from './page-plan.server'
import { publishAdoptionProgress } from './adoption-progress.server'
import { adoptionOptionsSchema, type AdoptionOptions } from './schemas'

/** Keys one listing request asks for. */
export const LIST_PAGE_SIZE = 1000
/** Planned adoptions and conflicts a preview shows by name. */
const PREVIEW_SAMPLE = 20
const PREVIEW_CONFLICT_SAMPLE = 50
const PREVIEW_UNKNOWN_SLUGS = 100

export interface AdoptionRunView {
  id: string
  projectId: string
  bucketId: string
  status: 'running' | 'completed' | 'failed' | 'cancelled'
  options: AdoptionOptions
  counts: { scanned: number; adopted: number; adoptedBytes: number; alreadyAdopted: number; skipped: number; failed: number }
  pagesDone: number
  error: string | null
  createdAt: Date
  updatedAt: Date
  completedAt: Date | null
}

export const runSelect = {
  id: true,
  projectId: true,
  bucketId: true,
  prefix: true,
  options: true,
  status: true,
  pageStartAfter: true,
  pagesDone: true,
  scanned: true,
  adopted: true,
  adoptedBytes: true,
  alreadyAdopted: true,
  skipped: true,
  failed: true,
  error: true,
  actorType: true,
  actorId: true,
  ipAddress: true,
  userAgent: true,
  createdAt: true,
  updatedAt: true,
  completedAt: true,
} as const

export type RunRow = Prisma.AdoptionRunGetPayload<{ select: typeof runSelect }>

const STATUS_NAMES: Record<AdoptionStatus, AdoptionRunView['status']> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
}

export const storedOptions = (row: Pick<RunRow, 'options'>): AdoptionOptions => adoptionOptionsSchema.parse(row.options)

export function toRunView(row: RunRow): AdoptionRunView {
  return {
    id: row.id,
    projectId: row.projectId,
    bucketId: row.bucketId,
    status: STATUS_NAMES[row.status],
    options: storedOptions(row),
    counts: {
      scanned: row.scanned,
      adopted: row.adopted,
      adoptedBytes: Number(row.adoptedBytes),
      alreadyAdopted: row.alreadyAdopted,
      skipped: row.skipped,
      failed: row.failed,
    },
    pagesDone: row.pagesDone,
    error: row.error,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
  }
}

/** Adoption reads the raw bucket and registers files for every tenant: a tenant-scoped key may not. */
export function requireAdopter(actor: Actor, access: ProjectAccess, action: string) {
  if (actorTenantId(actor))
    throw forbidden(`A tenant-scoped API key cannot ${action}: adoption reads the whole bucket and files objects under every tenant.`)
  requirePermission(access, 'projects:write', action)
}

/** The project, its bucket and the key scope of its files, for a caller who may adopt into it. */
async function adoptionTarget(db: Transaction | typeof prisma, actor: Actor, projectId: string, action: string) {
  const access = await projectAccess(db, actor, projectId)
  requireAdopter(actor, access, action)
  const project = await db.project.findUniqueOrThrow({
    where: { id: projectId },
    select: {
      slug: true,
      bucket: { select: bucketConnectionSelect },
      team: { select: { slug: true, organization: { select: { slug: true } } } },
    },
  })
  if (!project.bucket) throw new AppError('CONFLICT', NO_BUCKET_MESSAGE)
  return {
    access,
    bucket: project.bucket,
    scope: { organizationSlug: project.team.organization.slug, teamSlug: project.team.slug, projectSlug: project.slug },
  }
}

export interface AdoptionPreview {
  options: AdoptionOptions
  /** Objects read; `truncated` when the prefix holds more than the preview's limit. */
  scanned: number
  scannedBytes: number
  truncated: boolean
  /** What would be adopted, per tenant (`tenant` null: project files without a tenant). */
  perTenant: Array<{ tenant: { id: string | null; slug: string; name: string; created: boolean } | null; objects: number; bytes: number }>
  alreadyAdopted: number
  skipped: number
  conflicts: number
  /** Slugs the rule reads from keys that name no tenant of the project (with createTenants off). */
  unknownSlugs: Array<{ slug: string; objects: number }>
  sample: Array<{ key: string; size: number; tenant: string | null; path: string }>
  conflictSample: Array<{ key: string; reason: string }>
}

/**
 * Scans the prefix (up to `limit` objects) and says what an adoption with these options would do,
 * changing nothing: counts per tenant, objects already adopted, skipped by the rule or in conflict
 * (another project's file, an upload in progress, a path already taken), slugs naming no tenant,
 * and samples of each.
 */
export async function previewAdoption(actor: Actor, projectId: string, options: AdoptionOptions & { limit: number }): Promise<AdoptionPreview> {
  const target = await adoptionTarget(prisma, actor, projectId, 'adopt bucket objects into this project')
  const { limit, ...rest } = options
  const context: AdoptionContext = {
    projectId,
    bucketId: target.bucket.id,
    scope: target.scope,
    options: rest,
    tenants: await loadTenants(projectId),
  }
  const adapter = await storageFor(target.bucket)
  const perTenant = new Map<string, { objects: number; bytes: number }>()
  const unknown = new Map<string, number>()
  const preview: AdoptionPreview = {
    options: rest,
    scanned: 0,
    scannedBytes: 0,
    truncated: false,
    perTenant: [],
    alreadyAdopted: 0,
    skipped: 0,
    conflicts: 0,
    unknownSlugs: [],
    sample: [],
    conflictSample: [],
  }
  const plannedPaths = new Set<string>()
  let startAfter = ''
  for (;;) {
    const page = await adapter.list(rest.prefix, { startAfter, limit: Math.min(LIST_PAGE_SIZE, limit - preview.scanned) })
    for (const plan of await planPage(context, page.objects, plannedPaths)) {
      preview.scanned += 1
      preview.scannedBytes += plan.object.size
      const slug = unknownSlug(context, plan)
      if (slug) unknown.set(slug, (unknown.get(slug) ?? 0) + 1)
      if (plan.action === 'already') preview.alreadyAdopted += 1
      else if (plan.action === 'skip') {
        if (plan.kind === 'conflict') {
          preview.conflicts += 1
          if (preview.conflictSample.length < PREVIEW_CONFLICT_SAMPLE) preview.conflictSample.push({ key: plan.object.key, reason: plan.reason })
        } else preview.skipped += 1
      } else {
        const entry = perTenant.get(plan.tenantSlug ?? '') ?? { objects: 0, bytes: 0 }
        entry.objects += 1
        entry.bytes += plan.object.size
        perTenant.set(plan.tenantSlug ?? '', entry)
        if (preview.sample.length < PREVIEW_SAMPLE) {
          preview.sample.push({ key: plan.object.key, size: plan.object.size, tenant: plan.tenantSlug, path: plan.location.path })
        }
      }
    }
    const last = page.objects.at(-1)
    if (!page.truncated || !last) break
    if (preview.scanned >= limit) {
      preview.truncated = true
      break
    }
    startAfter = last.key
  }
  preview.perTenant = [...perTenant.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([slug, counts]) => {
      if (slug === '') return { tenant: null, ...counts }
      const tenant = context.tenants.get(slug)
      return {
        tenant: tenant ? { id: tenant.id, slug: tenant.slug, name: tenant.name, created: false } : { id: null, slug, name: slug, created: true },
        ...counts,
      }
    })
  preview.unknownSlugs = [...unknown.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, PREVIEW_UNKNOWN_SLUGS)
    .map(([slug, objects]) => ({ slug, objects }))
  return preview
}

/**
 * Starts an adoption run: checks the caller may (projects:write; files:delete to delete originals;
 * tenants:manage to create tenants), that the project's team may write to its bucket and that no
 * other run of the project is in progress; then records the run with its audit entry, its
 * `adoption.started` event and the job for its first page, in one transaction.
 */
export async function startAdoption(actor: Actor, projectId: string, options: AdoptionOptions): Promise<AdoptionRunView> {
  const run = await prisma.$transaction(async (tx) => {
    const target = await adoptionTarget(tx, actor, projectId, 'adopt bucket objects into this project')
    if (options.deleteOriginals) requirePermission(target.access, 'files:delete', 'delete the original objects after copying them')
    if (options.createTenants) requirePermission(target.access, 'tenants:manage', 'create tenants while adopting')
    await assertTeamMayWrite(tx, target.access.project.teamId, target.bucket.id)
    if (options.rule === 'prefix-map' && !options.createTenants) {
      const slugs = [...new Set(options.tenantMap.map((entry) => entry.tenant))]
      const known = new Set(
        (await tx.tenant.findMany({ where: { projectId, slug: { in: slugs } }, select: { slug: true } })).map((tenant) => tenant.slug),
      )
      const missing = slugs.filter((slug) => !known.has(slug))
      if (missing.length > 0) {
        const message = `No tenant of this project has the slug ${missing.slice(0, 10).join(', ')}; create ${missing.length === 1 ? 'it' : 'them'} first or set createTenants.`
        throw new AppError('VALIDATION', message, { fieldErrors: { tenantMap: [message] } })
      }
    }
    // One run at a time per project: a second would only race the first over the same keys.
    await tx.$queryRaw`SELECT id FROM "Project" WHERE id = ${projectId} FOR UPDATE`
    const running = await tx.adoptionRun.findFirst({ where: { projectId, status: 'RUNNING' }, select: { id: true } })
    if (running)
      throw new AppError('CONFLICT', `Adoption run ${running.id} is still in progress in this project; wait for it or cancel it first.`)
    const row = await tx.adoptionRun.create({
      data: {
        projectId,
        bucketId: target.bucket.id,
        prefix: options.prefix,
        options: options as unknown as Prisma.InputJsonObject,
        actorType: actor.type,
        actorId: actor.type === 'user' ? actor.userId : actor.apiKeyId,
        ipAddress: actor.ipAddress,
        userAgent: actor.userAgent,
      },
      select: runSelect,
    })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(target.access),
      action: 'adoption.start',
      targetType: 'adoption',
      targetId: row.id,
      after: { projectId, bucketId: row.bucketId, ...(options as unknown as Prisma.InputJsonObject) },
    })
    await recordEvent(tx, { type: 'adoption.started', data: { projectId, runId: row.id, prefix: options.prefix, mode: options.mode } })
    await enqueueJob(tx, 'adoption-page', { runId: row.id, page: 0 })
    return row
  })
  return toRunView(run)
}

/** A run the actor may read (projects:read in its project); another project's run is "not found". */
async function runWithAccess(db: Transaction | typeof prisma, actor: Actor, runId: string, options: { projectId?: string } = {}) {
  const run = await db.adoptionRun.findUnique({ where: { id: runId }, select: runSelect })
  if (!run || (options.projectId && run.projectId !== options.projectId)) throw notFound('Adoption run')
  const access = await projectAccess(db, actor, run.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Adoption run') : error
  })
  return { run, access }
}

export async function getAdoption(actor: Actor, runId: string, options: { projectId?: string } = {}): Promise<AdoptionRunView> {
  const { run, access } = await runWithAccess(prisma, actor, runId, options)
  requirePermission(access, 'projects:read', 'read the adoption runs of this project')
  return toRunView(run)
}

/** The project's runs, a cursor page ordered by id (cuids: roughly oldest first). */
export async function listAdoptions(actor: Actor, projectId: string, page: PageQuery): Promise<Page<AdoptionRunView>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'read the adoption runs of this project')
  const rows = await prisma.adoptionRun.findMany({ select: runSelect, ...pageArgs(page, { projectId }) })
  return toPage(rows.map(toRunView), page)
}

export interface AdoptionItemView {
  id: string
  key: string
  size: number
  status: 'adopted' | 'already-adopted' | 'skipped' | 'failed'
  tenantId: string | null
  fileId: string | null
  reason: string | null
  createdAt: Date
}

const ITEM_STATUS_NAMES: Record<AdoptionItemStatus, AdoptionItemView['status']> = {
  ADOPTED: 'adopted',
  ALREADY_ADOPTED: 'already-adopted',
  SKIPPED: 'skipped',
  FAILED: 'failed',
}
const ITEM_STATUSES = Object.fromEntries(Object.entries(ITEM_STATUS_NAMES).map(([status, name]) => [name, status])) as Record<
  AdoptionItemView['status'],
  AdoptionItemStatus
>

/** What a run did with each object (filtered by outcome, e.g. the failures and their reasons), a cursor page. */
export async function listAdoptionItems(
  actor: Actor,
  runId: string,
  query: PageQuery & { status?: AdoptionItemView['status'] },
  options: { projectId?: string } = {},
): Promise<Page<AdoptionItemView>> {
  const { access } = await runWithAccess(prisma, actor, runId, options)
  requirePermission(access, 'projects:read', 'read the adoption runs of this project')
  const rows = await prisma.adoptionItem.findMany({
    select: { id: true, key: true, size: true, status: true, tenantId: true, fileId: true, reason: true, createdAt: true },
    ...pageArgs(query, { runId, ...(query.status ? { status: ITEM_STATUSES[query.status] } : {}) }),
  })
  return toPage(
    rows.map((row) => ({ ...row, size: Number(row.size), status: ITEM_STATUS_NAMES[row.status] })),
    query,
  )
}

/** Stops a run in progress after the object it is working on; what it adopted stays adopted. */
export async function cancelAdoption(actor: Actor, runId: string, options: { projectId?: string } = {}): Promise<AdoptionRunView> {
  const row = await prisma.$transaction(async (tx) => {
    const { run, access } = await runWithAccess(tx, actor, runId, options)
    requireAdopter(actor, access, 'cancel adoption runs in this project')
    await tx.$queryRaw`SELECT id FROM "AdoptionRun" WHERE id = ${runId} FOR UPDATE`
    const current = await tx.adoptionRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true } })
    if (current.status !== 'RUNNING') throw new AppError('CONFLICT', `This adoption run is ${STATUS_NAMES[current.status]}, not in progress.`)
    const updated = await tx.adoptionRun.update({
      where: { id: runId },
      data: { status: 'CANCELLED', completedAt: new Date() },
      select: runSelect,
    })
    await recordAudit(tx, actor, actor, { ...projectAuditScope(access), action: 'adoption.cancel', targetType: 'adoption', targetId: runId })
    await recordEvent(tx, { type: 'adoption.cancelled', data: { projectId: run.projectId, runId, counts: toRunView(updated).counts } })
    return updated
  })
  publishAdoptionProgress(toRunView(row))
  return toRunView(row)
}

/**
 * Resumes a run that failed (its bucket was unreachable, its starter lost access) from the page it
 * got to; nothing it adopted is adopted again.
 */
export async function resumeAdoption(actor: Actor, runId: string, options: { projectId?: string } = {}): Promise<AdoptionRunView> {
  const row = await prisma.$transaction(async (tx) => {
    const { run, access } = await runWithAccess(tx, actor, runId, options)
    requireAdopter(actor, access, 'resume adoption runs in this project')
    await tx.$queryRaw`SELECT id FROM "AdoptionRun" WHERE id = ${runId} FOR UPDATE`
    const current = await tx.adoptionRun.findUniqueOrThrow({ where: { id: runId }, select: { status: true, pagesDone: true } })
    if (current.status !== 'FAILED')
      throw new AppError('CONFLICT', `Only a failed adoption run can be resumed; this one is ${STATUS_NAMES[current.status]}.`)
    const running = await tx.adoptionRun.findFirst({ where: { projectId: run.projectId, status: 'RUNNING' }, select: { id: true } })
    if (running) throw new AppError('CONFLICT', `Adoption run ${running.id} is in progress in this project; wait for it or cancel it first.`)
    // The run acts for whoever resumed it from now on.
    const updated = await tx.adoptionRun.update({
      where: { id: runId },
      data: {
        status: 'RUNNING',
        error: null,
        completedAt: null,
        actorType: actor.type,
        actorId: actor.type === 'user' ? actor.userId : actor.apiKeyId,
        ipAddress: actor.ipAddress,
        userAgent: actor.userAgent,
      },
      select: runSelect,
    })
    await recordAudit(tx, actor, actor, { ...projectAuditScope(access), action: 'adoption.resume', targetType: 'adoption', targetId: runId })
    await enqueueJob(tx, 'adoption-page', { runId, page: current.pagesDone })
    return updated
  })
  return toRunView(row)
}
