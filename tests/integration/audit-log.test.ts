/**
 * Reading and trusting the audit log: the API's filters, pages and permissions (keys see their
 * project, users what their roles allow, nothing across projects or organizations), the hash chain
 * (one chain per organization even with concurrent writers; verification names an entry altered in
 * the database behind the triggers), the triggers refusing UPDATE and DELETE to the app's own
 * connection, retention that keeps verification green, and refused credentials being recorded.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { before, describe, test } from 'node:test'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { revokeApiKey } from '~/services/api-keys/api-keys.server'
import { verifyAuditChain } from '~/services/audit/audit-log.server'
import { pruneAuditLogs } from '~/services/audit/retention.server'
import { recordAudit } from '~/services/audit/record-audit.server'
import { sealAuditChain } from '~/services/audit/seal.server'
import { createTenant } from '~/services/tenants/tenants.server'
import { createTeam } from '~/services/workspaces/teams.server'
import { updateProject } from '~/services/workspaces/projects.server'
import { updateProjectSchema } from '~/services/workspaces/schemas'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import { addMember, createProjectIn, createTestApiKey, createTestUser, createWorkspace, testMeta, type TestUser } from '../support/factories'

type Workspace = Awaited<ReturnType<typeof createWorkspace>>

let world: Workspace
let projectB: { id: string }
let keyA: string
let keyANoAudit: string
let ownerToken: string
let member: TestUser
let memberToken: string
let stranger: Workspace
let strangerToken: string
let tenantA: { id: string }

const tokenOf = async (user: TestUser) => (await issueTokens(user.user.id, testMeta())).accessToken
const list = (token: string, query: Record<string, string> = {}) => api('GET', `/api/v1/audit-logs?${new URLSearchParams(query)}`, { token })

before(async () => {
  world = await createWorkspace()
  projectB = await createProjectIn(world.owner.actor, world.team.id)
  keyA = (await createTestApiKey(world.owner.actor, world.project.id, ['audit-logs:read'])).key
  keyANoAudit = (await createTestApiKey(world.owner.actor, world.project.id, ['files:read'])).key
  ownerToken = await tokenOf(world.owner)
  member = await addMember(world.organization.id, world.owner.actor, 'MEMBER')
  memberToken = await tokenOf(member)
  stranger = await createWorkspace()
  strangerToken = await tokenOf(stranger.owner)
  tenantA = await createTenant(world.owner.actor, { projectId: world.project.id, slug: 'acme', name: 'Acme' })
  await createTenant(world.owner.actor, { projectId: projectB.id, slug: 'other', name: 'Other' })
  await updateProject(world.owner.actor, world.project.id, updateProjectSchema.parse({ name: 'Renamed A', slug: 'renamed-a' }))
})

describe('GET /api/v1/audit-logs', () => {
  test("an API key sees its own project's entries, filtered and paged", async () => {
    const all = await list(keyA, { limit: '100' })
    assert.equal(all.status, 200, all.text)
    assert.ok(all.json.items.length >= 3)
    for (const entry of all.json.items) assert.equal(entry.projectId, world.project.id)
    assert.ok(!('before' in all.json.items[0]), 'the list leaves before/after to the detail')

    const tenants = await list(keyA, { action: 'tenant.create' })
    assert.deepEqual(
      tenants.json.items.map((entry: { target: { id: string }; tenantId: string }) => [entry.target.id, entry.tenantId]),
      [[tenantA.id, tenantA.id]],
    )
    const byTenant = await list(keyA, { tenantId: tenantA.id })
    assert.deepEqual(
      byTenant.json.items.map((entry: { action: string }) => entry.action),
      ['tenant.create'],
    )
    const byTarget = await list(keyA, { targetType: 'project', targetId: world.project.id, action: 'project.*' })
    assert.deepEqual(
      byTarget.json.items.map((entry: { action: string }) => entry.action),
      ['project.update', 'project.create'],
    )
    const byActor = await list(keyA, { actorId: world.owner.user.id, actorType: 'user' })
    assert.equal(byActor.json.items.length, all.json.items.length)
    const byOtherActor = await list(keyA, { actorId: member.user.id })
    assert.deepEqual(byOtherActor.json.items, [])
    const future = await list(keyA, { from: '2999-01-01' })
    assert.deepEqual(future.json.items, [])
    const untilNow = await list(keyA, { to: new Date(Date.now() + 60_000).toISOString(), limit: '100' })
    assert.equal(untilNow.json.items.length, all.json.items.length)

    // Pages of one follow each other to the end, newest first, without repeating an entry.
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = await list(keyA, { limit: '1', ...(cursor ? { cursor } : {}) })
      assert.equal(page.status, 200)
      seen.push(...page.json.items.map((entry: { id: string }) => entry.id))
      cursor = page.json.nextCursor
    } while (cursor)
    assert.deepEqual(
      seen,
      all.json.items.map((entry: { id: string }) => entry.id),
    )
  })

  test('keys reach no other project, team or organization; a key without audit-logs:read is refused', async () => {
    assertProblem(await list(keyA, { projectId: projectB.id }), 404)
    assertProblem(await list(keyA, { projectId: stranger.project.id }), 404)
    assertProblem(await list(keyA, { teamId: world.team.id }), 404)
    assertProblem(await list(keyA, { organizationId: world.organization.id }), 404)
    assertProblem(await list(keyANoAudit), 403)
    const entryOfB = await prisma.auditLog.findFirstOrThrow({ where: { projectId: projectB.id } })
    assertProblem(await api('GET', `/api/v1/audit-logs/${entryOfB.id}`, { token: keyA }), 404)
  })

  test("users: owners see the organization's, members their projects', strangers nothing", async () => {
    const organization = await list(ownerToken, { organizationId: world.organization.id, limit: '100' })
    assert.equal(organization.status, 200)
    const projects = new Set(organization.json.items.map((entry: { projectId: string | null }) => entry.projectId))
    assert.ok(projects.has(world.project.id) && projects.has(projectB.id) && projects.has(null))
    for (const entry of organization.json.items) assert.equal(entry.organizationId, world.organization.id)
    // No scope named: every organization the user administers.
    const mine = await list(ownerToken, { limit: '100' })
    assert.equal(mine.json.items.length, organization.json.items.length)

    const team = await list(ownerToken, { teamId: world.team.id, action: 'tenant.create' })
    assert.equal(team.json.items.length, 2)

    assertProblem(await list(memberToken, { organizationId: world.organization.id }), 403)
    assertProblem(await list(memberToken, { teamId: world.team.id }), 403)
    const asMember = await list(memberToken, { projectId: world.project.id })
    assert.equal(asMember.status, 200)
    for (const entry of asMember.json.items) assert.equal(entry.projectId, world.project.id)

    assertProblem(await list(strangerToken, { organizationId: world.organization.id }), 404)
    assertProblem(await list(strangerToken, { projectId: world.project.id }), 404)
    const strangers = await list(strangerToken, { limit: '100' })
    for (const entry of strangers.json.items) assert.equal(entry.organizationId, stranger.organization.id)
    const entry = organization.json.items[0]
    assertProblem(await api('GET', `/api/v1/audit-logs/${entry.id}`, { token: strangerToken }), 404)
  })

  test('the detail carries before and after; bad filters are 400 naming the field', async () => {
    const [update] = (await list(keyA, { action: 'project.update' })).json.items
    const detail = await api('GET', `/api/v1/audit-logs/${update.id}`, { token: keyA })
    assert.equal(detail.status, 200)
    assert.equal(detail.json.before.name, world.project.name)
    assert.equal(detail.json.after.name, 'Renamed A')
    assert.match(detail.json.hash, /^[0-9a-f]{64}$/)

    const badDate = await list(keyA, { from: 'yesterday' })
    assertProblem(badDate, 400)
    assert.match(JSON.stringify(badDate.json.errors), /"from"/)
    const twoScopes = await list(ownerToken, { projectId: world.project.id, teamId: world.team.id })
    assertProblem(twoScopes, 400)
    assert.match(JSON.stringify(twoScopes.json.errors), /"organizationId"/)
    assertProblem(await list(keyA, { actorType: 'robot' }), 400)
    assertProblem(await list(keyA, { limit: '1000' }), 400)
  })
})

/** Changes one row as a superuser would, with the append-only trigger switched off for that statement only. */
async function tamper(sql: string) {
  await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe('SET LOCAL session_replication_role = replica')
    await tx.$executeRawUnsafe(sql)
  })
}

