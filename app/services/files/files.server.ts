import { StorageError } from '~/storage/storage-adapter'
import { prisma, type Transaction } from '~/utils/db.server'
import { sql } from '~/utils/sql.server'
import { AppError, notFound } from '~/utils/errors.server'
import { actorTenantId, type Actor } from '../actor'
import { checkStoredQuota } from '../tenants/quota.server'
import { requireTenantReadable, requireTenantWritable } from '../tenants/tenant-status.server'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { recordEvent } from '../events/record-event.server'
import { bucketConnectionSelect, publicBaseUrl, storageFor } from '../buckets/bucket-storage.server'
import type { Page, PageQuery } from '../pagination'
import { requireTenantInProject } from '../tenants/tenants.server'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { downloadHeaders } from './download-headers.server'
import { FILE_COLUMNS, FILE_JSON, fileSelect, toFileView, type FileRow, type FileView } from './file-view'
import type { FileFilters } from './schemas'
import { logger } from '~/utils/logger.server'
import { deleteVariants } from '../transforms/cache.server'
import { meterDownload } from '../usage/meter.server'

/** Signed download URLs live this long: enough to start a download, short enough not to be shared. */
export const DOWNLOAD_URL_TTL_SECONDS = 5 * 60

/** Where scoped callers (a project's dashboard page) expect the file to be: elsewhere is "not found". */
interface Scope {
  projectId?: string
}

const storedFileSelect = {
  ...fileSelect,
  objectKey: true,
  bucket: { select: bucketConnectionSelect },
  tenant: { select: { slug: true, status: true } },
} as const

/** A file and the actor's access to its project; a file of a project the actor cannot see is "not found". */
async function fileWithAccess(
  db: Pick<Transaction, 'file' | 'project' | 'team' | 'teamMember' | 'organizationMember' | 'organization'>,
  actor: Actor,
  fileId: string,
  scope: Scope,
) {
  const file = await db.file.findUnique({ where: { id: fileId }, select: storedFileSelect })
  if (!file || (scope.projectId && file.projectId !== scope.projectId)) throw notFound('File')
  // A tenant-scoped key sees its tenant's files only; any other is "not found".
  const keyTenant = actorTenantId(actor)
  if (keyTenant && file.tenantId !== keyTenant) throw notFound('File')
  const access = await projectAccess(db, actor, file.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('File') : error
  })
  return { file, access }
}

export interface FilePage extends Page<FileView> {
  /** Whether files come before this page (the dashboard's "previous" link). */
  hasPrevious: boolean
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`)

/** The WHERE clause of a page of a project's files, after the actor's right to list them is checked. */
async function filePageConditions(actor: Actor, projectId: string, filters: FileFilters) {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'files:read', 'list the files of this project')
  const keyTenant = actorTenantId(actor)
  if (keyTenant && filters.tenantId && filters.tenantId !== keyTenant) throw notFound('Tenant')
  if (keyTenant) filters = { ...filters, tenantId: keyTenant }
  else if (filters.tenantId) await requireTenantInProject(prisma, projectId, filters.tenantId)
  const values: unknown[] = [projectId]
  const conditions = ['"projectId" = $1']
  const bind = (value: unknown) => `$${values.push(value)}`
  if (filters.tenantId) conditions.push(`"tenantId" = ${bind(filters.tenantId)}`)
  if (filters.contentType?.endsWith('/*')) {
    conditions.push(`"contentType" ILIKE ${bind(`${escapeLike(filters.contentType.slice(0, -1))}%`)}`)
  } else if (filters.contentType) {
    conditions.push(`lower("contentType") = lower(${bind(filters.contentType)})`)
  }
  if (filters.namePrefix) conditions.push(`name ILIKE ${bind(`${escapeLike(filters.namePrefix)}%`)}`)
  return { conditions, values, bind }
}

/**
 * One page of a project's files, ordered by id, filtered by tenant, media type (exact or `type/*`)
 * and name prefix (ignoring case). `cursor` pages forward; `before` (the dashboard's "previous"
 * link) pages backward from a file.
 */
export async function listFiles(
  actor: Actor,
  projectId: string,
  filters: FileFilters,
  page: PageQuery & { before?: string },
): Promise<FilePage> {
  const { conditions, values, bind } = await filePageConditions(actor, projectId, filters)
  const { limit } = page
  // One statement on the hot path (ADR 019); `id > cursor` so a page still follows when the cursor's file was deleted meanwhile.
  const backward = Boolean(page.before && !page.cursor)
  if (backward) conditions.push(`id < ${bind(page.before)}`)
  else if (page.cursor) conditions.push(`id > ${bind(page.cursor)}`)
  const rows = await sql<FileRow>(
    `SELECT ${FILE_COLUMNS} FROM "File" WHERE ${conditions.join(' AND ')} ORDER BY id ${backward ? 'DESC' : 'ASC'} LIMIT ${bind(limit + 1)}`,
    values,
  )
  if (backward) {
    const items = rows.slice(0, limit).reverse().map(toFileView)
    // The file the page was counted back from follows it.
    return { items, nextCursor: items.at(-1)?.id ?? null, hasPrevious: rows.length > limit }
  }
  const items = rows.slice(0, limit).map(toFileView)
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null, hasPrevious: Boolean(page.cursor) }
}

