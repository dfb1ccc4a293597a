import { bucketConnectionSelect } from '~/services/buckets/bucket-storage.server'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import { discardUploadObjects } from './upload-cleanup.server'
import { recordUploadEvent } from './upload-events.server'

/** Uploads handled per batch, and batches per sweep: one sweep never holds more than a batch in memory. */
export const SWEEP_BATCH_SIZE = 100
const MAX_BATCHES_PER_SWEEP = 50

/**
 * Expires pending uploads past their deadline: each is marked EXPIRED first (a conditional update,
 * so instances sweeping at once and a late completion never both win), then its multipart upload
 * is aborted and its object deleted, best effort. Returns how many expired.
 */
export async function sweepExpiredUploads(options: { now?: Date; batchSize?: number } = {}): Promise<{ expired: number }> {
  const now = options.now ?? new Date()
  const batchSize = options.batchSize ?? SWEEP_BATCH_SIZE
  let expired = 0
  for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
    const due = await prisma.upload.findMany({
      where: { status: 'PENDING', expiresAt: { lte: now } },
      select: { id: true, objectKey: true, multipartUploadId: true, bucket: { select: bucketConnectionSelect } },
      orderBy: { expiresAt: 'asc' },
      take: batchSize,
    })
    for (const upload of due) {
      if (!(await claimExpired(upload.id, now))) continue
      expired++
      await discardUploadObjects(upload)
    }
    if (due.length < batchSize) break
  }
  if (expired > 0) logger.info({ expired }, 'expired pending uploads swept')
  return { expired }
}

/** Marks one upload EXPIRED, with its event, if it is still pending and past its deadline. */
async function claimExpired(uploadId: string, now: Date): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const claimed = await tx.upload.updateMany({
      where: { id: uploadId, status: 'PENDING', expiresAt: { lte: now } },
      data: { status: 'EXPIRED', failureReason: 'The upload was not completed before it expired.' },
    })
    if (claimed.count === 0) return false
    await recordUploadEvent(tx, uploadId, { type: 'upload.expired' })
    return true
  })
}

/**
 * The `upload-expire` job, due at the upload's deadline: expires it and removes its objects unless it
 * was completed, failed or aborted meanwhile.
 */
export async function expireUpload(uploadId: string, now = new Date()): Promise<boolean> {
  const upload = await prisma.upload.findUnique({
    where: { id: uploadId },
    select: { id: true, objectKey: true, multipartUploadId: true, bucket: { select: bucketConnectionSelect } },
  })
  if (!upload || !(await claimExpired(upload.id, now))) return false
  await discardUploadObjects(upload)
  logger.info({ uploadId }, 'pending upload expired')
  return true
}