describe('the hash chain', () => {
  test('verification points at an entry altered in the database', async () => {
    const { owner, organization, project } = await createWorkspace()
    for (const slug of ['one', 'two', 'three']) await createTenant(owner.actor, { projectId: project.id, slug, name: slug })
    const token = await tokenOf(owner)
    const clean = await api('GET', `/api/v1/audit-logs/verify?organizationId=${organization.id}`, { token })
    assert.equal(clean.status, 200)
    assert.deepEqual([clean.json.ok, clean.json.firstBroken], [true, null])
    assert.equal(clean.json.checked, Number(clean.json.lastSeq))

    const victim = await prisma.auditLog.findFirstOrThrow({
      where: { organizationId: organization.id, action: 'tenant.create', targetId: { not: null } },
      orderBy: { seq: 'asc' },
    })
    await tamper(`UPDATE "AuditLog" SET after = '{"name": "forged"}' WHERE id = '${victim.id}'`)
    const broken = await api('GET', `/api/v1/audit-logs/verify?organizationId=${organization.id}`, { token })
    assert.equal(broken.json.ok, false)
    assert.deepEqual(
      [broken.json.firstBroken.id, broken.json.firstBroken.seq, broken.json.firstBroken.reason],
      [victim.id, String(victim.seq), 'hash_mismatch'],
    )
    // A project key verifies its organization's chain too, and is told the entry when it may see it.
    const key = (await createTestApiKey(owner.actor, project.id, ['audit-logs:read'])).key
    const byKey = await api('GET', '/api/v1/audit-logs/verify', { token: key })
    assert.equal(byKey.json.firstBroken.id, victim.id)
  })

  test('a deleted entry, and a re-hashed forgery, break the link after them', async () => {
    const { owner, organization, project } = await createWorkspace()
    for (const slug of ['a', 'b', 'c', 'd']) await createTenant(owner.actor, { projectId: project.id, slug, name: slug })
    await sealAuditChain(organization.id)
    const rows = await prisma.auditLog.findMany({ where: { organizationId: organization.id }, orderBy: { seq: 'asc' } })
    const [, second, third, fourth] = rows
    await tamper(`DELETE FROM "AuditLog" WHERE id = '${second!.id}'`)
    let result = await verifyAuditChain(owner.actor, { organizationId: organization.id })
    assert.deepEqual([result.firstBroken?.id, result.firstBroken?.reason], [third!.id, 'missing_entries'])

    const other = await createWorkspace()
    for (const slug of ['a', 'b']) await createTenant(other.owner.actor, { projectId: other.project.id, slug, name: slug })
    await sealAuditChain(other.organization.id)
    const [firstOfOther, secondOfOther] = await prisma.auditLog.findMany({
      where: { organizationId: other.organization.id },
      orderBy: { seq: 'asc' },
    })
    // The forger recomputes the altered entry's own hash: the next entry no longer links to it.
    await tamper(`UPDATE "AuditLog" a SET action = 'forged' WHERE id = '${firstOfOther!.id}'`)
    await tamper(`UPDATE "AuditLog" a SET hash = carcosa_audit_hash(a) WHERE id = '${firstOfOther!.id}'`)
    result = await verifyAuditChain(other.owner.actor, { organizationId: other.organization.id })
    assert.deepEqual([result.firstBroken?.id, result.firstBroken?.reason], [secondOfOther!.id, 'previous_hash_mismatch'])
    assert.ok(fourth)
  })

  test('concurrent writers in one organization form one unbroken chain', async () => {
    const { owner, organization, project } = await createWorkspace()
    await Promise.all(Array.from({ length: 10 }, (_, i) => createTenant(owner.actor, { projectId: project.id, slug: `t-${i}`, name: `T ${i}` })))
    // Sealers of one chain take turns: two at once number every entry once.
    await Promise.all([sealAuditChain(organization.id), sealAuditChain(organization.id)])
    const rows = await prisma.auditLog.findMany({
      where: { organizationId: organization.id },
      orderBy: { seq: 'asc' },
      select: { seq: true, prevHash: true, hash: true },
    })
    assert.deepEqual(
      rows.map((row) => row.seq),
      rows.map((_, i) => BigInt(i + 1)),
    )
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prevHash, rows[i - 1]!.hash)
    const result = await verifyAuditChain(owner.actor, { organizationId: organization.id })
    assert.deepEqual([result.ok, result.checked], [true, rows.length])
  })
})

