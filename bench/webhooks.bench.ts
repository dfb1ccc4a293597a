/**
 * `npm run bench:webhooks [-- --events 500]`: webhook delivery throughput to a local receiver.
 * Starts an embedded PostgreSQL in a temporary directory, one project with one endpoint pointing at
 * an HTTP receiver on 127.0.0.1, and Carcosa's job runner (relay + pg-boss workers, default
 * concurrency). Live: it commits N events (one transaction each, as services do) and measures the
 * time until all N deliveries are recorded SUCCEEDED. Backlog: N more events committed while no
 * runner runs, then the time one runner takes to relay, deliver and record them all (throughput
 * without the commit rate in the way). Reference: the same N signed bodies POSTed straight to the
 * receiver with the same concurrency, in the same run.
 */
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'

const EVENTS = Number(process.argv[process.argv.indexOf('--events') + 1]) || 500

async function main() {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-bench-webhooks-'))
  const { startEmbeddedPostgres } = await import('../app/utils/embedded-postgres.server')
  const database = await startEmbeddedPostgres({ dataDir, password: 'bench', database: 'carcosa_bench' })
  let received = 0
  const receiver = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      received++
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`
  try {
    Object.assign(process.env, {
      DATABASE_URL: database.url,
      SESSION_SECRET: 'bench-session-secret-that-is-long-enough-0123',
      CREDENTIALS_ENCRYPTION_KEY: 'base64:Y2FyY29zYS10ZXN0LWNyZWRlbnRpYWxzLWtleS0zMmI=',
      LOG_LEVEL: 'warn',
    })
    const { applyMigrations } = await import('../app/utils/migrate.server')
    const { prepareJobStore } = await import('../app/services/jobs/job-store.server')
    await applyMigrations(database.url)
    await prepareJobStore(database.url)
    const { prisma } = await import('../app/utils/db.server')
    const { recordEvent } = await import('../app/services/events/record-event.server')
    const { sealSecret } = await import('../app/utils/credentials.server')
    const { newWebhookSecret, webhookHeaders } = await import('../app/services/webhooks/signing.server')
    const { startJobRunner } = await import('../app/services/jobs/runner.server')
    const { getConfig } = await import('../app/utils/config.server')

    const organization = await prisma.organization.create({ data: { name: 'Bench', slug: 'bench' } })
    const team = await prisma.team.create({ data: { organizationId: organization.id, name: 'Bench', slug: 'bench' } })
    const project = await prisma.project.create({ data: { teamId: team.id, name: 'Bench', slug: 'bench' } })
    const secret = newWebhookSecret()
    await prisma.webhookEndpoint.create({ data: { projectId: project.id, url, secret: await sealSecret(secret) } })
    const body = JSON.stringify({
      type: 'tenant.deleted',
      timestamp: new Date().toISOString(),
      data: { projectId: project.id, tenantId: 'x', slug: 'x' },
    })

    // Reference: direct signed POSTs, WEBHOOK_CONCURRENCY at a time.
    const concurrency = getConfig().WEBHOOK_CONCURRENCY
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
    const post = () =>
      new Promise<void>((resolve, reject) => {
        const request = http.request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', ...webhookHeaders([secret], 'msg_ref', body) } },
          (res) => {
            res.resume()
            res.on('end', resolve)
          },
        )
        request.on('error', reject)
        request.end(body)
      })
    let next = 0
    const directStart = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < EVENTS) await post()
      }),
    )
    const directSeconds = (performance.now() - directStart) / 1000
    agent.destroy()
    received = 0

    const runner = await startJobRunner({ databaseUrl: database.url })
    const start = performance.now()
    for (let i = 0; i < EVENTS; i++) {
      await prisma.$transaction((tx) =>
        recordEvent(tx, { type: 'tenant.deleted', data: { projectId: project.id, tenantId: `t${i}`, slug: `t${i}` } }),
      )
    }
    const committedAt = performance.now()
    const committedSeconds = (committedAt - start) / 1000
    while ((await prisma.webhookDelivery.count({ where: { status: 'SUCCEEDED' } })) < EVENTS) {
      if (performance.now() - start > 300_000) throw new Error(`only ${received} of ${EVENTS} delivered in 300 s`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const seconds = (performance.now() - start) / 1000
    const drainSeconds = (performance.now() - committedAt) / 1000
    await runner.stop()

    // Throughput alone: a backlog of N events committed while no runner runs, then drained by one.
    for (let i = 0; i < EVENTS; i++) {
      await prisma.$transaction((tx) =>
        recordEvent(tx, { type: 'tenant.deleted', data: { projectId: project.id, tenantId: `b${i}`, slug: `b${i}` } }),
      )
    }
    const backlogStart = performance.now()
    const drainer = await startJobRunner({ databaseUrl: database.url })
    while ((await prisma.webhookDelivery.count({ where: { status: 'SUCCEEDED' } })) < 2 * EVENTS) {
      if (performance.now() - backlogStart > 300_000) throw new Error(`the backlog was not delivered in 300 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const backlogSeconds = (performance.now() - backlogStart) / 1000
    await drainer.stop()

    console.log(
      `events: ${EVENTS}, WEBHOOK_CONCURRENCY ${concurrency}, WEBHOOK_ENDPOINT_CONCURRENCY ${getConfig().WEBHOOK_ENDPOINT_CONCURRENCY}, one endpoint`,
    )
    console.log(
      `live: committed in ${committedSeconds.toFixed(2)} s; all delivered and recorded after ${seconds.toFixed(2)} s: ${(EVENTS / seconds).toFixed(0)} deliveries/s; the last ${drainSeconds.toFixed(2)} s after the last commit`,
    )
    console.log(
      `backlog: ${EVENTS} committed events relayed, delivered and recorded in ${backlogSeconds.toFixed(2)} s: ${(EVENTS / backlogSeconds).toFixed(0)} deliveries/s`,
    )
    console.log(
      `reference, direct signed POSTs: ${(EVENTS / directSeconds).toFixed(0)} req/s; ratio (backlog) ${(directSeconds / backlogSeconds).toFixed(3)}`,
    )
    console.log(
      `load average (1, 5, 15 min): ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(', ')} on ${os.cpus().length} cores`,
    )
    await prisma.$disconnect()
  } finally {
    receiver.close()
    await database.stop()
    await fs.rm(dataDir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