/**
 * The same page, forward only, as the API's JSON text `{"items": [...], "nextCursor": ...}`, which
 * PostgreSQL writes (FILE_JSON): the API's hottest read sends it on without building, converting and
 * serializing a row object per file. The items are the FileView JSON, key for key.
 */
export async function listFilesJson(actor: Actor, projectId: string, filters: FileFilters, page: PageQuery): Promise<string> {
  const { conditions, values, bind } = await filePageConditions(actor, projectId, filters)
  if (page.cursor) conditions.push(`id > ${bind(page.cursor)}`)
  const limit = bind(page.limit)
  const [row] = await sql<{ items: string; nextCursor: string | null }>(
    `SELECT coalesce(json_agg(${FILE_JSON} ORDER BY id) FILTER (WHERE n <= ${limit}), '[]')::text AS items,
            CASE WHEN count(*) > ${limit} THEN max(id) FILTER (WHERE n <= ${limit}) END AS "nextCursor"
       FROM (SELECT *, row_number() OVER (ORDER BY id) AS n
               FROM (SELECT ${FILE_COLUMNS} FROM "File" WHERE ${conditions.join(' AND ')} ORDER BY id LIMIT ${limit} + 1) page) numbered`,
    values,
  )
  return `{"items":${row?.items ?? '[]'},"nextCursor":${JSON.stringify(row?.nextCursor ?? null)}}`
}

export async function getFile(actor: Actor, fileId: string, scope: Scope = {}): Promise<FileView> {
  const { file, access } = await fileWithAccess(prisma, actor, fileId, scope)
  requirePermission(access, 'files:read', 'read the files of this project')
  return toFileView(file)
}

export interface FileDownload {
  url: string
  expiresAt: Date
  file: FileView
}

/**
 * A short-lived signed URL for a file's bytes, answered with a Content-Disposition and Content-Type
 * chosen here (attachment for anything a browser could run), never the object's own metadata.
 * `baseUrl` is the origin local-provider URLs point at (the request's, unless APP_URL is set).
 */
export async function createFileDownload(actor: Actor, fileId: string, options: Scope & { baseUrl?: string } = {}): Promise<FileDownload> {
  const { file, access } = await fileWithAccess(prisma, actor, fileId, options)
  requirePermission(access, 'files:read', 'download the files of this project')
  requireTenantReadable(file.tenant)
  const storage = await storageFor(file.bucket, options.baseUrl ?? publicBaseUrl())
  const signed = await storage.presignGet(file.objectKey, { expiresInSeconds: DOWNLOAD_URL_TTL_SECONDS, ...downloadHeaders(file) })
  // Bytes go from the bucket, not through Carcosa: each signed URL handed out counts as one download of the file's size.
  meterDownload(file.projectId, file.tenantId, Number(file.size))
  return { url: signed.url, expiresAt: signed.expiresAt, file: toFileView(file) }
}

