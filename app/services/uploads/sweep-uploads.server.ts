import { bucketConnectionSelect } from '~/services/buckets/bucket-storage.server'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import { discardUploadObjects } from './upload-cleanup.server'

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
      const claimed = await prisma.upload.updateMany({
        where: { id: upload.id, status: 'PENDING' },
        data: { status: 'EXPIRED', failureReason: 'The upload was not completed before it expired.' },
      })
      if (claimed.count === 0) continue
      expired++
      await discardUploadObjects(upload)
    }
    if (due.length < batchSize) break
  }
  if (expired > 0) logger.info({ expired }, 'expired pending uploads swept')
  return { expired }
}
