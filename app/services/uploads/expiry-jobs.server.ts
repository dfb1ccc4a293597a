import { remember } from '@epic-web/remember'
import { logger } from '~/utils/logger.server'
import { enqueueJobs } from '../jobs/enqueue.server'
import { QUEUES } from '../jobs/queues'

/** How long an upload's expiry job may wait in memory before it is written. */
export const EXPIRY_JOB_FLUSH_MS = 1_000
/** Expiry jobs held at most; beyond this they are written at once (memory stays bounded). */
export const EXPIRY_JOB_MAX_PENDING = 1_000

const state = remember('carcosa.upload-expiry-jobs', () => ({
  pending: [] as Array<{ uploadId: string; expiresAt: Date }>,
  timer: undefined as NodeJS.Timeout | undefined,
  flushing: Promise.resolve(),
}))

/**
 * Schedules an upload's expiry job off the request path (ADR 019): jobs are written in one insert
 * per batch, within EXPIRY_JOB_FLUSH_MS. Should the process die before, the sweep that runs every
 * minute expires the upload instead.
 */
export function scheduleUploadExpiry(uploadId: string, expiresAt: Date) {
  state.pending.push({ uploadId, expiresAt })
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

/** Writes the scheduled expiry jobs now (also at shutdown). A failure is logged: the minute sweep covers them. */
export function flushUploadExpiries(): Promise<void> {
  clearTimeout(state.timer)
  state.timer = undefined
  const batch = state.pending.splice(0)
  if (batch.length === 0) return state.flushing
  state.flushing = state.flushing.then(() =>
    enqueueJobs(
      QUEUES.uploadExpire.name,
      batch.map(({ uploadId, expiresAt }) => ({ data: { uploadId }, startAfter: expiresAt, singletonKey: uploadId })),
    ).catch((error: unknown) => logger.warn({ err: error as Error, jobs: batch.length }, 'could not schedule upload expiry jobs')),
  )
  return state.flushing
}
