import { publicBaseUrl, storageFor } from '~/services/buckets/bucket-storage.server'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { MAX_PARTS, type InitUploadInput } from './schemas'
import { effectiveMaxBytes, ruleViolation } from './upload-rules'
import { recordUploadEvent } from './upload-events.server'
import { discardUploadObjects } from './upload-cleanup.server'
import { projectOfCall } from '../project-scope.server'
import { uploadTarget } from './upload-target.server'
import { reserveUpload } from './reserve-upload.server'
import { checkCallbackUrl } from './callback-url.server'
import { routeViolation } from './upload-route'
import { stagingKeyOf } from './object-keys'
import { quotaRefusal } from '../tenants/quota.server'

const MIB = 1024 * 1024
/** Above this, uploads are multipart (resumable) whatever the client asks; S3's single PUT stops at 5 GiB. */
export const MULTIPART_THRESHOLD_BYTES = 100 * MIB
/** S3 wants parts of at least 5 MiB but the last; 8 MiB keeps requests few and retries cheap. */
export const MIN_PART_BYTES = 8 * MIB

/** Whole MiB, at least MIN_PART_BYTES, and few enough parts for S3's 10,000. */
export const partSizeFor = (size: number) => Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS / MIB) * MIB)

interface UploadStart {
  uploadId: string
  path: string
  name: string
  expiresAt: Date
  /** The largest size this project accepts for this path, in bytes. */
  maxSize: number
}

export type InitUploadResult =
  | (UploadStart & { method: 'PUT'; url: string; headers: Record<string, string> })
  | (UploadStart & { method: 'MULTIPART'; partSize: number; partCount: number })

/** Maps a size or type refusal to its status: too big is 413, a type the project refuses 415. */
export function ruleError(violation: { kind: 'type' | 'size'; message: string }) {
  return new AppError(violation.kind === 'size' ? 'PAYLOAD_TOO_LARGE' : 'UNSUPPORTED_MEDIA_TYPE', violation.message)
}

/**
 * Starts a presigned upload: checks the project's rules, reserves a server-made object key, and
 * answers either one signed PUT or, for large files (or when asked), a multipart upload whose part
 * URLs come from signUploadParts. The object key itself is never shown.
 */
export async function initUpload(actor: Actor, input: InitUploadInput, options: { baseUrl?: string } = {}): Promise<InitUploadResult> {
  const config = getConfig()
  const projectId = projectOfCall(actor, input.projectId)
  const target = await uploadTarget(actor, projectId, { id: input.tenantId, slug: input.tenantSlug })
  const { tenant } = target
  const maxSize = effectiveMaxBytes(target.rules, { uploadMaxBytes: config.UPLOAD_MAX_BYTES })
  const violation = ruleViolation(target.rules, maxSize, input)
  if (violation) throw ruleError(violation)
  const tenantMaxFile = tenant?.limits.fileSize ?? null
  if (tenant && tenantMaxFile !== null && input.size > tenantMaxFile) throw quotaRefusal(tenant, 'fileSize', tenantMaxFile, input.size)
  const route = input.route ? { slug: input.route.slug, maxBytes: input.route.maxFileSize ?? null, types: input.route.allowedTypes ?? [] } : null
  const outsideRoute = route ? routeViolation(route, input) : null
  if (outsideRoute) throw ruleError(outsideRoute)
  const callbackUrl = input.callbackUrl ? checkCallbackUrl(input.callbackUrl) : null
  const multipart = input.multipart === true || input.size > MULTIPART_THRESHOLD_BYTES
  if (multipart && input.size === 0) {
    throw new AppError('VALIDATION', 'A multipart upload needs at least one byte', {
      fieldErrors: { size: ['Must be at least 1 for a multipart upload'] },
    })
  }
  const partSize = multipart ? partSizeFor(input.size) : null
  const adapter = await storageFor(target.bucket, options.baseUrl ?? publicBaseUrl())
  const upload = await reserveUpload(actor, target, {
    tenant,
    fileName: input.fileName,
    contentType: input.contentType,
    size: input.size,
    method: multipart ? 'MULTIPART' : 'PUT',
    partSize,
    route,
    metadata: input.metadata ?? null,
    callbackUrl,
  })
  const { location, expiresAt } = upload
  const start: UploadStart = {
    uploadId: upload.id,
    path: location.path,
    name: location.name,
    expiresAt,
    maxSize: Math.min(maxSize, tenantMaxFile ?? maxSize),
  }
  const expiresInSeconds = Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000))

  try {
    if (!multipart) {
      const signed = await adapter.presignPut(stagingKeyOf(location.objectKey), {
        contentType: input.contentType,
        contentLength: input.size,
        expiresInSeconds,
      })
      return { ...start, method: 'PUT', url: signed.url, headers: signed.headers }
    }
    const multipartUploadId = await adapter.createMultipart(location.objectKey, { contentType: input.contentType })
    await prisma.upload.update({ where: { id: upload.id }, data: { multipartUploadId } })
    return { ...start, method: 'MULTIPART', partSize: partSize!, partCount: Math.ceil(input.size / partSize!) }
  } catch (error) {
    // The bucket refused: the reservation is useless, so it fails at once rather than waiting for the sweeper.
    const reason = 'The bucket refused to start the upload.'
    await prisma.$transaction(async (tx) => {
      await tx.upload.update({ where: { id: upload.id }, data: { status: 'FAILED', failureReason: reason } })
      await recordUploadEvent(tx, upload.id, { type: 'upload.failed', reason })
    })
    await discardUploadObjects({ id: upload.id, objectKey: location.objectKey, multipartUploadId: null, bucket: target.bucket })
    throw error
  }
}
