import cuid from 'cuid'
import type { UploadMethod } from '~/generated/prisma/enums'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import { sql } from '~/utils/sql.server'
import type { Limits } from '../tenants/limits'
import { hourWindow, levelChanged, noteQuotaLevel, quotaLevel, reservationRefusal } from '../tenants/quota.server'
import type { Actor } from '../actor'
import { actorId } from '../actor'
import { auditInsertSql, projectAuditScope } from '../audit/record-audit.server'
import { objectLocation, type ObjectLocation } from './object-keys'
import { scheduleUploadExpiry, scheduleUploadReconcile } from './expiry-jobs.server'
import type { UploadTarget } from './upload-target.server'

export interface UploadReservation {
  id: string
  location: ObjectLocation
  expiresAt: Date
}

/**
 * Every upload path starts here: a server-made object key and a PENDING row (with its audit entry)
 * before any byte moves, so whatever happens next the sweeper knows what to remove.
 */
export async function reserveUpload(
  actor: Actor,
  target: UploadTarget,
  input: {
    tenant: { id: string; slug: string; limits?: Limits } | null
    fileName: string
    contentType: string
    /** Declared size; 0 for a stream whose length is known only at its end. */
    size: number
    method: UploadMethod
    partSize?: number | null
    /** The file route's limits (SDK route handlers), checked again at completion. */
    route?: { slug: string; maxBytes: number | null; types: string[] } | null
    metadata?: Record<string, unknown> | null
    callbackUrl?: string | null
  },
): Promise<UploadReservation> {
  const projectId = target.access.project.id
  const location = objectLocation(
    {
      organizationSlug: target.organizationSlug,
      teamSlug: target.access.team.slug,
      projectSlug: target.access.project.slug,
      tenantSlug: input.tenant?.slug,
    },
    input.fileName,
  )
  const now = new Date()
  const expiresAt = new Date(now.getTime() + getConfig().UPLOAD_EXPIRY_MINUTES * 60_000)
  const id = cuid()
  // The row and its audit entry in one statement: atomic without a transaction's BEGIN and COMMIT.
  const values: unknown[] = [
    id,
    projectId,
    input.tenant?.id ?? null,
    target.bucket.id,
    location.objectKey,
    location.path,
    location.name,
    input.contentType,
    String(input.size),
    input.method,
    input.partSize ?? null,
    actor.type,
    actorId(actor),
    expiresAt.toISOString(),
    now.toISOString(),
    input.route?.slug ?? null,
    input.route?.maxBytes ?? null,
    input.route?.types ?? [],
    input.metadata ? JSON.stringify(input.metadata) : null,
    input.callbackUrl ?? null,
  ]
  const audit = auditInsertSql(
    actor,
    actor,
    {
      ...projectAuditScope(target.access),
      tenantId: input.tenant?.id ?? null,
      action: 'upload.create',
      targetType: 'upload',
      targetIdColumn: 'reserved.id',
      after: {
        projectId,
        tenantId: input.tenant?.id ?? null,
        path: location.path,
        contentType: input.contentType,
        ...(input.method === 'STREAM' ? {} : { size: input.size }),
        method: input.method,
        ...(input.route ? { route: input.route.slug } : {}),
      },
    },
    values.length + 1,
  )
  // A tenant's upload first claims room under its quotas (ADR 025): one conditional UPDATE of the
  // tenant's row, which concurrent inits queue on and re-check, so together they never exceed it.
  const limits = input.tenant?.limits
  const quotaValues = [limits?.storedBytes ?? null, limits?.fileCount ?? null, limits?.uploadsPerHour ?? null]
  const q = values.length + audit.values.length
  const claim = input.tenant
    ? `claim AS (
         UPDATE "Tenant" SET
           "uploadsInHour" = CASE WHEN "uploadsHour" = date_trunc('hour', now() AT TIME ZONE 'UTC') THEN "uploadsInHour" + 1 ELSE 1 END,
           "uploadsHour" = date_trunc('hour', now() AT TIME ZONE 'UTC')
         WHERE id = $3 AND status = 'ACTIVE'
           AND ($${q + 1}::bigint IS NULL OR "storedBytes" + "reservedBytes" + $9::bigint <= $${q + 1}::bigint)
           AND ($${q + 2}::integer IS NULL OR "fileCount" + "reservedFiles" < $${q + 2}::integer)
           AND ($${q + 3}::integer IS NULL OR "uploadsHour" IS DISTINCT FROM date_trunc('hour', now() AT TIME ZONE 'UTC') OR "uploadsInHour" < $${q + 3}::integer)
         RETURNING "uploadsInHour", "quotaLevels"
       ),`
    : ''
  const rows = await sql<{ uploadsInHour: number | null; quotaLevels: unknown }>(
    `WITH ${claim} reserved AS (
       INSERT INTO "Upload" (id, "projectId", "tenantId", "bucketId", "objectKey", path, "fileName", "contentType", size, method, "partSize", "actorType", "actorId", "expiresAt", "createdAt", "updatedAt",
                             "routeSlug", "routeMaxBytes", "routeTypes", metadata, "callbackUrl")
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $10::"UploadMethod", $11::integer, $12, $13,
              $14::timestamptz AT TIME ZONE 'UTC', $15::timestamptz AT TIME ZONE 'UTC', $15::timestamptz AT TIME ZONE 'UTC',
              $16, $17::bigint, $18::text[], $19::jsonb, $20
              ${input.tenant ? 'FROM claim' : ''}
       RETURNING id
     )
     ${audit.text} FROM reserved
     RETURNING ${input.tenant ? '(SELECT "uploadsInHour" FROM claim) AS "uploadsInHour", (SELECT "quotaLevels" FROM claim) AS "quotaLevels"' : 'NULL AS "uploadsInHour", NULL AS "quotaLevels"'}`,
    input.tenant ? [...values, ...audit.values, ...quotaValues] : [...values, ...audit.values],
  )
  if (input.tenant) {
    const [claimed] = rows
    // Refused: read why (status or which limit), for a problem that names it. Off the admitted path.
    if (!claimed) throw await reservationRefusal(input.tenant, input.size)
    const hourly = limits?.uploadsPerHour ?? null
    if (hourly !== null && levelChanged(claimed.quotaLevels, 'uploadsPerHour', quotaLevel(claimed.uploadsInHour!, hourly), hourWindow())) {
      await noteQuotaLevel(input.tenant.id, 'uploadsPerHour', claimed.uploadsInHour!, hourly, hourWindow()).catch((error: unknown) =>
        logger.warn({ err: error as Error, tenantId: input.tenant!.id }, 'could not record the upload quota level'),
      )
    }
  }
  // Sweeping follows the expiry: a job due the moment the upload may no longer complete, written
  // in batches after the row (init stays two statements); should this process die in between, the
  // sweep that runs every minute expires the upload instead.
  scheduleUploadExpiry(id, expiresAt)
  // A client that vanishes after its bytes landed: Carcosa completes the upload and sends the callback webhook.
  if (input.callbackUrl) scheduleUploadReconcile(id, new Date(now.getTime() + getConfig().UPLOAD_RECONCILE_AFTER_SECONDS * 1000))
  return { id, location, expiresAt }
}
