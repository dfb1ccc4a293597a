import { createHmac } from 'node:crypto'
import { storageFor } from '~/services/buckets/bucket-storage.server'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import { enqueueJobs } from '../jobs/enqueue.server'
import { QUEUES } from '../jobs/queues'
import { logger } from '~/utils/logger.server'
import { apiKeyActorById } from '../api-keys/api-keys.server'
import { postWebhook } from '../webhooks/post-webhook.server'
import { SECRET_PREFIX, webhookHeaders } from '../webhooks/signing.server'
import { callbackPolicy } from './callback-url.server'
import { completeUpload } from './complete-upload.server'
import { stagingKeyOf } from './object-keys'

/**
 * The secret upload callbacks are signed with for a key (ADR 020): HMAC-SHA256 of the key's SHA-256
 * (all Carcosa keeps), so the route handler derives it from its API key (`uploadCallbackSecret`).
 */
export const uploadCallbackSecret = (keyHash: string) =>
  `${SECRET_PREFIX}${createHmac('sha256', Buffer.from(keyHash, 'utf8')).update('carcosa-upload-callback-v1').digest('base64')}`

/**
 * The `upload-reconcile` job: an upload started with a callbackUrl whose client went away. Still
 * pending with its bytes landed, it is completed as its key would have (same verification; a refused
 * object fails the upload and nothing is sent). Once completed and while its callback is not settled,
 * the signed `upload.completed` webhook goes to the callbackUrl; a failed delivery throws, so the
 * job's retries send it again. Bytes that never landed are left to expiry.
 */
export async function reconcileUpload(uploadId: string): Promise<void> {
  const upload = await prisma.upload.findUnique({
    where: { id: uploadId },
    select: {
      id: true,
      projectId: true,
      status: true,
      method: true,
      bucket: true,
      objectKey: true,
      callbackUrl: true,
      callbackDoneAt: true,
      routeSlug: true,
      actorType: true,
      actorId: true,
    },
  })
  if (!upload?.callbackUrl || upload.callbackDoneAt || upload.actorType !== 'api-key' || !upload.actorId) return
  const key = await apiKeyActorById(upload.actorId)
  if (!key) return

  if (upload.status === 'PENDING') {
    // Only a presigned PUT is complete once its bytes are there; a multipart upload needs its client's parts.
    if (upload.method !== 'PUT') return
    const adapter = await storageFor(upload.bucket)
    const landed = (await adapter.head(stagingKeyOf(upload.objectKey))) ?? (await adapter.head(upload.objectKey))
    if (!landed) return
    try {
      await completeUpload(key.actor, { uploadId: upload.id })
    } catch (error) {
      // Refused (size, type, magic bytes, rules) or settled meanwhile: no callback for it.
      if (error instanceof AppError) {
        logger.info({ uploadId, reason: error.message }, 'reconciled upload not completed')
        return
      }
      throw error
    }
  } else if (upload.status !== 'COMPLETED') {
    return
  }

  const body = JSON.stringify({
    type: 'upload.completed',
    timestamp: new Date().toISOString(),
    data: { uploadId: upload.id, routeSlug: upload.routeSlug },
  })
  const attemptedAt = new Date()
  const outcome = await postWebhook({
    url: upload.callbackUrl,
    headers: webhookHeaders([uploadCallbackSecret(key.keyHash)], `msg_upload_${upload.id}`, body),
    body,
    timeoutMs: getConfig().WEBHOOK_TIMEOUT_SECONDS * 1000,
    policy: callbackPolicy(),
  })
  // The callbacks' delivery log (API and dashboard), like a webhook attempt's.
  await prisma.uploadCallbackAttempt.create({
    data: {
      uploadId: upload.id,
      projectId: upload.projectId,
      attemptedAt,
      statusCode: outcome.statusCode,
      latencyMs: outcome.latencyMs,
      responseBody: outcome.responseBody,
      error: outcome.error,
    },
  })
  if (outcome.statusCode === null || outcome.statusCode < 200 || outcome.statusCode >= 300) {
    // The job's retries (with backoff) deliver it again; the answer's excerpt is in the log above.
    throw new Error(`upload callback delivery failed: ${outcome.error ?? `HTTP ${outcome.statusCode}`}`)
  }
}

/** Uploads one sweep hands to reconciliation at most (the oldest deadlines first). */
export const MAX_RECONCILES_PER_SWEEP = 1000

/**
 * Part of the minute's uploads sweep, and what makes reconciliation durable: every upload with a
 * callbackUrl whose callback is not settled and that is due (UPLOAD_RECONCILE_AFTER_SECONDS old, not
 * yet expired) gets a reconcile job, unless one is already queued or running (the queue is
 * `exclusive` per upload). That covers a job lost with its process before it was written (init
 * writes jobs in batches, ADR 019), and a presigned PUT whose bytes landed after its first check;
 * a completed upload is handed over only while no callback attempt was made (the job's own retries
 * cover the rest). Returns how many uploads were handed over.
 */
export async function requeueDueReconciles(now = new Date()): Promise<number> {
  const dueBefore = new Date(now.getTime() - getConfig().UPLOAD_RECONCILE_AFTER_SECONDS * 1000)
  const due = await prisma.upload.findMany({
    where: {
      status: { in: ['PENDING', 'COMPLETED'] },
      expiresAt: { gt: now },
      callbackUrl: { not: null },
      callbackDoneAt: null,
      createdAt: { lte: dueBefore },
      OR: [
        { status: 'PENDING', method: 'PUT' },
        { status: 'COMPLETED', callbackAttempts: { none: {} } },
      ],
    },
    select: { id: true },
    orderBy: { expiresAt: 'asc' },
    take: MAX_RECONCILES_PER_SWEEP,
  })
  await enqueueJobs(
    QUEUES.uploadReconcile.name,
    due.map(({ id }) => ({ data: { uploadId: id }, singletonKey: id })),
  )
  return due.length
}