type StoredFile = Awaited<ReturnType<typeof fileWithAccess>>['file']

/** Deletes objects from their buckets; an object already gone is not an error. */
async function deleteObjects(files: StoredFile[]) {
  const byBucket = new Map<string, StoredFile[]>()
  for (const file of files) byBucket.set(file.bucket.id, [...(byBucket.get(file.bucket.id) ?? []), file])
  for (const group of byBucket.values()) {
    const storage = await storageFor(group[0]!.bucket)
    try {
      await storage.deleteMany(group.map((file) => file.objectKey))
    } catch (error) {
      if (!(error instanceof StorageError && error.failure === 'not-found')) throw error
    }
    // Derived transform variants go with their source; leftovers only cost space, so a failure is logged.
    for (const file of group) {
      await deleteVariants(file.bucket, file.id).catch((error: unknown) =>
        logger.warn({ err: error as Error, fileId: file.id }, 'could not delete transform variants'),
      )
    }
  }
}

const auditBefore = (file: StoredFile) => ({
  projectId: file.projectId,
  tenantId: file.tenantId,
  path: file.path,
  name: file.name,
  size: Number(file.size),
  contentType: file.contentType,
})

/**
 * Deletes a file: the object first, then the row (with its audit entry). A failure between the two
 * leaves a row whose object is gone, which deleting again clears; never an object without its row.
 */
export async function deleteFile(actor: Actor, fileId: string, scope: Scope = {}): Promise<FileView> {
  const { file, access } = await fileWithAccess(prisma, actor, fileId, scope)
  requirePermission(access, 'files:delete', 'delete the files of this project')
  requireTenantWritable(file.tenant, 'delete its files')
  await deleteObjects([file])
  await prisma.$transaction(async (tx) => {
    const deleted = await tx.file.deleteMany({ where: { id: fileId } })
    // Someone else deleted it meanwhile: their entry records it.
    if (deleted.count === 0) throw notFound('File')
    await recordDeletion(tx, actor, access, file)
  })
  await checkStoredQuota(file.tenantId)
  return toFileView(file)
}

async function recordDeletion(tx: Transaction, actor: Actor, access: Pick<ProjectAccess, 'team' | 'project'>, file: StoredFile) {
  await recordAudit(tx, actor, actor, {
    ...projectAuditScope(access),
    tenantId: file.tenantId,
    action: 'file.delete',
    targetType: 'file',
    targetId: file.id,
    before: auditBefore(file),
  })
  await recordEvent(tx, { type: 'file.deleted', data: { projectId: file.projectId, fileId: file.id, tenantId: file.tenantId, path: file.path } })
}

export interface BulkDeletion {
  deleted: string[]
  notFound: string[]
}

/**
 * Deletes up to 100 files, possibly of several projects. Ids the actor cannot see (another
 * project's, unknown ones) are reported in `notFound`, exactly like ids that do not exist, and when
 * none is visible the answer is 404; a file the actor can see but not delete refuses the whole
 * request (403) before anything is deleted.
 */
export async function deleteFiles(actor: Actor, ids: string[]): Promise<BulkDeletion> {
  const unique = [...new Set(ids)]
  const rows = await prisma.file.findMany({ where: { id: { in: unique } }, select: storedFileSelect })
  const accessByProject = new Map<string, ProjectAccess | null>()
  for (const projectId of new Set(rows.map((row) => row.projectId))) {
    const access = await projectAccess(prisma, actor, projectId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return null
      throw error
    })
    if (access) requirePermission(access, 'files:delete', 'delete the files of this project')
    accessByProject.set(projectId, access)
  }
  const keyTenant = actorTenantId(actor)
  const visible = rows.filter((row) => accessByProject.get(row.projectId) && (!keyTenant || row.tenantId === keyTenant))
  // Nothing the caller may see: the same answer whether the ids exist elsewhere or nowhere.
  if (visible.length === 0) throw new AppError('NOT_FOUND', 'None of these files was found')
  for (const file of visible) requireTenantWritable(file.tenant, 'delete its files')
  await deleteObjects(visible)
  const deleted = await prisma.$transaction(async (tx) => {
    const gone = new Set<string>()
    if (visible.length > 0) {
      const removed = await tx.$queryRaw<{ id: string }[]>`DELETE FROM "File" WHERE id = ANY(${visible.map((row) => row.id)}) RETURNING id`
      for (const { id } of removed) gone.add(id)
    }
    for (const file of visible) if (gone.has(file.id)) await recordDeletion(tx, actor, accessByProject.get(file.projectId)!, file)
    return gone
  })
  for (const tenantId of new Set(visible.map((file) => file.tenantId))) await checkStoredQuota(tenantId)
  return { deleted: unique.filter((id) => deleted.has(id)), notFound: unique.filter((id) => !deleted.has(id)) }
}