describe('sealing (ADR 028)', () => {
  test('an entry is written unsealed and joins its chain moments later, without anyone asking', async () => {
    const { owner, organization, project } = await createWorkspace()
    const tenant = await createTenant(owner.actor, { projectId: project.id, slug: 'later', name: 'Later' })
    const entry = () => prisma.auditLog.findFirstOrThrow({ where: { organizationId: organization.id, targetId: tenant.id } })
    const deadline = Date.now() + 5_000
    let sealed = await entry()
    while (sealed.seq === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      sealed = await entry()
    }
    assert.notEqual(sealed.seq, null, 'sealed within 5 s of its write')
    assert.equal(sealed.hash.length, 64)
    const head = await prisma.auditChain.findUniqueOrThrow({ where: { key: organization.id } })
    assert.ok(head.lastSeq >= sealed.seq!)
  })

  test('a steady stream of writes is sealed as it goes, not only once it pauses', async () => {
    const { owner, organization } = await createWorkspace()
    const started = Date.now()
    let written = 0
    // Four writers back to back for 1.5 s: an entry every few milliseconds, never a pause as long as the sealing delay.
    const writer = async () => {
      while (Date.now() - started < 1_500) {
        await prisma.$transaction((tx) =>
          recordAudit(tx, owner.actor, testMeta(), {
            organizationId: organization.id,
            action: 'organization.update',
            targetType: 'organization',
          }),
        )
        written++
      }
    }
    const writing = Promise.all([writer(), writer(), writer(), writer()])
    // Looked at while the writers are still at it: what they wrote in their first 400 ms is sealed by now.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const early = await prisma.auditLog.findMany({
      where: { organizationId: organization.id, action: 'organization.update', createdAt: { lt: new Date(started + 400) } },
      select: { seq: true },
    })
    const writtenSoFar = written
    await writing
    assert.ok(early.length > 0 && written > writtenSoFar, 'the writers were still writing when the entries were looked at')
    assert.deepEqual(
      early.filter((entry) => entry.seq === null),
      [],
      `${writtenSoFar} writes so far; the first 400 ms' entries are sealed while writing goes on`,
    )
  })

  test("an unsealed entry can receive only its own seal: the app's connection can neither change it nor seal it with a made-up hash", async () => {
    const { owner, organization } = await createWorkspace()
    const id = `unsealed-${randomBytes(4).toString('hex')}`
    // Written straight into the table: no process notes it, so it stays unsealed until asked.
    await prisma.$executeRaw`INSERT INTO "AuditLog" (id, "organizationId", "actorType", "actorId", action, "targetType")
      VALUES (${id}, ${organization.id}, 'user', ${owner.user.id}, 'organization.update', 'organization')`
    assert.equal((await prisma.auditLog.findUniqueOrThrow({ where: { id } })).seq, null)
    await assert.rejects(prisma.auditLog.update({ where: { id }, data: { action: 'forged' } }), /append-only/)
    await assert.rejects(prisma.$executeRawUnsafe(`UPDATE "AuditLog" SET seq = 99, hash = 'made-up' WHERE id = '${id}'`), /append-only/)
    await assert.rejects(
      prisma.$executeRawUnsafe(`UPDATE "AuditLog" a SET seq = 99, action = 'forged', hash = carcosa_audit_hash(a) WHERE id = '${id}'`),
      /append-only/,
    )
    await sealAuditChain(organization.id)
    const sealed = await prisma.auditLog.findUniqueOrThrow({ where: { id } })
    assert.equal(sealed.action, 'organization.update')
    assert.notEqual(sealed.seq, null)
    // Once sealed, never again.
    await assert.rejects(
      prisma.$executeRawUnsafe(`UPDATE "AuditLog" a SET seq = seq + 100, hash = carcosa_audit_hash(a) WHERE id = '${id}'`),
      /append-only/,
    )
    assert.equal((await verifyAuditChain(owner.actor, { organizationId: organization.id })).ok, true)
  })

  test('verification seals what was written before it, so it covers every entry', async () => {
    const { owner, organization, project } = await createWorkspace()
    for (const slug of ['x', 'y', 'z']) await createTenant(owner.actor, { projectId: project.id, slug, name: slug })
    const written = await prisma.auditLog.count({ where: { organizationId: organization.id } })
    const result = await verifyAuditChain(owner.actor, { organizationId: organization.id })
    assert.deepEqual([result.ok, result.checked, result.lastSeq], [true, written, String(written)])
    assert.equal(await prisma.auditLog.count({ where: { organizationId: organization.id, seq: null } }), 0)
  })
})

