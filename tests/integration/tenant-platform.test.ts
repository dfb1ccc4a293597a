/**
 * The tenant platform (docs/tenants.md, ADR 025) through the real app: status refusals, plans and
 * quotas (the parallel-init burst included), crossing events, tenant-scoped keys, lookup, import
 * and export. Real PostgreSQL and s3rver.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import sharp from 'sharp'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { authenticateApiKey } from '~/services/api-keys/api-keys.server'
import { canSubscribe } from '~/services/realtime/channel-access.server'
import { parseChannel, projectChannel, uploadChannel } from '~/services/realtime/channels'
import { forgetTenant, knownSource, rememberSource } from '~/services/transforms/known-sources.server'
import { signTransformUrl } from '~/services/transforms/sign-url.server'
import { checkStoredQuota } from '~/services/tenants/quota.server'
import { expireUpload } from '~/services/uploads/sweep-uploads.server'
import { prisma } from '~/utils/db.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'
import { api, assertProblem } from '../support/api-client'
import { auditEntries, createTestApiKey, createWorkspace, testMeta } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { attachS3Bucket } from '../support/storage-factories'

const BASE = 'http://carcosa.test'

async function setup() {
  const workspace = await createWorkspace()
  await attachS3Bucket(workspace.project.id)
  const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, [
    'files:read',
    'files:write',
    'files:delete',
    'transforms:execute',
    'tenants:manage',
    'projects:read',
    'api-keys:write',
  ])
  const tenant = async (slug: string, extra: Record<string, unknown> = {}) => {
    const created = await api('POST', '/api/v1/tenants', { token: key, body: { slug, name: slug.toUpperCase(), ...extra } })
    assert.equal(created.status, 201, created.text)
    return created.json as { id: string; slug: string }
  }
  return { ...workspace, key, tenant }
}

const init = (token: string, body: Record<string, unknown>) => api('POST', '/api/v1/uploads/init', { token, body })
const events = (projectId: string, type: string) => prisma.event.findMany({ where: { projectId, type }, orderBy: { createdAt: 'asc' } })
const setStatus = (token: string, tenantId: string, status: string) => api('PUT', `/api/v1/tenants/${tenantId}`, { token, body: { status } })

async function jpeg() {
  return sharp({ create: { width: 40, height: 30, channels: 3, background: '#00ff00' } })
    .jpeg()
    .toBuffer()
}

describe('tenant status', () => {
  test('suspended: uploads, downloads and transforms are refused with a 403 that says so; archived: read-only; active again: all allowed; changes audited and announced', async () => {
    const { key, tenant, project, owner } = await setup()
    const acme = await tenant('acme')
    const file = await putTestFile(project.id, {
      tenantId: acme.id,
      name: 'cat.jpg',
      path: 'acme/cat.jpg',
      contentType: 'image/jpeg',
      body: await jpeg(),
    })
    const signed = await signTransformUrl(owner.actor, project.id, { path: 'acme/cat.jpg', params: { w: 20 }, expiresIn: 600 }, BASE)

    const suspended = await setStatus(key, acme.id, 'suspended')
    assert.equal(suspended.status, 200, suspended.text)
    assert.equal(suspended.json.status, 'suspended')
    for (const refused of [
      await init(key, { fileName: 'a.txt', contentType: 'text/plain', size: 3, tenantId: acme.id }),
      await init(key, { fileName: 'a.txt', contentType: 'text/plain', size: 3, tenantSlug: 'acme' }),
      await api('GET', `/api/v1/files/${file.id}/download`, { token: key }),
      await api('GET', signed.url),
      await api('GET', `${BASE}/api/v1/transform/${project.id}/acme/cat.jpg?w=20`, { token: key }),
    ]) {
      assertProblem(refused, 403)
      assert.match(refused.json.detail, /acme is suspended/)
    }

    const archived = await setStatus(key, acme.id, 'archived')
    assert.equal(archived.json.status, 'archived')
    const noUpload = await init(key, { fileName: 'a.txt', contentType: 'text/plain', size: 3, tenantId: acme.id })
    assertProblem(noUpload, 403)
    assert.match(noUpload.json.detail, /archived and read-only/)
    assertProblem(await api('DELETE', `/api/v1/files/${file.id}`, { token: key }), 403)
    assertProblem(await api('POST', '/api/v1/files/bulk-delete', { token: key, body: { ids: [file.id] } }), 403)
    assert.equal((await api('GET', `/api/v1/files/${file.id}/download`, { token: key })).status, 302, 'an archived tenant stays readable')
    assert.equal((await api('GET', signed.url)).status, 200)

    assert.equal((await setStatus(key, acme.id, 'active')).json.status, 'active')
    assert.equal((await init(key, { fileName: 'a.txt', contentType: 'text/plain', size: 3, tenantId: acme.id })).status, 201)

    assert.deepEqual(
      (await prisma.event.findMany({ where: { projectId: project.id, type: { startsWith: 'tenant.' } }, orderBy: { createdAt: 'asc' } })).map(
        (e) => e.type,
      ),
      ['tenant.created', 'tenant.suspended', 'tenant.archived', 'tenant.activated'],
    )
    const [event] = await events(project.id, 'tenant.archived')
    assert.deepEqual((event!.data as { tenant: unknown }).tenant, {
      id: acme.id,
      slug: 'acme',
      name: 'ACME',
      status: 'archived',
      previousStatus: 'suspended',
    })
    const audits = await auditEntries({ targetId: acme.id, action: 'tenant.status' })
    assert.deepEqual(
      audits.map((entry) => (entry.after as { status: string }).status),
      ['suspended', 'archived', 'active'],
    )
  })

  test("a suspension stops this instance's memory answering the tenant's cached transforms, also when it is announced by another instance", async () => {
    const tenantId = 'tn_fast_path_probe'
    const source = {
      id: 'file-probe',
      updatedAt: new Date(),
      etag: null,
      size: 10n,
      contentType: 'image/jpeg',
      projectId: 'p-probe',
      tenantId,
      allowAnimated: false,
      presetsOnly: false,
    }
    rememberSource('probe/cat.jpg', source)
    assert.ok(knownSource('p-probe', 'probe/cat.jpg'), 'remembered while the bus is up')
    // What another instance's suspension looks like here: a message on the invalidation bus.
    await publishInvalidation('tenant', tenantId)
    assert.equal(knownSource('p-probe', 'probe/cat.jpg'), undefined)
    rememberSource('probe/cat.jpg', source)
    assert.equal(knownSource('p-probe', 'probe/cat.jpg'), undefined, 'a request racing the change does not record it again')
    forgetTenant(tenantId)
  })
})

describe('plans and quotas', () => {
  test('20 parallel inits against room for 5 admit exactly 5; the refusals name the limit, its value and the use; expired reservations free the room', async () => {
    const { key, tenant, project } = await setup()
    const plan = await api('POST', '/api/v1/plans', { token: key, body: { name: 'Free', limits: { storedBytes: 10_000 } } })
    assert.equal(plan.status, 201, plan.text)
    const acme = await tenant('acme', { planId: plan.json.id })
    await putTestFile(project.id, { tenantId: acme.id, body: 'x'.repeat(5_000) })

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        init(key, { fileName: `f${i}.bin`, contentType: 'application/octet-stream', size: 1_000, tenantId: acme.id }),
      ),
    )
    const admitted = answers.filter((answer) => answer.status === 201)
    assert.equal(admitted.length, 5)
    for (const refused of answers.filter((answer) => answer.status !== 201)) {
      assertProblem(refused, 403)
      assert.equal(refused.json.code, 'QUOTA_EXCEEDED')
      assert.deepEqual(refused.json.quota, { tenant: 'acme', limit: 'storedBytes', value: 10_000, current: 10_000 })
    }
    const row = await prisma.tenant.findUniqueOrThrow({ where: { id: acme.id } })
    assert.deepEqual([row.storedBytes, row.reservedBytes, row.reservedFiles], [5_000n, 5_000n, 5])

    // Reservations end with their uploads.
    for (const answer of admitted.slice(0, 2)) {
      await prisma.upload.update({ where: { id: answer.json.uploadId }, data: { expiresAt: new Date(Date.now() - 1000) } })
      assert.equal(await expireUpload(answer.json.uploadId), true)
    }
    assert.equal((await prisma.tenant.findUniqueOrThrow({ where: { id: acme.id } })).reservedBytes, 3_000n)
    assert.equal(
      (await init(key, { fileName: 'again.bin', contentType: 'application/octet-stream', size: 2_000, tenantId: acme.id })).status,
      201,
    )
    assertProblem(await init(key, { fileName: 'over.bin', contentType: 'application/octet-stream', size: 1, tenantId: acme.id }), 403)
    // Another tenant of the project, and uploads without a tenant, are not affected.
    const other = await tenant('other')
    assert.equal((await init(key, { fileName: 'o.bin', contentType: 'application/octet-stream', size: 50_000, tenantId: other.id })).status, 201)
    assert.equal((await init(key, { fileName: 'p.bin', contentType: 'application/octet-stream', size: 50_000 })).status, 201)
  })

  test('largest file 413, file count 403 and uploads per hour 429, each naming the limit; overrides beat the plan; completion checks again', async () => {
    const { key, tenant, project } = await setup()
    const plan = await api('POST', '/api/v1/plans', {
      token: key,
      body: { name: 'Tiny', limits: { fileSize: 100, fileCount: 2, uploadsPerHour: 3 } },
    })
    const acme = await tenant('acme', { planId: plan.json.id })
    const start = (size: number) => init(key, { fileName: 'f.txt', contentType: 'text/plain', size, tenantId: acme.id })

    const big = await start(101)
    assertProblem(big, 413)
    assert.deepEqual(big.json.quota, { tenant: 'acme', limit: 'fileSize', value: 100, current: 101 })
    const first = await start(10)
    assert.equal(first.status, 201)
    assert.equal(first.json.maxSize, 100)
    assert.equal((await start(10)).status, 201)
    const third = await start(10)
    assertProblem(third, 403)
    assert.deepEqual(third.json.quota, { tenant: 'acme', limit: 'fileCount', value: 2, current: 2 })

    // An override lifts the file count; the plan's hourly limit still holds (3 admitted this hour).
    const lifted = await api('PUT', `/api/v1/tenants/${acme.id}`, { token: key, body: { limits: { fileCount: 100 } } })
    assert.equal(lifted.status, 200, lifted.text)
    assert.deepEqual(
      [lifted.json.limits.fileCount, lifted.json.effectiveLimits.fileCount, lifted.json.effectiveLimits.uploadsPerHour],
      [100, 100, 3],
    )
    assert.equal((await start(10)).status, 201)
    const hourly = await start(10)
    assertProblem(hourly, 429)
    assert.deepEqual(hourly.json.quota, { tenant: 'acme', limit: 'uploadsPerHour', value: 3, current: 3 })
    assert.ok(Number(hourly.headers.get('retry-after')) >= 1)
    assert.equal((await events(project.id, 'quota.exceeded')).filter((e) => (e.data as { limit: string }).limit === 'uploadsPerHour').length, 1)

    // Completion: the limit was lowered after the upload started.
    const body = Buffer.from('0123456789')
    const put = await fetch(first.json.url, { method: 'PUT', headers: first.json.headers, body })
    assert.equal(put.status, 200)
    await api('PUT', `/api/v1/plans/${plan.json.id}`, { token: key, body: { limits: { fileSize: 5 } } })
    const completed = await api('POST', '/api/v1/uploads/complete', { token: key, body: { uploadId: first.json.uploadId } })
    assertProblem(completed, 413)
    assert.deepEqual(completed.json.quota, { tenant: 'acme', limit: 'fileSize', value: 5, current: 10 })
    assert.equal((await prisma.upload.findUniqueOrThrow({ where: { id: first.json.uploadId } })).status, 'FAILED')
  })

  test('transforms per hour are counted and refused past the limit with 429', async () => {
    const { key, tenant, project } = await setup()
    const acme = await tenant('acme', { limits: { transformsPerHour: 2 } })
    await putTestFile(project.id, { tenantId: acme.id, path: 'acme/cat.jpg', contentType: 'image/jpeg', body: await jpeg() })
    const url = `${BASE}/api/v1/transform/${project.id}/acme/cat.jpg?w=10`
    assert.equal((await api('GET', url, { token: key })).status, 200)
    assert.equal((await api('GET', url, { token: key })).status, 200, 'a cache hit counts too')
    const refused = await api('GET', url, { token: key })
    assertProblem(refused, 429)
    assert.deepEqual(refused.json.quota, { tenant: 'acme', limit: 'transformsPerHour', value: 2, current: 2 })
    assert.equal((await events(project.id, 'quota.warning')).length, 1)
    assert.equal((await events(project.id, 'quota.exceeded')).length, 1)
  })

  test('quota.warning at 80% and quota.exceeded at 100% are sent once per crossing', async () => {
    const { key, tenant, project } = await setup()
    const acme = await tenant('acme', { limits: { storedBytes: 100 } })
    await putTestFile(project.id, { tenantId: acme.id, body: 'x'.repeat(85) })
    await checkStoredQuota(acme.id)
    await checkStoredQuota(acme.id)
    assert.equal((await events(project.id, 'quota.warning')).length, 1)
    assert.equal((await events(project.id, 'quota.exceeded')).length, 0)
    const second = await putTestFile(project.id, { tenantId: acme.id, body: 'x'.repeat(20) })
    await Promise.all([checkStoredQuota(acme.id), checkStoredQuota(acme.id), checkStoredQuota(acme.id)])
    const exceeded = await events(project.id, 'quota.exceeded')
    assert.equal(exceeded.length, 1)
    assert.deepEqual(exceeded[0]!.data, {
      projectId: project.id,
      tenantId: acme.id,
      slug: 'acme',
      limit: 'storedBytes',
      value: 100,
      current: 105,
    })
    // Back under 80%, then over again: a new crossing, new events.
    assert.equal((await api('DELETE', `/api/v1/files/${second.id}`, { token: key })).status, 204)
    await putTestFile(project.id, { tenantId: acme.id, body: 'x'.repeat(20) })
    await checkStoredQuota(acme.id)
    assert.equal((await events(project.id, 'quota.exceeded')).length, 2)
    assert.equal((await events(project.id, 'quota.warning')).length, 1, 'from warning to exceeded is one crossing')
  })

  test("plans are per project: another project's plan cannot be given, another workspace's people cannot see them", async () => {
    const { key, tenant, owner } = await setup()
    const other = await setup()
    const foreign = await api('POST', '/api/v1/plans', { token: other.key, body: { name: 'Pro' } })
    const acme = await tenant('acme')
    const refused = await api('PUT', `/api/v1/tenants/${acme.id}`, { token: key, body: { planId: foreign.json.id } })
    assertProblem(refused, 400)
    assertProblem(await api('GET', `/api/v1/plans/${foreign.json.id}`, { token: key }), 404)
    const { accessToken } = await issueTokens(owner.user.id, testMeta())
    assertProblem(await api('PUT', `/api/v1/plans/${foreign.json.id}`, { token: accessToken, body: { name: 'Mine' } }), 404)
    const duplicate = await api('POST', '/api/v1/plans', { token: other.key, body: { name: 'Pro' } })
    assertProblem(duplicate, 409)
  })
})

describe('tenant-scoped API keys', () => {
  test("a key bound to one tenant touches only that tenant's files, uploads and transforms, and cannot create tenants or keys", async () => {
    const { key, tenant, project, owner } = await setup()
    const acme = await tenant('acme')
    const globex = await tenant('globex')
    const mine = await putTestFile(project.id, { tenantId: acme.id, path: 'acme/cat.jpg', contentType: 'image/jpeg', body: await jpeg() })
    const theirs = await putTestFile(project.id, { tenantId: globex.id, path: 'globex/cat.jpg', contentType: 'image/jpeg', body: await jpeg() })
    const loose = await putTestFile(project.id, { tenantId: null })

    const created = await api('POST', '/api/v1/api-keys', {
      token: key,
      body: {
        projectId: project.id,
        name: 'acme only',
        permissions: ['files:read', 'files:write', 'files:delete', 'transforms:execute'],
        tenantId: acme.id,
      },
    })
    assert.equal(created.status, 201, created.text)
    assert.equal(created.json.tenantId, acme.id)
    const scoped = created.json.key as string

    const listed = await api('GET', '/api/v1/files', { token: scoped })
    assert.deepEqual(
      listed.json.items.map((f: { id: string }) => f.id),
      [mine.id],
    )
    assertProblem(await api('GET', `/api/v1/files?tenantId=${globex.id}`, { token: scoped }), 404)
    for (const other of [theirs.id, loose.id]) {
      assertProblem(await api('GET', `/api/v1/files/${other}`, { token: scoped }), 404)
      assertProblem(await api('GET', `/api/v1/files/${other}/download`, { token: scoped }), 404)
      assertProblem(await api('DELETE', `/api/v1/files/${other}`, { token: scoped }), 404)
    }
    assertProblem(await api('POST', '/api/v1/files/bulk-delete', { token: scoped, body: { ids: [theirs.id, loose.id] } }), 404)
    assert.equal((await api('GET', `/api/v1/files/${mine.id}/download`, { token: scoped })).status, 302)
    assertProblem(await api('GET', `${BASE}/api/v1/transform/${project.id}/globex/cat.jpg?w=10`, { token: scoped }), 404)
    assert.equal((await api('GET', `${BASE}/api/v1/transform/${project.id}/acme/cat.jpg?w=10`, { token: scoped })).status, 200)
    assertProblem(await api('POST', '/api/v1/transforms/sign', { token: scoped, body: { path: 'globex/cat.jpg', params: { w: 10 } } }), 404)
    const batch = (paths: string[]) =>
      api('POST', '/api/v1/transforms/sign/batch', { token: scoped, body: { items: paths.map((path) => ({ path, params: { w: 10 } })) } })
    assertProblem(await batch(['acme/cat.jpg', 'globex/cat.jpg']), 404)
    assert.equal((await batch(['acme/cat.jpg', 'acme/cat.jpg'])).status, 200)
    const stats = await api('GET', '/api/v1/carcosa/stats', { token: scoped })
    if (stats.status === 200) assert.equal(JSON.stringify(stats.json).includes(globex.id), false)

    // Uploads land in its tenant whether named or not; another tenant is "not found".
    const own = await init(scoped, { fileName: 'a.txt', contentType: 'text/plain', size: 3 })
    assert.equal(own.status, 201, own.text)
    assert.equal((await prisma.upload.findUniqueOrThrow({ where: { id: own.json.uploadId } })).tenantId, acme.id)
    assertProblem(await init(scoped, { fileName: 'a.txt', contentType: 'text/plain', size: 3, tenantId: globex.id }), 404)
    assertProblem(await init(scoped, { fileName: 'a.txt', contentType: 'text/plain', size: 3, tenantSlug: 'globex' }), 404)
    const projectWide = await init(key, { fileName: 'b.txt', contentType: 'text/plain', size: 3, tenantId: globex.id })
    assertProblem(await api('GET', `/api/v1/uploads/${projectWide.json.uploadId}/status`, { token: scoped }), 404)
    assertProblem(await api('POST', `/api/v1/uploads/${projectWide.json.uploadId}/abort`, { token: scoped }), 404)
    assertProblem(await api('POST', '/api/v1/realtime/tokens', { token: scoped, body: {} }), 403)
    assert.equal((await api('POST', '/api/v1/realtime/tokens', { token: scoped, body: { uploadIds: [own.json.uploadId] } })).status, 201)
    assertProblem(await api('POST', '/api/v1/realtime/tokens', { token: scoped, body: { uploadIds: [projectWide.json.uploadId] } }), 404)
    const scopedActor = (await authenticateApiKey(scoped, testMeta()))!
    assert.equal(await canSubscribe({ kind: 'actor', actor: scopedActor }, parseChannel(projectChannel(project.id))!), false)
    assert.equal(await canSubscribe({ kind: 'actor', actor: scopedActor }, parseChannel(uploadChannel(own.json.uploadId))!), true)
    assert.equal(await canSubscribe({ kind: 'actor', actor: scopedActor }, parseChannel(uploadChannel(projectWide.json.uploadId))!), false)

    // Streamed through Carcosa: into its tenant, never another's.
    const stream = async (tenantId?: string) => {
      const form = new FormData()
      if (tenantId) form.append('tenantId', tenantId)
      form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt')
      return api('POST', '/api/v1/files/upload', { token: scoped, body: form })
    }
    const streamed = await stream()
    assert.equal(streamed.status, 201, streamed.text)
    assert.equal(streamed.json.file.tenantId, acme.id)
    assertProblem(await stream(globex.id), 404)
    await api('PUT', `/api/v1/tenants/${acme.id}`, { token: key, body: { status: 'archived' } })
    assertProblem(await stream(), 403)
    await api('PUT', `/api/v1/tenants/${acme.id}`, { token: key, body: { status: 'active' } })

    // Nothing beyond its tenant: no tenants, no keys, no project reads.
    assertProblem(await api('POST', '/api/v1/tenants', { token: scoped, body: { slug: 'mine', name: 'Mine' } }), 403)
    assertProblem(
      await api('POST', '/api/v1/api-keys', { token: scoped, body: { projectId: project.id, name: 'x', permissions: ['files:read'] } }),
      403,
    )
    assertProblem(await api('GET', '/api/v1/tenants', { token: scoped }), 403)

    // A tenant key carries only tenant-level permissions, and only for a tenant of its project.
    const wide = await api('POST', '/api/v1/api-keys', {
      token: key,
      body: { projectId: project.id, name: 'w', permissions: ['files:read', 'projects:read'], tenantId: acme.id },
    })
    assertProblem(wide, 400)
    assert.match(wide.json.errors.permissions[0], /projects:read/)
    const other = await setup()
    const foreignTenant = await other.tenant('foreign')
    assertProblem(
      await api('POST', '/api/v1/api-keys', {
        token: key,
        body: { projectId: project.id, name: 'f', permissions: ['files:read'], tenantId: foreignTenant.id },
      }),
      404,
    )
    // Across projects, a tenant key sees nothing of the other project.
    const otherFile = await putTestFile(other.project.id, { tenantId: foreignTenant.id })
    assertProblem(await api('GET', `/api/v1/files/${otherFile.id}`, { token: scoped }), 404)

    // Listed on its tenant; deleting the tenant ends the key at once.
    const keys = await api('GET', `/api/v1/api-keys?tenantId=${acme.id}`, {
      token: (await createTestApiKey(owner.actor, project.id, ['api-keys:read'])).key,
    })
    assert.deepEqual(
      keys.json.items.map((k: { name: string }) => k.name),
      ['acme only'],
    )
    await prisma.file.deleteMany({ where: { tenantId: acme.id } })
    await prisma.upload.deleteMany({ where: { tenantId: acme.id } })
    assert.equal((await api('DELETE', `/api/v1/tenants/${acme.id}`, { token: key })).status, 204)
    assertProblem(await api('GET', '/api/v1/files', { token: scoped }), 401)
  })
})

describe('lookup, import and export', () => {
  test('find by slug, search names and slugs; listings carry file count and bytes', async () => {
    const { key, tenant, project } = await setup()
    const acme = await tenant('acme-corp')
    await tenant('globex')
    await putTestFile(project.id, { tenantId: acme.id, body: 'x'.repeat(300) })
    await putTestFile(project.id, { tenantId: acme.id, body: 'x'.repeat(200) })
    const bySlug = await api('GET', '/api/v1/tenants?slug=ACME-corp', { token: key })
    assert.deepEqual(
      bySlug.json.items.map((t: { slug: string; usage: { fileCount: number; storedBytes: number } }) => [
        t.slug,
        t.usage.fileCount,
        t.usage.storedBytes,
      ]),
      [['acme-corp', 2, 500]],
    )
    assert.deepEqual((await api('GET', '/api/v1/tenants?slug=nobody', { token: key })).json.items, [])
    const search = await api('GET', '/api/v1/tenants?search=LOBE', { token: key })
    assert.deepEqual(
      search.json.items.map((t: { slug: string }) => t.slug),
      ['globex'],
    )
  })

  test('import JSON and CSV by slug (dry run first, all or nothing, bounded), export as CSV and JSON, re-import changes nothing', async () => {
    const { key, tenant, project } = await setup()
    await api('POST', '/api/v1/plans', { token: key, body: { name: 'Pro' } })
    await tenant('acme', { metadata: { seats: 1 } })
    const rows = [
      { slug: 'acme', name: 'Acme Inc.', metadata: { seats: 5 } },
      { slug: 'globex', name: 'Globex', status: 'suspended', plan: 'Pro' },
    ]
    const dry = await api('POST', '/api/v1/tenants/import', { token: key, body: { tenants: rows, dryRun: true } })
    assert.equal(dry.status, 200, dry.text)
    assert.deepEqual([dry.json.dryRun, dry.json.created, dry.json.updated, dry.json.unchanged], [true, 1, 1, 0])
    assert.deepEqual(dry.json.tenants[0], { slug: 'acme', action: 'update', fields: ['name', 'metadata'] })
    assert.equal(await prisma.tenant.count({ where: { projectId: project.id } }), 1, 'a dry run writes nothing')

    const bad = await api('POST', '/api/v1/tenants/import', {
      token: key,
      body: { tenants: [...rows, { slug: 'x', name: '' }, { slug: 'acme', name: 'again' }] },
    })
    assertProblem(bad, 400)
    assert.ok(bad.json.errors['tenants.2.slug'] && bad.json.errors['tenants.3.slug'], JSON.stringify(bad.json.errors))
    const unknownPlan = await api('POST', '/api/v1/tenants/import', {
      token: key,
      body: { tenants: [...rows, { slug: 'initech', name: 'Initech', plan: 'Gold' }] },
    })
    assertProblem(unknownPlan, 400)
    assert.equal(await prisma.tenant.count({ where: { projectId: project.id } }), 1, 'nothing written on a refusal')
    const tooMany = await api('POST', '/api/v1/tenants/import', {
      token: key,
      body: { tenants: Array.from({ length: 1001 }, (_, i) => ({ slug: `t${i}x`, name: 'T' })) },
    })
    assertProblem(tooMany, 400)

    const done = await api('POST', '/api/v1/tenants/import', { token: key, body: { tenants: rows } })
    assert.deepEqual([done.json.created, done.json.updated], [1, 1])
    const globex = await prisma.tenant.findFirstOrThrow({ where: { projectId: project.id, slug: 'globex' }, include: { plan: true } })
    assert.deepEqual([globex.status, globex.plan?.name], ['SUSPENDED', 'Pro'])
    assert.equal((await events(project.id, 'tenant.created')).length, 2)

    const csv = await api('GET', '/api/v1/tenants/export?format=csv', { token: key })
    assert.equal(csv.status, 200)
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/)
    const lines = csv.text.trim().split('\n')
    assert.equal(lines[0], 'slug,name,status,plan,metadata,fileCount,storedBytes,createdAt')
    assert.equal(lines.length, 3)
    const json = await api('GET', '/api/v1/tenants/export', { token: key })
    assert.deepEqual(json.json.map((t: { slug: string; status: string; plan: string | null }) => [t.slug, t.status, t.plan]).sort(), [
      ['acme', 'active', null],
      ['globex', 'suspended', 'Pro'],
    ])

    const again = await api('POST', '/api/v1/tenants/import', { token: key, body: csv.text, headers: { 'Content-Type': 'text/csv' } })
    assert.equal(again.status, 200, again.text)
    assert.deepEqual([again.json.created, again.json.updated, again.json.unchanged], [0, 0, 2])
    const fromJson = await api('POST', '/api/v1/tenants/import', { token: key, body: { tenants: json.json } })
    assert.deepEqual([fromJson.json.created, fromJson.json.updated, fromJson.json.unchanged], [0, 0, 2])

    const edited = await api('POST', '/api/v1/tenants/import?dryRun=true', {
      token: key,
      body: 'slug,name,status\nglobex,Globex,active\nnewco,New Co,\n',
      headers: { 'Content-Type': 'text/csv' },
    })
    assert.deepEqual(edited.json.tenants, [
      { slug: 'globex', action: 'update', fields: ['status'] },
      { slug: 'newco', action: 'create', fields: ['slug', 'name'] },
    ])
    const badCsv = await api('POST', '/api/v1/tenants/import', {
      token: key,
      body: 'slug,name,metadata\nok-one,Ok,{nope\n',
      headers: { 'Content-Type': 'text/csv' },
    })
    assertProblem(badCsv, 400)
    assert.ok(badCsv.json.errors['row 2.metadata'])
  })
})
