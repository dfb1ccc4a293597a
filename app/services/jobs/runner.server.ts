import { PgBoss, type WorkHandler } from 'pg-boss'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import { startEventRelay } from '../events/relay.server'
import { runHousekeeping } from '../housekeeping.server'
import { reconcileUpload } from '../uploads/reconcile-upload.server'
import { expireUpload, sweepExpiredUploads } from '../uploads/sweep-uploads.server'
import { attemptDelivery } from '../webhooks/deliver.server'
import { QUEUES, type JobPayloads } from './queues'

export interface JobRunner {
  stop(): Promise<void>
}

/** Seconds between checks for jobs of dead instances (heartbeats) and for expired ones. */
const MONITOR_INTERVAL_SECONDS = 5
const STOP_TIMEOUT_MS = 10_000

/**
 * Starts this instance's share of the background work (ADR 016): the outbox relay and the pg-boss
 * workers (webhook attempts, upload expiry and reconciliation, housekeeping), plus the cron
 * schedules, which pg-boss runs once across all instances.
 */
export async function startJobRunner(options: { databaseUrl: string }): Promise<JobRunner> {
  const config = getConfig()
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    max: 4,
    migrate: false, // prepareJobStore did it at start-up
    monitorIntervalSeconds: MONITOR_INTERVAL_SECONDS,
  })
  // A database restart or failover must never crash the process: pg-boss reconnects by itself.
  boss.on('error', (error) => logger.warn({ err: error }, 'job queue error'))
  await boss.start()

  const each = <Q extends keyof JobPayloads>(run: (data: JobPayloads[Q]) => Promise<unknown>): WorkHandler<JobPayloads[Q]> =>
    async (jobs) => {
      for (const job of jobs) await run(job.data)
    }

  await boss.work(QUEUES.housekeeping.name, each<'housekeeping'>(() => runHousekeeping()))
  await boss.work(QUEUES.uploadsSweep.name, each<'uploads-sweep'>(() => sweepExpiredUploads()))
  await boss.work(QUEUES.uploadExpire.name, { localConcurrency: 2, pollingIntervalSeconds: 1 }, each<'upload-expire'>(({ uploadId }) => expireUpload(uploadId)))
  await boss.work(QUEUES.uploadReconcile.name, { localConcurrency: 2, pollingIntervalSeconds: 1 }, each<'upload-reconcile'>(({ uploadId }) => reconcileUpload(uploadId)))
  await boss.work(
    QUEUES.webhookDeliver.name,
    {
      localConcurrency: config.WEBHOOK_CONCURRENCY,
      localGroupConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
      pollingIntervalSeconds: 1,
    },
    each<'webhook-deliver'>(({ deliveryId }) => attemptDelivery(deliveryId)),
  )
  await boss.schedule(QUEUES.housekeeping.name, '*/10 * * * *')
  await boss.schedule(QUEUES.uploadsSweep.name, '* * * * *')
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
