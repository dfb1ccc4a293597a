import { PgBoss } from 'pg-boss'
import { QUEUES, REBUILDABLE_QUEUES } from './queues'

/**
 * Creates or upgrades the job tables (pg-boss's own `pgboss` schema, under its advisory lock, so
 * instances starting together take turns) and Carcosa's queues. Runs after the migrations, at every
 * start and in `npm run db:migrate`; running it again changes nothing.
 */
export async function prepareJobStore(databaseUrl: string): Promise<void> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 2, supervise: false, schedule: false, migrate: true })
  boss.on('error', () => {}) // start() rejects with the same error
  await boss.start()
  try {
    for (const { name, ...options } of Object.values(QUEUES)) {
      const existing = await boss.getQueue(name)
      if (existing && existing.policy !== options.policy && REBUILDABLE_QUEUES.has(name)) {
        await boss.deleteQueue(name)
        await boss.createQueue(name, options)
      } else if (existing) {
        const { policy: _policy, heartbeatSeconds: _heartbeat, ...changeable } = options as typeof options & { heartbeatSeconds?: number }
        await boss.updateQueue(name, changeable)
      } else {
        await boss.createQueue(name, options)
      }
    }
  } finally {
    await boss.stop({ graceful: false, close: true })
  }
}
