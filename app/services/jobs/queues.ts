import type { Queue } from 'pg-boss'

/**
 * Every job queue Carcosa runs (ADR 016). `exclusive` queues hold at most one job queued or running,
 * so a periodic task never piles up or runs twice at once across instances.
 */
export const QUEUES = {
  /** Expired sessions, API tokens, sign-in attempts, old events and delivery logs; every ten minutes. */
  housekeeping: { name: 'housekeeping', policy: 'exclusive', retryLimit: 0, expireInSeconds: 15 * 60 },
  /** Audit entries past AUDIT_RETENTION_DAYS, pruned chain by chain from each chain's anchor (ADR 024); daily. */
  auditPrune: { name: 'audit-prune', policy: 'exclusive', retryLimit: 2, retryDelay: 600, expireInSeconds: 60 * 60 },
  /** Backstop for uploads whose own expiry job was lost or that predate it; every minute. */
  uploadsSweep: { name: 'uploads-sweep', policy: 'exclusive', retryLimit: 0, expireInSeconds: 15 * 60 },
  /** One job per upload, due at its expiry: sweeping follows UPLOAD_EXPIRY_MINUTES to the second. */
  uploadExpire: { name: 'upload-expire', policy: 'standard', retryLimit: 5, retryDelay: 30, expireInSeconds: 5 * 60 },
  /**
   * Reconciliation of an upload started with a callbackUrl: due UPLOAD_RECONCILE_AFTER_SECONDS after
   * init, and again from every minute's sweep while the upload still needs it (its bytes may land
   * later; its first job may have been lost with its process). `exclusive` with the upload id as
   * singleton key: at most one queued or running per upload, so the sweep adds none while one waits.
   * A failed callback delivery throws, so pg-boss retries it with backoff (about 40 minutes in all).
   */
  uploadReconcile: { name: 'upload-reconcile', policy: 'exclusive', retryLimit: 8, retryDelay: 10, retryBackoff: true, expireInSeconds: 5 * 60 },
  /**
   * One job per webhook attempt. The heartbeat returns a job whose instance died (kill -9) to the
   * queue within seconds instead of at its expiry; the handler's own retries follow the schedule.
   */
  webhookDeliver: {
    name: 'webhook-deliver',
    policy: 'standard',
    retryLimit: 5,
    retryDelay: 10,
    heartbeatSeconds: 10,
    expireInSeconds: 5 * 60,
    notify: true,
  },
  /**
   * One job per listing page of a bucket adoption run (ADR 026); each page's job enqueues the next.
   * The heartbeat returns a page whose instance died to the queue within seconds; it is redone
   * without the objects already done.
   */
  adoptionPage: {
    name: 'adoption-page',
    policy: 'standard',
    retryLimit: 10,
    retryDelay: 5,
    retryBackoff: true,
    heartbeatSeconds: 10,
    expireInSeconds: 30 * 60,
    notify: true,
  },
} as const satisfies Record<string, Queue>

/**
 * Queues whose jobs the sweeps make again from the uploads' rows: when such a queue's policy
 * changes (which pg-boss cannot update), it is dropped and created anew at start-up.
 */
export const REBUILDABLE_QUEUES: ReadonlySet<string> = new Set([QUEUES.uploadReconcile.name])

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES]['name']

export interface JobPayloads {
  housekeeping: Record<string, never>
  'audit-prune': Record<string, never>
  'uploads-sweep': Record<string, never>
  'upload-expire': { uploadId: string }
  'upload-reconcile': { uploadId: string }
  'webhook-deliver': { deliveryId: string }
  'adoption-page': { runId: string; page: number }
}
