import { Semaphore } from 'async-mutex'
import { PgBoss, type JobResult, type WorkHandler } from 'pg-boss'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import { pruneAuditLogs } from '../audit/retention.server'
import { startEventRelay } from '../events/relay.server'
import { runHousekeeping } from '../housekeeping.server'
import { reconcileUpload, requeueDueReconciles } from '../uploads/reconcile-upload.server'
import { expireUpload, sweepExpiredUploads } from '../uploads/sweep-uploads.server'
import { attemptDelivery } from '../webhooks/deliver.server'
import { adoptPage } from '../adoption/adopt-page.server'
import { QUEUES, type JobPayloads } from './queues'

export interface JobRunner {
  stop(): Promise<void>
}

/** Seconds between checks for jobs of dead instances (heartbeats) and for expired ones. */
const MONITOR_INTERVAL_SECONDS = 5
const STOP_TIMEOUT_MS = 10_000
/** Webhook jobs one worker fetches at once (their attempts run side by side). */
const WEBHOOK_BATCH_SIZE = 4

/**
 * Starts this instance's share of the background work (ADR 016): the outbox relay and the pg-boss
 * workers (webhook attempts, upload expiry and reconciliation, bucket adoption, housekeeping, audit
 * retention), plus the cron schedules, which pg-boss runs once across all instances.
 */
export async function startJobRunner(options: { databaseUrl: string }): Promise<JobRunner> {
  const config = getConfig()
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    max: 6,
    migrate: false, // prepareJobStore did it at start-up
    monitorIntervalSeconds: MONITOR_INTERVAL_SECONDS,
    // Queues with `notify` wake their workers on a job's commit instead of at the next poll.
    useListenNotify: true,
    // The supervisor is what fails jobs whose heartbeat lapsed (pg-boss's default pass is every 60 s).
    superviseIntervalSeconds: MONITOR_INTERVAL_SECONDS,
  })
  // A database restart or failover must never crash the process: pg-boss reconnects by itself.
  boss.on('error', (error) => logger.warn({ err: error }, 'job queue error'))
  await boss.start()

  const each =
    <Q extends keyof JobPayloads>(run: (data: JobPayloads[Q]) => Promise<unknown>): WorkHandler<JobPayloads[Q]> =>
    async (jobs) => {
      for (const job of jobs) await run(job.data)
    }

  await boss.work(
    QUEUES.housekeeping.name,
    each<'housekeeping'>(() => runHousekeeping()),
  )
  await boss.work(
    QUEUES.auditPrune.name,
    each<'audit-prune'>(() => pruneAuditLogs()),
  )
  await boss.work(
    QUEUES.uploadsSweep.name,
    each<'uploads-sweep'>(async () => {
      await sweepExpiredUploads()
      await requeueDueReconciles()
    }),
  )
  await boss.work(
    QUEUES.uploadExpire.name,
    { localConcurrency: 2, pollingIntervalSeconds: 1 },
    each<'upload-expire'>(({ uploadId }) => expireUpload(uploadId)),
  )
  await boss.work(
    QUEUES.uploadReconcile.name,
    { localConcurrency: 2, pollingIntervalSeconds: 1 },
    each<'upload-reconcile'>(({ uploadId }) => reconcileUpload(uploadId)),
  )
  // Webhook attempts: WEBHOOK_CONCURRENCY workers fetch small batches whose attempts run side by
  // side, at most WEBHOOK_CONCURRENCY in flight (the slots) and WEBHOOK_ENDPOINT_CONCURRENCY per
  // endpoint (a job's group). A slow endpoint thus stalls at most that many workers, never the rest.
  // A new job wakes the workers (notify) and a full batch fetches again at once, so a burst drains
  // at the pace of the answers rather than of a poll.
  const slots = new Semaphore(config.WEBHOOK_CONCURRENCY)
  await boss.work<JobPayloads['webhook-deliver']>(
    QUEUES.webhookDeliver.name,
    {
      localConcurrency: config.WEBHOOK_CONCURRENCY,
      localGroupConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
      // No larger than one endpoint may take, so a burst to one endpoint is not fetched only to be put back.
      batchSize: Math.min(WEBHOOK_BATCH_SIZE, config.WEBHOOK_ENDPOINT_CONCURRENCY),
      burstWhenBatchFull: true,
      perJobResults: true,
      pollingIntervalSeconds: 1,
      // The backstop for attempts due later (retries), whose creation wakes nobody.
      notifyPollingIntervalSeconds: 1,
    },
    (jobs) =>
      Promise.all(
        jobs.map((job) =>
          slots
            .runExclusive(() => attemptDelivery(job.data.deliveryId))
            .then(
              (): JobResult => ({ id: job.id, status: 'completed' }),
              (error: unknown): JobResult => {
                logger.warn({ err: error as Error, deliveryId: job.data.deliveryId }, 'webhook attempt failed to run; retrying')
                return { id: job.id, status: 'failed', output: { message: error instanceof Error ? error.message : String(error) } }
              },
            ),
        ),
      ),
  )
  await boss.work<JobPayloads['adoption-page']>(QUEUES.adoptionPage.name, { localConcurrency: 1, pollingIntervalSeconds: 1 }, async (jobs) => {
    for (const job of jobs) await adoptPage(job.data.runId, job.data.page, { lastAttempt: job.retryCount >= QUEUES.adoptionPage.retryLimit })
  })
  await boss.schedule(QUEUES.housekeeping.name, '*/10 * * * *')
  await boss.schedule(QUEUES.uploadsSweep.name, '* * * * *')
  await boss.schedule(QUEUES.auditPrune.name, '17 3 * * *')
  // What the previous process left behind is due now, not at the next tick.
  await boss.send(QUEUES.housekeeping.name, {})
  await boss.send(QUEUES.uploadsSweep.name, {})

  const stopRelay = startEventRelay(options.databaseUrl)
  return {
    async stop() {
      await stopRelay()
      await boss.stop({ graceful: true, timeout: STOP_TIMEOUT_MS, close: true })
    },
  }
}
