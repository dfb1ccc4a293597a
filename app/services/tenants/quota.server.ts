import { remember } from '@epic-web/remember'
import { LRUCache } from 'lru-cache'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import { logger } from '~/utils/logger.server'
import { getRateLimiter } from '~/utils/rate-limiter.server'
import { sql } from '~/utils/sql.server'
import { recordEvent } from '../events/record-event.server'
import { requireTenantWritable } from './tenant-status.server'
import { EFFECTIVE_LIMIT_COLUMNS, formatLimit, LIMIT_LABELS, limitsOfRow, type LimitName } from './limits'

/** Share of a limit at which `quota.warning` is sent. */
export const QUOTA_WARNING_SHARE = 0.8
const HOUR_MS = 3_600_000

export type QuotaLevel = 'ok' | 'warning' | 'exceeded'
const RANK: Record<QuotaLevel, number> = { ok: 0, warning: 1, exceeded: 2 }

export function quotaLevel(current: number, value: number | null): QuotaLevel {
  if (value === null) return 'ok'
  if (current >= value) return 'exceeded'
  return current >= value * QUOTA_WARNING_SHARE ? 'warning' : 'ok'
}

/** The clock hour (UTC) hourly limits count in, e.g. `2026-11-29T06`. */
export const hourWindow = (now = new Date()) => now.toISOString().slice(0, 13)

/**
 * A refusal naming the limit, its value and the current use, as the problem's `quota` member too.
 * Too large a file is 413, an hourly limit spent 429 (until the hour turns), a full quota 403.
 */
export function quotaRefusal(
  tenant: { slug: string },
  limit: LimitName,
  value: number,
  current: number,
  options: { retryAfterSeconds?: number } = {},
): AppError {
  const quota = { tenant: tenant.slug, limit, value, current }
  const extensions = { quota }
  const label = LIMIT_LABELS[limit].toLowerCase()
  if (limit === 'fileSize') {
    return new AppError(
      'PAYLOAD_TOO_LARGE',
      `The file is ${formatLimit(limit, current)} (${current} bytes); tenant ${tenant.slug}'s largest file is ${formatLimit(limit, value)} (${value} bytes).`,
      {
        extensions,
      },
    )
  }
  if (limit === 'uploadsPerHour' || limit === 'transformsPerHour') {
    const now = Date.now()
    const retryAfterSeconds = options.retryAfterSeconds ?? Math.max(1, Math.ceil((Math.floor(now / HOUR_MS + 1) * HOUR_MS - now) / 1000))
    return new AppError('RATE_LIMITED', `Tenant ${tenant.slug} has used ${current} of its ${value} ${label}.`, { extensions, retryAfterSeconds })
  }
  return new AppError(
    'QUOTA_EXCEEDED',
    `Tenant ${tenant.slug} would exceed its ${label} limit of ${formatLimit(limit, value)} (${value}); it uses ${formatLimit(limit, current)} (${current}).`,
    { extensions },
  )
}

/** The level stored for a limit, read back; an hourly limit's level from an earlier hour is `ok`. */
function storedLevel(levels: unknown, limit: LimitName, window: string | null): QuotaLevel {
  const stored = typeof levels === 'object' && levels !== null ? (levels as Record<string, unknown>)[limit] : undefined
  if (typeof stored !== 'string') return 'ok'
  const [level, at] = stored.split('@')
  if (window !== null && at !== window) return 'ok'
  return level === 'warning' || level === 'exceeded' ? level : 'ok'
}

/** Whether `level` differs from what the tenant last recorded for the limit (no write needed otherwise). */
export const levelChanged = (levels: unknown, limit: LimitName, level: QuotaLevel, window: string | null = null) =>
  storedLevel(levels, limit, window) !== level

/**
 * Records the level a tenant's use of a limit is at and, when it rose past 80% or 100%, sends
 * `quota.warning` / `quota.exceeded` in the same transaction: the row lock and the stored level
 * make each crossing one event, however many requests and instances notice it.
 */
