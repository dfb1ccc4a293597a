import { storageFor, type BucketConnectionRow } from '~/services/buckets/bucket-storage.server'
import { StorageError } from '~/storage/storage-adapter'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import type { Actor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { stagingKeyOf } from './object-keys'
import { recordUploadEvent } from './upload-events.server'
import { publishUploadFailed, type UploadRef } from './upload-progress.server'

interface UploadObjects {
  id: string
  objectKey: string
  multipartUploadId: string | null
  bucket: BucketConnectionRow
}

/**
 * Removes whatever an unfinished upload left in its bucket: the multipart upload's parts and the
 * object. Best effort: a failure is logged (the reason only, never credentials) and the caller
 * goes on, since the upload's state is what the product relies on.
 */
export async function discardUploadObjects(upload: UploadObjects): Promise<boolean> {
  let clean = true
  const warn = (error: unknown, what: string) => {
    clean = false
    const reason = error instanceof StorageError ? `${error.failure}: ${error.message}` : error instanceof Error ? error.name : 'unknown'
    logger.warn({ uploadId: upload.id, bucketId: upload.bucket.id, reason }, `could not ${what} of an unfinished upload`)
  }
  let adapter
  try {
    adapter = await storageFor(upload.bucket)
  } catch (error) {
    warn(error, 'reach the bucket')
    return false
  }
  if (upload.multipartUploadId)
    await adapter.abortMultipart(upload.objectKey, upload.multipartUploadId).catch((error: unknown) => warn(error, 'abort the multipart upload'))
  await adapter.delete(upload.objectKey).catch((error: unknown) => warn(error, 'delete the object'))
  // A presigned PUT's bytes wait under the staging key until completion copies them.
  await adapter.delete(stagingKeyOf(upload.objectKey)).catch((error: unknown) => warn(error, 'delete the staged object'))
  return clean
}

/**
 * Fails a pending upload with a reason the client will see, records it, and deletes what was
 * uploaded. Returns false when the upload was no longer pending (another request settled it).
 */
export async function failUpload(
  actor: Actor | null,
  organizationId: string,
  upload: UploadObjects & UploadRef,
  reason: string,
): Promise<boolean> {
  const failed = await prisma.$transaction(async (tx) => {
    const changed = await tx.upload.updateMany({
      where: { id: upload.id, status: 'PENDING' },
      data: { status: 'FAILED', failureReason: reason },
    })
    if (changed.count === 0) return false
    await recordAudit(tx, actor, actor ?? { ipAddress: null, userAgent: null }, {
      organizationId,
      projectId: upload.projectId,
      action: 'upload.fail',
      targetType: 'upload',
      targetId: upload.id,
      after: { status: 'FAILED', reason },
    })
    await recordUploadEvent(tx, upload.id, { type: 'upload.failed', reason })
    return true
  })
  if (failed) {
    publishUploadFailed(upload, reason)
    await discardUploadObjects(upload)
  }
  return failed
}
