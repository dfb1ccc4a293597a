import { remember } from '@epic-web/remember'
import { logger } from '~/utils/logger.server'
import { enqueueJobs } from '../jobs/enqueue.server'
import { QUEUES } from '../jobs/queues'

/** How long an upload's expiry or reconcile job may wait in memory before it is written. */
export const EXPIRY_JOB_FLUSH_MS = 1_000
/** Jobs held at most; beyond this they are written at once (memory stays bounded). */
export const EXPIRY_JOB_MAX_PENDING = 1_000

type UploadJobQueue = typeof QUEUES.uploadExpire.name | typeof QUEUES.uploadReconcile.name

const state = remember('carcosa.upload-expiry-jobs', () => ({
  pending: [] as Array<{ queue: UploadJobQueue; uploadId: string; dueAt: Date }>,
  timer: undefined as NodeJS.Timeout | undefined,
  flushing: Promise.resolve(),
}))

function schedule(queue: UploadJobQueue, uploadId: string, dueAt: Date) {
  state.pending.push({ queue, uploadId, dueAt })
  if (state.pending.length >= EXPIRY_JOB_MAX_PENDING) {
    void flushUploadExpiries()
    return
  }
  if (state.timer) return
  state.timer = setTimeout(() => {
    state.timer = undefined
    void flushUploadExpiries()
  }, EXPIRY_JOB_FLUSH_MS)
  state.timer.unref()
}

/**
 * Schedules an upload's expiry job off the request path (ADR 019): jobs are written in one insert
 * per queue and batch, within EXPIRY_JOB_FLUSH_MS. Should the process die before, the sweep that
 * runs every minute expires the upload instead.
 */
export const scheduleUploadExpiry = (uploadId: string, expiresAt: Date) => schedule(QUEUES.uploadExpire.name, uploadId, expiresAt)

/**
 * Schedules the reconciliation of an upload started with a callbackUrl, the same way. Should the
 * process die before, the minute sweep hands the upload over instead (requeueDueReconciles).
 */
export const scheduleUploadReconcile = (uploadId: string, dueAt: Date) => schedule(QUEUES.uploadReconcile.name, uploadId, dueAt)

/** Writes the scheduled jobs now (also at shutdown). A failure is logged: the minute sweep covers both queues. */
export function flushUploadExpiries(): Promise<void> {
  clearTimeout(state.timer)
  state.timer = undefined
  const batch = state.pending.splice(0)
  if (batch.length === 0) return state.flushing
  const write = (queue: UploadJobQueue) => {
    const jobs = batch.filter((job) => job.queue === queue)
    return enqueueJobs(
      queue,
      jobs.map(({ uploadId, dueAt }) => ({ data: { uploadId }, startAfter: dueAt, singletonKey: uploadId })),
    ).catch((error: unknown) => logger.warn({ err: error as Error, queue, jobs: jobs.length }, 'could not schedule upload jobs'))
  }
  state.flushing = state.flushing.then(async () => {
    await write(QUEUES.uploadExpire.name)
    await write(QUEUES.uploadReconcile.name)
  })
  return state.flushing
}
