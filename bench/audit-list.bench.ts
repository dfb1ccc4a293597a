/**
 * `npm run bench:audit-list [-- --rows 1000000 --rounds 40]`: one page of the audit log, filtered,
 * over ROWS entries. Starts a throwaway embedded PostgreSQL, migrates it, makes an organization (its
 * owner, a team, 20 projects) and seeds ROWS entries with generate_series in one statement (80% in
 * that organization, the rest in 9 others; 20 actors, 30 actions, 1,000 tenants, a year of
 * timestamps). The append trigger is switched off while seeding: the bench measures reading, not
 * chaining. Then, ROUNDS times in a shuffled order, each query shape of the API (scope alone,
 * action, action prefix, actor, actor kind, target, tenant, a week's range, a page deep behind a
 * cursor) is answered twice: by `listAuditLogs` (authorization, Prisma, the keyset page; what
 * `GET /api/v1/audit-logs` runs) and by a hand-written pg query returning the same page (the
 * reference). Prints p50/p99 per shape and overall, the ratio to the reference, and the target
 * (p99 under 50 ms per page).
 */
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import { ms, percentiles, startScratchDatabase } from './support/scratch-database'

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index > 0 ? Number(process.argv[index + 1]) || fallback : fallback
}
const ROWS = arg('rows', 1_000_000)
const ROUNDS = arg('rounds', 40)
const PAGE = 50
/** How deep the cursor of the last shape lies in the organization's entries. */
const DEEP = Math.floor(ROWS * 0.4)
const TARGET_P99_MS = 50

const ACTIONS = [
  'file.create',
  'file.delete',
  'upload.create',
  'upload.fail',
  'upload.abort',
  'tenant.create',
  'tenant.update',
  'tenant.delete',
  'project.update',
  'project.settings.update',
  'api_key.create',
  'api_key.revoke',
  'api_key.update',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.test',
  'bucket.update',
  'bucket.test',
  'bucket.share',
  'team.member.add',
  'team.member.update',
  'transform_preset.create',
  'transform_preset.update',
  'transform_secret.rotate',
  'invitation.create',
  'invitation.accept',
  'organization.member.update',
  'auth.credential_refused',
  'project.rate_limits.update',
]
const TARGETS = ['file', 'upload', 'tenant', 'project', 'api_key', 'webhook_endpoint', 'bucket', 'user']