export async function noteQuotaLevel(
  tenantId: string,
  limit: LimitName,
  current: number,
  value: number | null,
  window: string | null = null,
): Promise<void> {
  const level = quotaLevel(current, value)
  await prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<Array<{ projectId: string; slug: string; quotaLevels: unknown }>>`
      SELECT "projectId", slug, "quotaLevels" FROM "Tenant" WHERE id = ${tenantId} FOR UPDATE`
    if (!row) return
    const previous = storedLevel(row.quotaLevels, limit, window)
    if (previous === level) return
    const stamp = window ? `${level}@${window}` : level
    await tx.$executeRaw`UPDATE "Tenant" SET "quotaLevels" = jsonb_set("quotaLevels", ${[limit]}::text[], to_jsonb(${stamp}::text)) WHERE id = ${tenantId}`
    if (RANK[level] <= RANK[previous] || value === null) return
    const data = { projectId: row.projectId, tenantId, slug: row.slug, limit, value, current }
    if (previous === 'ok') await recordEvent(tx, { type: 'quota.warning', data })
    if (level === 'exceeded') await recordEvent(tx, { type: 'quota.exceeded', data })
  })
}

interface StoredUseRow {
  storedBytes: bigint
  fileCount: number
  quotaLevels: unknown
  maxStoredBytes: bigint | null
  maxFiles: number | null
}

/**
 * After a tenant's stored files changed (a file landed or was deleted): records the levels of its
 * storage limits, sending the crossing events. One read; a write only when a level moved.
 */
export async function checkStoredQuota(tenantId: string | null): Promise<void> {
  if (!tenantId) return
  try {
    const [row] = await sql<StoredUseRow>(
      `SELECT tn."storedBytes", tn."fileCount", tn."quotaLevels", ${EFFECTIVE_LIMIT_COLUMNS}
         FROM "Tenant" tn LEFT JOIN "Plan" pl ON pl.id = tn."planId" WHERE tn.id = $1`,
      [tenantId],
    )
    if (!row) return
    const limits = limitsOfRow(row)
    const uses: Array<[LimitName, number]> = [
      ['storedBytes', Number(row.storedBytes)],
      ['fileCount', row.fileCount],
    ]
    for (const [limit, current] of uses) {
      if (levelChanged(row.quotaLevels, limit, quotaLevel(current, limits[limit]))) await noteQuotaLevel(tenantId, limit, current, limits[limit])
    }
  } catch (error) {
    // The change itself is committed; a missed level is noticed at the next change.
    logger.warn({ err: error as Error, tenantId }, 'could not record quota levels')
  }
}

// The hourly transform level each tenant was last seen at, so the database hears only of changes.
const transformLevels = remember('carcosa.tenant-transform-levels', () => new LRUCache<string, string>({ max: 10_000, ttl: HOUR_MS }))

/**
 * Counts one transform against a tenant's transforms-per-hour limit (the shared rate limiter:
 * memory, or Redis across instances), refusing past it. Costs nothing for tenants without the limit.
 */
export async function countTenantTransform(tenant: { id: string; slug: string; transformsPerHour: number | null }): Promise<void> {
  const limit = tenant.transformsPerHour
  if (limit === null) return
  const decision = await getRateLimiter().consume(`TENANT_TRANSFORMS:${tenant.id}`, limit)
  const used = decision.allowed ? limit - decision.remaining : limit
  const level = quotaLevel(used, limit)
  const window = hourWindow()
  const stamp = `${level}@${window}`
  if (level !== 'ok' && transformLevels.get(tenant.id) !== stamp) {
    transformLevels.set(tenant.id, stamp)
    await noteQuotaLevel(tenant.id, 'transformsPerHour', used, limit, window).catch((error: unknown) =>
      logger.warn({ err: error as Error, tenantId: tenant.id }, 'could not record the transform quota level'),
    )
  }
  if (!decision.allowed) throw quotaRefusal(tenant, 'transformsPerHour', limit, used, { retryAfterSeconds: decision.retryAfterSeconds })
}