export interface StorageTotals {
  bytes: number
  fileCount: number
}

export interface TenantStorage extends StorageTotals {
  tenantId: string
  slug: string
  name: string
}

export interface StorageStats extends StorageTotals {
  projectId: string
  /** Tenants that have files, largest first. */
  tenants: TenantStorage[]
  /** Files not scoped to a tenant. */
  withoutTenant: StorageTotals
}

const totals = (sum: bigint | null | undefined, count: number): StorageTotals => ({ bytes: Number(sum ?? 0n), fileCount: count })

/** Bytes and file count of a project, or of one of its tenants, from one aggregate query. */
export async function storageTotals(actor: Actor, projectId: string, options: { tenantId?: string } = {}): Promise<StorageTotals> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'files:read', 'see the storage used by this project')
  const keyTenant = actorTenantId(actor)
  if (keyTenant && options.tenantId && options.tenantId !== keyTenant) throw notFound('Tenant')
  if (keyTenant) options = { tenantId: keyTenant }
  else if (options.tenantId) await requireTenantInProject(prisma, projectId, options.tenantId)
  // One hand-written statement: the files page shows this on every load (ADR 019).
  const [row] = options.tenantId
    ? await sql<TotalsRow>(`${TOTALS_SQL} AND "tenantId" = $2`, [projectId, options.tenantId])
    : await sql<TotalsRow>(TOTALS_SQL, [projectId])
  return totals(row?.bytes, Number(row?.fileCount ?? 0n))
}

interface TotalsRow {
  bytes: bigint | null
  fileCount: bigint
}

const TOTALS_SQL = `SELECT SUM(size)::int8 AS bytes, COUNT(*) AS "fileCount" FROM "File" WHERE "projectId" = $1`

/** Bytes and file count of a project and of each of its tenants: aggregates, never file rows. */
export async function storageStats(actor: Actor, projectId: string): Promise<StorageStats> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'files:read', 'see the storage used by this project')
  const keyTenant = actorTenantId(actor)
  const groups = await prisma.file.groupBy({
    by: ['tenantId'],
    where: keyTenant ? { projectId, tenantId: keyTenant } : { projectId },
    _sum: { size: true },
    _count: { _all: true },
  })
  const tenantIds = groups.flatMap((group) => (group.tenantId ? [group.tenantId] : []))
  const tenants = await prisma.tenant.findMany({ where: { id: { in: tenantIds } }, select: { id: true, slug: true, name: true } })
  const tenantById = new Map(tenants.map((tenant) => [tenant.id, tenant]))
  let all = { bytes: 0, fileCount: 0 }
  let withoutTenant = { bytes: 0, fileCount: 0 }
  const perTenant: TenantStorage[] = []
  for (const group of groups) {
    const sum = totals(group._sum.size, group._count._all)
    all = { bytes: all.bytes + sum.bytes, fileCount: all.fileCount + sum.fileCount }
    const tenant = group.tenantId ? tenantById.get(group.tenantId) : undefined
    if (tenant) perTenant.push({ tenantId: tenant.id, slug: tenant.slug, name: tenant.name, ...sum })
    else withoutTenant = sum
  }
  perTenant.sort((a, b) => b.bytes - a.bytes || a.slug.localeCompare(b.slug))
  return { projectId, ...all, tenants: perTenant, withoutTenant }
}