async function main() {
  const database = await startScratchDatabase('audit')
  try {
    const { prisma } = await import('../app/utils/db.server')
    const { userActor } = await import('../app/services/actor')
    const { listAuditLogs } = await import('../app/services/audit/audit-log.server')
    type Query = Parameters<typeof listAuditLogs>[1]

    const owner = await prisma.user.create({ data: { email: 'owner@bench.test', name: 'Owner', passwordHash: 'x' } })
    const organization = await prisma.organization.create({
      data: { name: 'Bench', slug: 'bench', members: { create: { userId: owner.id, role: 'OWNER' } } },
    })
    const team = await prisma.team.create({ data: { organizationId: organization.id, name: 'Bench', slug: 'bench' } })
    const projects: string[] = []
    for (let i = 0; i < 20; i++) projects.push((await prisma.project.create({ data: { teamId: team.id, name: `P${i}`, slug: `p${i}` } })).id)
    const actors = [owner.id, ...Array.from({ length: 19 }, (_, i) => `actor-${i}`)]

    const client = new pg.Client({ connectionString: database.url })
    client.on('error', () => {})
    await client.connect()
    let started = performance.now()
    await client.query('ALTER TABLE "AuditLog" DISABLE TRIGGER carcosa_audit_append')
    // Row g: newest first (g = 1 is now), 31 s apart: 1,000,000 rows span about a year.
    await client.query(
      `INSERT INTO "AuditLog" (id, "chainKey", seq, "organizationId", "teamId", "projectId", "tenantId", "actorType", "actorId", "ipAddress", "userAgent",
                               action, "targetType", "targetId", after, "createdAt", "prevHash", hash)
       SELECT 'e' || g, o, g, o, CASE WHEN mine THEN $2 ELSE 'team-' || (g % 10) END, CASE WHEN mine THEN ($3::text[])[1 + g % 20] ELSE 'project-' || (g % 10) END,
              'tn-' || (g % 1000), CASE WHEN g % 100 = 0 THEN 'anonymous' WHEN g % 7 = 0 THEN 'api-key' ELSE 'user' END, ($4::text[])[1 + (g / 3) % 20],
              '192.0.2.' || (g % 250), 'bench-agent', ($5::text[])[1 + (g * 7) % 30], ($6::text[])[1 + g % 8], 't-' || (g % 50000),
              jsonb_build_object('n', g), (now() AT TIME ZONE 'UTC') - g * interval '31 seconds', md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text)
       FROM (SELECT g, g % 10 < 8 AS mine, CASE WHEN g % 10 < 8 THEN $1 ELSE 'org-' || (g % 10) END AS o FROM generate_series(1, $7::int) g) s`,
      [organization.id, team.id, projects, actors, ACTIONS, TARGETS, ROWS],
    )
    await client.query('ALTER TABLE "AuditLog" ENABLE TRIGGER carcosa_audit_append')
    await client.query('ANALYZE "AuditLog"')
    console.log(
      `seeded ${ROWS.toLocaleString('en-US')} entries in ${((performance.now() - started) / 1000).toFixed(1)} s (with indexes, then ANALYZE)`,
    )

    const o = organization.id
    const day = 86_400_000
    const weekFrom = new Date(Date.now() - 100 * day)
    const weekTo = new Date(weekFrom.getTime() + 7 * day)
    const deep = await client.query<{ id: string }>(
      `SELECT id FROM "AuditLog" WHERE "organizationId" = $1 ORDER BY "createdAt" DESC, id DESC OFFSET $2 LIMIT 1`,
      [o, DEEP],
    )
    const cursor = deep.rows[0]!.id
    const columns = `id, seq, "organizationId", "teamId", "projectId", "tenantId", "actorType", "actorId", "ipAddress", "userAgent", action, "targetType", "targetId", "createdAt", "prevHash", hash`
    const page = `ORDER BY "createdAt" DESC, id DESC LIMIT ${PAGE + 1}`

    // Each shape: the service's query and the reference's SQL for the same page.
    const shapes: { name: string; query: Omit<Query, 'limit'>; sql: string; values: unknown[] }[] = [
      { name: 'organization', query: { organizationId: o }, sql: `WHERE "organizationId" = $1`, values: [o] },
      {
        name: 'organization + action',
        query: { organizationId: o, action: 'file.delete' },
        sql: `WHERE "organizationId" = $1 AND action = $2`,
        values: [o, 'file.delete'],
      },
      {
        name: 'organization + action prefix',
        query: { organizationId: o, action: 'bucket.*' },
        sql: `WHERE "organizationId" = $1 AND action LIKE 'bucket.%'`,
        values: [o],
      },
      {
        name: 'organization + actor',
        query: { organizationId: o, actorId: actors[3] },
        sql: `WHERE "organizationId" = $1 AND "actorId" = $2`,
        values: [o, actors[3]],
      },
      {
        name: 'organization + anonymous',
        query: { organizationId: o, actorType: 'anonymous' },
        sql: `WHERE "organizationId" = $1 AND "actorType" = 'anonymous'`,
        values: [o],
      },
      {
        name: 'organization + target',
        query: { organizationId: o, targetType: 'file', targetId: 't-12344' },
        sql: `WHERE "organizationId" = $1 AND "targetType" = 'file' AND "targetId" = 't-12344'`,
        values: [o],
      },
      {
        name: 'organization + week',
        query: { organizationId: o, from: weekFrom, to: weekTo },
        sql: `WHERE "organizationId" = $1 AND "createdAt" >= $2 AND "createdAt" < $3`,
        values: [o, weekFrom, weekTo],
      },
      { name: 'project', query: { projectId: projects[5] }, sql: `WHERE "projectId" = $1`, values: [projects[5]] },
      {
        name: 'project + tenant',
        query: { projectId: projects[17], tenantId: 'tn-17' },
        sql: `WHERE "projectId" = $1 AND "tenantId" = 'tn-17'`,
        values: [projects[17]],
      },
      {
        name: 'project + action',
        query: { projectId: projects[3], action: 'tenant.update' },
        sql: `WHERE "projectId" = $1 AND action = 'tenant.update'`,
        values: [projects[3]],
      },
      {
        name: `organization, page ${DEEP.toLocaleString('en-US')} entries deep`,
        query: { organizationId: o, cursor },
        sql: `WHERE "organizationId" = $1 AND ("createdAt", id) < (SELECT "createdAt", id FROM "AuditLog" WHERE id = $2)`,
        values: [o, cursor],
      },
    ]
    const actor = userActor(owner.id, { ipAddress: '127.0.0.1', userAgent: 'bench' })
    const service: Record<string, number[]> = {}
    const reference: Record<string, number[]> = {}
    // Warm-up: plans, pools and caches.
    for (const shape of shapes) {
      await listAuditLogs(actor, { ...shape.query, limit: PAGE })
      await client.query(`SELECT ${columns} FROM "AuditLog" ${shape.sql} ${page}`, shape.values)
    }
    started = performance.now()
    let sizes = 0
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...shapes].sort(() => Math.random() - 0.5)
      for (const shape of order) {
        let at = performance.now()
        const result = await listAuditLogs(actor, { ...shape.query, limit: PAGE })
        ;(service[shape.name] ??= []).push(performance.now() - at)
        at = performance.now()
        const rows = await client.query(`SELECT ${columns} FROM "AuditLog" ${shape.sql} ${page}`, shape.values)
        ;(reference[shape.name] ??= []).push(performance.now() - at)
        if (Math.min(rows.rows.length, PAGE) !== result.items.length)
          throw new Error(`${shape.name}: the service answered ${result.items.length} entries, the reference ${rows.rows.length}`)
        sizes += result.items.length
      }
    }
    console.log(
      `${ROUNDS} rounds of ${shapes.length} shapes in ${((performance.now() - started) / 1000).toFixed(1)} s (${sizes} entries answered); load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`,
    )
    console.log('')
    console.log(
      `${'shape'.padEnd(52)} ${'service p50'.padStart(12)} ${'p99'.padStart(10)}   ${'reference p50'.padStart(13)} ${'p99'.padStart(10)}   ratio p99`,
    )
    for (const shape of shapes) {
      const s = percentiles(service[shape.name]!)
      const r = percentiles(reference[shape.name]!)
      console.log(
        `${shape.name.padEnd(52)} ${ms(s.p50).padStart(12)} ${ms(s.p99).padStart(10)}   ${ms(r.p50).padStart(13)} ${ms(r.p99).padStart(10)}   ${(s.p99 / r.p99).toFixed(2)}`,
      )
    }
    const all = percentiles(Object.values(service).flat())
    const allReference = percentiles(Object.values(reference).flat())
    console.log('')
    console.log(
      `all pages: service p50 ${ms(all.p50)}, p99 ${ms(all.p99)} (n=${all.n}); reference p50 ${ms(allReference.p50)}, p99 ${ms(allReference.p99)}; ratio p99 ${(all.p99 / allReference.p99).toFixed(2)}`,
    )
    console.log(`target: p99 under ${TARGET_P99_MS} ms per page: ${all.p99 < TARGET_P99_MS ? 'met' : 'MISSED'}`)
    await client.end()
  } finally {
    await database.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