describe('append-only', () => {
  test("the app's connection can neither UPDATE nor DELETE an entry, nor move a chain's anchor onto recent entries", async () => {
    await sealAuditChain(world.organization.id)
    const entry = await prisma.auditLog.findFirstOrThrow({ where: { organizationId: world.organization.id } })
    await assert.rejects(prisma.auditLog.update({ where: { id: entry.id }, data: { action: 'forged' } }), /append-only/)
    await assert.rejects(prisma.auditLog.delete({ where: { id: entry.id } }), /append-only/)
    await assert.rejects(prisma.$executeRawUnsafe(`DELETE FROM "AuditLog" WHERE "organizationId" = '${world.organization.id}'`), /append-only/)
    await assert.rejects(
      prisma.$executeRawUnsafe(
        `UPDATE "AuditChain" SET "anchorSeq" = ${entry.seq}, "anchorHash" = '${entry.hash}' WHERE key = '${world.organization.id}'`,
      ),
      /older than a day/,
    )
    await assert.rejects(
      prisma.$executeRawUnsafe(`UPDATE "AuditChain" SET "lastSeq" = 0 WHERE key = '${world.organization.id}'`),
      /only moves forward/,
    )
    assert.equal((await prisma.auditLog.findUniqueOrThrow({ where: { id: entry.id } })).action, entry.action)
  })
})

