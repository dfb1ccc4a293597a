import { remember } from '@epic-web/remember'
import { PgBoss, type SendOptions } from 'pg-boss'
import { prisma, type Transaction } from '~/utils/db.server'
import type { JobPayloads, QueueName } from './queues'

const throughPrisma = (db: Pick<Transaction, '$queryRawUnsafe'>) => ({
  executeSql: async (text: string, values: unknown[] = []) => ({ rows: await db.$queryRawUnsafe<unknown[]>(text, ...values) }),
})

// Never started: it writes job rows through the transaction each call passes in, and reads queue
// settings (cached) through the app's own pool.
const sender = remember('carcosa.job-sender', () => new PgBoss({ db: throughPrisma(prisma) }))

/**
 * Enqueues a job inside the caller's transaction: the job exists if and only if the transaction
 * commits, so work announced by a change is neither lost nor done for a change that rolled back.
 * `null` enqueues on its own, for callers that have no transaction.
 */
export async function enqueueJob<Q extends QueueName>(
  tx: Transaction | null,
  queue: Q,
  data: JobPayloads[Q],
  options: Pick<SendOptions, 'startAfter' | 'singletonKey' | 'group'> = {},
): Promise<void> {
  await sender.send(queue, data, {
    ...options,
    ...(tx ? { db: throughPrisma(tx) } : {}),
  })
}

/**
 * Enqueues several jobs of one queue in one statement (`insert`), outside any transaction: for
 * work batched off the request path.
 */
export async function enqueueJobs<Q extends QueueName>(
  queue: Q,
  jobs: Array<{ data: JobPayloads[Q] } & Pick<SendOptions, 'startAfter' | 'singletonKey'>>,
): Promise<void> {
  if (jobs.length === 0) return
  await sender.insert(queue, jobs)
}
