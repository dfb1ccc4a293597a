/**
 * `npm run bench:usage-trends [-- --tenants 1000 --days 365 --rounds 40]`: the usage trends query
 * over a year of hourly rows for 1,000 tenants. Starts a throwaway embedded PostgreSQL, migrates it,
 * makes an organization, a team, a project and TENANTS tenants, and seeds with generate_series what
 * the flush would have written (ADR 018): one `UsageHourly` row per tenant per hour for DAYS days,
 * the project's `"*"` total per hour, and the `UsageDaily` rollups of both. Then, ROUNDS times in a
 * shuffled order, each trends shape (project and tenant, a year per day and 92 days per hour, and
 * the organization per day) is answered by `usageTrends` (authorization, scope, the rollup query,
 * zero-filled points: what `GET /api/v1/usage/trends` runs) and by a hand-written pg query summing
 * the same rows (the reference). A year's tenant breakdown (`usageBreakdown`, groupBy tenant) is
 * measured too, for information. Prints p50/p99 per shape, overall, the ratio to the reference and
 * the target (p99 under 50 ms).
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { ms, percentiles, startScratchDatabase } from './support/scratch-database'

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? Number(process.argv[index + 1]) || fallback : fallback
}
const TENANTS = arg('tenants', 1000)
const DAYS = arg('days', 365)
const ROUNDS = arg('rounds', 40)
const TARGET_P99_MS = 50
const DAY_MS = 86_400_000

async function main() {
  const database = await startScratchDatabase('usage')
  try {
    const { prisma } = await import('../app/utils/db.server')
    const { userActor } = await import('../app/services/actor')
    const { usageBreakdown, usageTrends } = await import('../app/services/usage/reports.server')
    const { usageQuerySchema } = await import('../app/services/usage/schemas')

    const owner = await prisma.user.create({ data: { email: 'owner@bench.test', name: 'Owner', passwordHash: 'x' } })
    const organization = await prisma.organization.create({
      data: { name: 'Bench', slug: 'bench', members: { create: { userId: owner.id, role: 'OWNER' } } },
    })
    const team = await prisma.team.create({ data: { organizationId: organization.id, name: 'Bench', slug: 'bench' } })
    const project = await prisma.project.create({ data: { teamId: team.id, name: 'Bench', slug: 'bench' } })

    const client = new pg.Client({ connectionString: database.url })
    client.on('error', () => {})
    await client.connect()
    const end = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS)
    const start = new Date(end.getTime() - DAYS * DAY_MS)
    let started = performance.now()
    await client.query(
      `INSERT INTO "Tenant" (id, "projectId", slug, name, "updatedAt") SELECT 'tenant-' || t, $1, 't' || t, 'Tenant ' || t, now() FROM generate_series(1, $2::int) t`,
      [project.id, TENANTS],
    )
    // What the flush writes, per tenant and hour: made-up but varied counts.
    await client.query(
      `INSERT INTO "UsageHourly" ("projectId", "tenantKey", hour, uploads, "uploadBytes", downloads, "downloadBytes", transforms, "transformBytes", "transformMs", "apiRequests")
       SELECT $1, 'tenant-' || t, $2::timestamp + h * interval '1 hour', (t + h) % 3, ((t + h) % 3) * 40960, (t * h) % 5, ((t * h) % 5) * 40960, h % 2, (h % 2) * 9000, (h % 2) * 35, 1 + (t + h) % 11
       FROM generate_series(1, $3::int) t, generate_series(0, $4::int - 1) h`,
      [project.id, start.toISOString().slice(0, 19), TENANTS, DAYS * 24],
    )
    const hourly = ((performance.now() - started) / 1000).toFixed(1)
    const sums = `sum(uploads), sum("uploadBytes"), sum(downloads), sum("downloadBytes"), sum(transforms), sum("transformBytes"), sum("transformMs"), sum("apiRequests")`
    const columns = `uploads, "uploadBytes", downloads, "downloadBytes", transforms, "transformBytes", "transformMs", "apiRequests"`
    await client.query(
      `INSERT INTO "UsageHourly" ("projectId", "tenantKey", hour, ${columns}) SELECT "projectId", '*', hour, ${sums} FROM "UsageHourly" GROUP BY "projectId", hour`,
    )
    await client.query(
      `INSERT INTO "UsageDaily" ("projectId", "tenantKey", day, ${columns}) SELECT "projectId", "tenantKey", hour::date, ${sums} FROM "UsageHourly" GROUP BY "projectId", "tenantKey", hour::date`,
    )
    await client.query('ANALYZE "UsageHourly"')
    await client.query('ANALYZE "UsageDaily"')
    const counts = await client.query<{ hourly: string; daily: string }>(
      `SELECT (SELECT count(*) FROM "UsageHourly") AS hourly, (SELECT count(*) FROM "UsageDaily") AS daily`,
    )
    console.log(
      `seeded ${Number(counts.rows[0]!.hourly).toLocaleString('en-US')} hourly rows (${hourly} s for the tenants' rows) and ${Number(counts.rows[0]!.daily).toLocaleString('en-US')} daily rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )

    const actor = userActor(owner.id, { ipAddress: '127.0.0.1', userAgent: 'bench' })
    const yearFrom = start.toISOString()
    const to = end.toISOString()
    const hourFrom = new Date(end.getTime() - 92 * DAY_MS).toISOString()
    const tenant = `tenant-${Math.ceil(TENANTS / 3)}`
    const reference = (table: string, time: string, tenantKey: string, from: string, cast: string) => ({
      sql: `SELECT ${time} AS at, ${sums} FROM "${table}" WHERE "projectId" = ANY($1::text[]) AND "tenantKey" = $2 AND ${time} >= $3::${cast} AND ${time} < $4::${cast} GROUP BY ${time} ORDER BY ${time}`,
      values: [[project.id], tenantKey, cast === 'date' ? from.slice(0, 10) : from, cast === 'date' ? to.slice(0, 10) : to],
    })
    const shapes = [
      {
        name: 'project, a year per day',
        run: () => usageTrends(actor, usageQuerySchema.parse({ projectId: project.id, from: yearFrom, to, granularity: 'day' })),
        ...reference('UsageDaily', 'day', '*', yearFrom, 'date'),
      },
      {
        name: 'one tenant, a year per day',
        run: () =>
          usageTrends(actor, usageQuerySchema.parse({ projectId: project.id, tenantId: tenant, from: yearFrom, to, granularity: 'day' })),
        ...reference('UsageDaily', 'day', tenant, yearFrom, 'date'),
      },
      {
        name: 'project, 92 days per hour',
        run: () => usageTrends(actor, usageQuerySchema.parse({ projectId: project.id, from: hourFrom, to, granularity: 'hour' })),
        ...reference('UsageHourly', 'hour', '*', hourFrom, 'timestamp(3)'),
      },
      {
        name: 'one tenant, 92 days per hour',
        run: () =>
          usageTrends(actor, usageQuerySchema.parse({ projectId: project.id, tenantId: tenant, from: hourFrom, to, granularity: 'hour' })),
        ...reference('UsageHourly', 'hour', tenant, hourFrom, 'timestamp(3)'),
      },
      {
        name: 'organization, a year per day',
        run: () => usageTrends(actor, usageQuerySchema.parse({ organizationId: organization.id, from: yearFrom, to, granularity: 'day' })),
        ...reference('UsageDaily', 'day', '*', yearFrom, 'date'),
      },
    ]
    const breakdown = {
      name: '(info) breakdown by tenant, a year',
      run: () =>
        usageBreakdown(actor, usageQuerySchema.parse({ projectId: project.id, from: yearFrom, to, granularity: 'day', groupBy: 'tenant' })),
      sql: `SELECT "tenantKey", ${sums} FROM "UsageDaily" WHERE "projectId" = ANY($1::text[]) AND "tenantKey" <> '*' AND day >= $2::date AND day < $3::date GROUP BY "tenantKey" ORDER BY "tenantKey"`,
      values: [[project.id], yearFrom.slice(0, 10), to.slice(0, 10)],
    }
    const all = [...shapes, breakdown]
    for (const shape of all) {
      await shape.run()
      await client.query(shape.sql, shape.values)
    }
    const service: Record<string, number[]> = {}
    const handWritten: Record<string, number[]> = {}
    started = performance.now()
    for (let round = 0; round < ROUNDS; round++) {
      for (const shape of [...all].sort(() => Math.random() - 0.5)) {
        let at = performance.now()
        await shape.run()
        ;(service[shape.name] ??= []).push(performance.now() - at)
        at = performance.now()
        await client.query(shape.sql, shape.values)
        ;(handWritten[shape.name] ??= []).push(performance.now() - at)
      }
    }
    console.log(
      `${ROUNDS} rounds of ${all.length} shapes in ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${os.loadavg()[0]!.toFixed(1)}`,
    )
    console.log('')
    console.log(
      `${'shape'.padEnd(40)} ${'service p50'.padStart(12)} ${'p99'.padStart(10)}   ${'reference p50'.padStart(13)} ${'p99'.padStart(10)}   ratio p99`,
    )
    for (const shape of all) {
      const s = percentiles(service[shape.name]!)
      const r = percentiles(handWritten[shape.name]!)
      console.log(
        `${shape.name.padEnd(40)} ${ms(s.p50).padStart(12)} ${ms(s.p99).padStart(10)}   ${ms(r.p50).padStart(13)} ${ms(r.p99).padStart(10)}   ${(s.p99 / r.p99).toFixed(2)}`,
      )
    }
    const trends = percentiles(shapes.flatMap((shape) => service[shape.name]!))
    const trendsReference = percentiles(shapes.flatMap((shape) => handWritten[shape.name]!))
    console.log('')
    console.log(
      `trends: service p50 ${ms(trends.p50)}, p99 ${ms(trends.p99)} (n=${trends.n}); reference p50 ${ms(trendsReference.p50)}, p99 ${ms(trendsReference.p99)}; ratio p99 ${(trends.p99 / trendsReference.p99).toFixed(2)}`,
    )
    console.log(`target: trends p99 under ${TARGET_P99_MS} ms: ${trends.p99 < TARGET_P99_MS ? 'met' : 'MISSED'}`)
    await client.end()
  } finally {
    await database.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