interface TenantUseRow extends StoredUseRow {
  slug: string
  status: 'ACTIVE' | 'SUSPENDED' | 'ARCHIVED'
  reservedBytes: bigint
  reservedFiles: number
  uploadsHour: Date | null
  uploadsInHour: number
  maxUploadsPerHour: number | null
}

/**
 * Why a tenant's upload reservation was refused (its status, or the first limit it would pass), read
 * after the refusal. The current use counts pending uploads' reserved bytes and files too.
 */
export async function reservationRefusal(tenant: { id: string; slug: string }, size: number): Promise<AppError> {
  const [row] = await sql<TenantUseRow>(
    `SELECT tn.slug, tn.status, tn."storedBytes", tn."fileCount", tn."reservedBytes", tn."reservedFiles", tn."uploadsHour", tn."uploadsInHour", tn."quotaLevels",
            ${EFFECTIVE_LIMIT_COLUMNS}
       FROM "Tenant" tn LEFT JOIN "Plan" pl ON pl.id = tn."planId" WHERE tn.id = $1`,
    [tenant.id],
  )
  if (!row) return new AppError('NOT_FOUND', 'Tenant was not found')
  requireTenantWritable(row, 'upload files to it')
  const limits = limitsOfRow(row)
  const bytes = Number(row.storedBytes + row.reservedBytes)
  if (limits.storedBytes !== null && bytes + size > limits.storedBytes) return quotaRefusal(row, 'storedBytes', limits.storedBytes, bytes)
  const files = row.fileCount + row.reservedFiles
  if (limits.fileCount !== null && files >= limits.fileCount) return quotaRefusal(row, 'fileCount', limits.fileCount, files)
  const thisHour = row.uploadsHour && hourWindow(row.uploadsHour) === hourWindow() ? row.uploadsInHour : 0
  if (limits.uploadsPerHour !== null && thisHour >= limits.uploadsPerHour)
    return quotaRefusal(row, 'uploadsPerHour', limits.uploadsPerHour, thisHour)
  // The tenant changed between the refusal and this read (a plan raised, files deleted): the client may simply retry.
  return new AppError('CONFLICT', `Tenant ${row.slug}'s usage changed while the upload was being reserved; try again.`)
}

/**
 * The check again at completion: the file must still fit beside the tenant's stored files (its own
 * reservation admitted it, but limits may have been lowered or other files landed meanwhile) and
 * under its largest-file limit (a streamed file's size is known only now). Null when it fits.
 */
export async function completionQuotaRefusal(tenantId: string, size: number): Promise<AppError | null> {
  const [row] = await sql<StoredUseRow & { slug: string; maxFileBytes: bigint | null }>(
    `SELECT tn.slug, tn."storedBytes", tn."fileCount", tn."quotaLevels", ${EFFECTIVE_LIMIT_COLUMNS}
       FROM "Tenant" tn LEFT JOIN "Plan" pl ON pl.id = tn."planId" WHERE tn.id = $1`,
    [tenantId],
  )
  if (!row) return null
  const limits = limitsOfRow(row)
  if (limits.fileSize !== null && size > limits.fileSize) return quotaRefusal(row, 'fileSize', limits.fileSize, size)
  const stored = Number(row.storedBytes)
  if (limits.storedBytes !== null && stored + size > limits.storedBytes) return quotaRefusal(row, 'storedBytes', limits.storedBytes, stored)
  if (limits.fileCount !== null && row.fileCount + 1 > limits.fileCount) return quotaRefusal(row, 'fileCount', limits.fileCount, row.fileCount)
  return null
}

/**
 * Transform requests of a tenant in the current clock hour as metered (ADR 018: counted in memory,
 * flushed every few seconds), for the tenant page's usage bar. Enforcement counts in the limiter.
 */
export async function transformsThisHour(projectId: string, tenantId: string): Promise<number> {
  const hour = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS)
  const row = await prisma.usageHourly.findUnique({
    where: { projectId_tenantKey_hour: { projectId, tenantKey: tenantId, hour } },
    select: { transforms: true, transformCacheHits: true },
  })
  return row ? Number(row.transforms + row.transformCacheHits) : 0
}