describe('retention', () => {
  test('pruning removes entries past AUDIT_RETENTION_DAYS and what remains still verifies from the anchor', async () => {
    const owner = await createTestUser()
    // The organization's row without its creation entry, so its chain can begin with old entries.
    const organization = await prisma.organization.create({
      data: { name: 'Old Org', slug: `old-${randomBytes(4).toString('hex')}`, members: { create: { userId: owner.user.id, role: 'OWNER' } } },
    })
    for (let i = 0; i < 5; i++) {
      await prisma.$executeRaw`INSERT INTO "AuditLog" (id, "organizationId", "actorType", "actorId", action, "targetType", "createdAt")
        VALUES (${`old-${organization.id}-${i}`}, ${organization.id}, 'user', ${owner.user.id}, 'organization.update', 'organization', now() - make_interval(days => ${400 - i}))`
    }
    await createTeam(owner.actor, organization.id, { name: 'Recent team' })
    const before = await verifyAuditChain(owner.actor, { organizationId: organization.id })
    assert.deepEqual([before.ok, before.checked], [true, 6])

    await pruneAuditLogs({ retentionDays: 30 })
    const left = await prisma.auditLog.findMany({ where: { organizationId: organization.id }, select: { action: true, seq: true } })
    assert.deepEqual(left, [{ action: 'team.create', seq: 6n }])
    const after = await verifyAuditChain(owner.actor, { organizationId: organization.id })
    assert.deepEqual([after.ok, after.checked, after.anchor.seq, after.anchor.prunedCount], [true, 1, '5', '5'])
    // Entries written later keep verifying, and pruning again has nothing to do.
    await createTeam(owner.actor, organization.id, { name: 'Later team' })
    assert.equal((await pruneAuditLogs({ retentionDays: 30 })).deleted, 0)
    assert.equal((await verifyAuditChain(owner.actor, { organizationId: organization.id })).ok, true)
  })
})

describe('refused credentials are recorded', () => {
  test('an unknown key, a revoked key and a malformed token each leave an entry; the secret never does', async () => {
    const unknown = `ck_${randomBytes(32).toString('base64url').slice(0, 43)}`
    assertProblem(await api('GET', '/api/v1/files', { token: unknown, ip: '198.51.100.7' }), 401)
    const revoked = await createTestApiKey(world.owner.actor, world.project.id, ['files:read'])
    await revokeApiKey(world.owner.actor, revoked.apiKey.id)
    assertProblem(await api('GET', '/api/v1/files', { token: revoked.key, ip: '198.51.100.8' }), 401)
    assertProblem(await api('GET', '/api/v1/files', { token: 'nonsense', ip: '198.51.100.9' }), 401)

    const entries = await prisma.auditLog.findMany({
      where: { action: 'auth.credential_refused', ipAddress: { in: ['198.51.100.7', '198.51.100.8', '198.51.100.9'] } },
      orderBy: { ipAddress: 'asc' },
    })
    assert.deepEqual(
      entries.map((entry) => [entry.ipAddress, entry.actorType, entry.targetId, entry.projectId]),
      [
        ['198.51.100.7', 'anonymous', null, null],
        ['198.51.100.8', 'anonymous', revoked.apiKey.id, world.project.id],
        ['198.51.100.9', 'anonymous', null, null],
      ],
    )
    const text = JSON.stringify(entries, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))
    assert.ok(!text.includes(unknown) && !text.includes(revoked.key))
    // The project's readers see attempts with its revoked keys.
    const seen = await list(keyA, { action: 'auth.credential_refused' })
    assert.deepEqual(
      seen.json.items.map((entry: { target: { id: string } }) => entry.target.id),
      [revoked.apiKey.id],
    )
  })
})
