import { testDatabaseUrl } from '../support/test-database'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { prisma } from '~/utils/db.server'
import { sql } from '~/utils/sql.server'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Ends every server process serving this test's database except the caller's own (a failover, an operator's kill). */
async function terminateBackends() {
  const admin = new pg.Client({ connectionString: testDatabaseUrl })
  admin.on('error', () => {})
  await admin.connect()
  try {
    const { rows } = await admin.query<{ terminated: boolean }>(
      'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    )
    return rows.filter((row) => row.terminated).length
  } finally {
    await admin.end()
  }
}

test(
  'terminated database connections under light load fail their requests, never the process, and the next requests succeed',
  { timeout: 60_000 },
  async () => {
    // Light load: reads through Prisma and the raw pool, and transactions that hold a connection between statements.
    let stop = false
    let succeeded = 0
    let failed = 0
    const worker = async (kind: number) => {
      while (!stop) {
        try {
          if (kind === 0) await prisma.user.count()
          else if (kind === 1) await sql('SELECT 1 AS one')
          else
            await prisma.$transaction(async (tx) => {
              await tx.user.count()
              // Checked out and idle between statements: where an unheard 'error' used to end the process.
              await sleep(50)
              await tx.user.count()
            })
          succeeded++
        } catch {
          failed++
        }
      }
    }
    const workers = [0, 1, 2, 2, 0, 1].map((kind) => worker(kind))
    await sleep(500)
    const terminated = await terminateBackends()
    assert.ok(terminated > 0, 'connections of the pool were terminated')
    await sleep(300)
    assert.ok((await terminateBackends()) >= 0)
    await sleep(500)
    stop = true
    await Promise.all(workers)
    assert.ok(failed > 0, 'requests on the terminated connections failed')

    // The process is still here (an unhandled 'error' would have ended this test file) and recovers.
    const before = succeeded
    assert.equal(await prisma.user.count(), await prisma.user.count())
    assert.deepEqual(await sql('SELECT 1 AS one'), [{ one: 1 }])
    assert.equal(await prisma.$transaction(async (tx) => tx.user.count()), await prisma.user.count())
    assert.ok(before > 0)
  },
)
