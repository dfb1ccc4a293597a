/**
 * Usage end to end: a known set of uploads, downloads, transforms and API calls across two projects
 * and their tenants goes through the real app (in process), real PostgreSQL and s3rver; after one
 * flush the three usage endpoints must answer the exact counts and bytes, keep projects apart, and
 * price them. Also: several meters add up in the same rows, and a failed flush keeps its counts.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import sharp from 'sharp'
import { createTenant } from '~/services/tenants/tenants.server'
import { answerFromMemory } from '~/services/transforms/fast-path.server'
import { signTransformUrl } from '~/services/transforms/sign-url.server'
import { flushUsage } from '~/services/usage/flush.server'
import { UsageMeter } from '~/services/usage/meter.server'
import { snapshotStorage } from '~/services/usage/storage-snapshot.server'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import { createProjectIn, createTestApiKey, createWorkspace, testMeta } from '../support/factories'
import { attachS3Bucket } from '../support/storage-factories'

const BASE = 'http://carcosa.test'
const KEY_PERMISSIONS = ['files:read', 'files:write', 'transforms:execute', 'usage:read'] as const

type Workspace = Awaited<ReturnType<typeof createWorkspace>>
let world: Workspace
let projectB: { id: string }
let keyA: string
let keyB: string
let ownerToken: string
let strangerToken: string
let tenants: { a1: { id: string }; a2: { id: string }; b1: { id: string } }
const expected = {
  a: { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0, transformBytes: 0, apiOk: 0, api4xx: 0 },
  a1: { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0, transformBytes: 0 },
  b: { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0, apiOk: 0 },
}

async function upload(key: string, body: Buffer, name: string, tenantId?: string) {
  const form = new FormData()
  if (tenantId) form.append('tenantId', tenantId)
  form.append('file', new Blob([new Uint8Array(body)], { type: name.endsWith('.jpg') ? 'image/jpeg' : 'text/plain' }), name)
  const response = await api('POST', '/api/v1/files/upload', { token: key, body: form })
  assert.equal(response.status, 201, response.text)
  return response.json.file as { id: string; path: string; size: number }
}

async function download(key: string, fileId: string) {
  const response = await api('GET', `/api/v1/files/${fileId}/download?redirect=false`, { token: key })
  assert.equal(response.status, 200, response.text)
}

const usage = (endpoint: 'overview' | 'breakdown' | 'trends', token: string, query: Record<string, string> = {}) =>
  api('GET', `/api/v1/usage/${endpoint}?${new URLSearchParams(query)}`, { token })

before(async () => {
  world = await createWorkspace()
  const project = await createProjectIn(world.owner.actor, world.team.id)
  projectB = project
  await attachS3Bucket(world.project.id)
  await attachS3Bucket(projectB.id)
  keyA = (await createTestApiKey(world.owner.actor, world.project.id, [...KEY_PERMISSIONS])).key
  keyB = (await createTestApiKey(world.owner.actor, projectB.id, [...KEY_PERMISSIONS])).key
  ownerToken = (await issueTokens(world.owner.user.id, testMeta())).accessToken
  const stranger = await createWorkspace()
  strangerToken = (await issueTokens(stranger.owner.user.id, testMeta())).accessToken
  tenants = {
    a1: await createTenant(world.owner.actor, { projectId: world.project.id, slug: 'acme', name: 'Acme' }),
    a2: await createTenant(world.owner.actor, { projectId: world.project.id, slug: 'globex', name: 'Globex' }),
    b1: await createTenant(world.owner.actor, { projectId: projectB.id, slug: 'initech', name: 'Initech' }),
  }

  // Project A: an image for tenant a1, a text file for a2, one without a tenant.
  const jpeg = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#3366cc' } })
    .jpeg()
    .toBuffer()
  const image = await upload(keyA, jpeg, 'photo.jpg', tenants.a1.id)
  const note = await upload(keyA, Buffer.alloc(500, 'n'), 'note.txt', tenants.a2.id)
  await upload(keyA, Buffer.alloc(300, 'x'), 'loose.txt')
  Object.assign(expected.a, { uploads: 3, uploadBytes: jpeg.length + 800 })
  Object.assign(expected.a1, { uploads: 1, uploadBytes: jpeg.length })
  await download(keyA, image.id)
  await download(keyA, image.id)
  await download(keyA, note.id)
  Object.assign(expected.a, { downloads: 3, downloadBytes: 2 * jpeg.length + 500 })
  Object.assign(expected.a1, { downloads: 2, downloadBytes: 2 * jpeg.length })
  // A refused call of key A counts as a 4xx API request.
  assert.equal((await api('GET', '/api/v1/files/no-such-file', { token: keyA })).status, 404)
  expected.a.apiOk = 6
  expected.a.api4xx = 1

  // Transforms: a signed URL rendered once, then answered from memory by the full path and by the host's fast path.
  const signed = await signTransformUrl(
    world.owner.actor,
    world.project.id,
    { path: image.path, params: { w: 60, format: 'webp' }, expiresIn: 600 },
    BASE,
  )
  const rendered = await api('GET', signed.url)
  assert.equal(rendered.status, 200, rendered.text)
  assert.equal(rendered.headers.get('x-carcosa-cache'), 'render')
  const again = await api('GET', signed.url)
  assert.equal(again.headers.get('x-carcosa-cache'), 'memory')
  const fast = answerFromMemory({ method: 'GET', url: signed.url.slice(BASE.length) })
  assert.equal(fast?.status, 200, 'the fast path answers the cached variant')
  expected.a.transformBytes = 3 * rendered.bytes.length
  expected.a1.transformBytes = 3 * rendered.bytes.length

  // Project B: one file of tenant b1, downloaded once.
  const other = await upload(keyB, Buffer.alloc(700, 'b'), 'b.txt', tenants.b1.id)
  await download(keyB, other.id)
  Object.assign(expected.b, { uploads: 1, uploadBytes: 700, downloads: 1, downloadBytes: 700, apiOk: 2 })

  await flushUsage()
  await snapshotStorage()
})

describe('the three endpoints after one flush', () => {
  test('overview of project A (its key, no projectId): exact counts, bytes, API calls and storage', async () => {
    const response = await usage('overview', keyA)
    assert.equal(response.status, 200, response.text)
    const { totals, requests, storage, scope } = response.json
    assert.deepEqual([scope.kind, scope.id], ['project', world.project.id])
    const e = expected.a
    assert.deepEqual(
      [
        totals.uploads,
        totals.uploadBytes,
        totals.downloads,
        totals.downloadBytes,
        totals.transforms,
        totals.transformCacheHits,
        totals.transformBytes,
      ],
      [e.uploads, e.uploadBytes, e.downloads, e.downloadBytes, 1, 2, e.transformBytes],
    )
    assert.ok(totals.transformMs >= 0)
    assert.equal(totals.apiRequests, e.apiOk + e.api4xx)
    assert.deepEqual(requests.byStatusClass, { '2xx': e.apiOk, '3xx': 0, '4xx': e.api4xx, '5xx': 0 })
    assert.deepEqual(requests.byTier, { WRITE: 3, READ: 4 })
    assert.deepEqual([storage.files, storage.bytes], [3, e.uploadBytes])
  })

  test('overview of one tenant: only its activity and files; API calls are not per tenant', async () => {
    const response = await usage('overview', keyA, { tenantId: tenants.a1.id })
    assert.equal(response.status, 200, response.text)
    const { totals, storage, requests } = response.json
    const e = expected.a1
    assert.deepEqual(
      [
        totals.uploads,
        totals.uploadBytes,
        totals.downloads,
        totals.downloadBytes,
        totals.transforms,
        totals.transformCacheHits,
        totals.transformBytes,
        totals.apiRequests,
      ],
      [e.uploads, e.uploadBytes, e.downloads, e.downloadBytes, 1, 2, e.transformBytes, 0],
    )
    assert.deepEqual([storage.files, storage.bytes], [1, e.uploadBytes])
    assert.deepEqual(requests.byStatusClass, { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 })
  })

  test('breakdown by tenant, by operation, and by project for the team', async () => {
    const byTenant = await usage('breakdown', keyA, { groupBy: 'tenant' })
    assert.equal(byTenant.status, 200, byTenant.text)
    const rows = Object.fromEntries(
      byTenant.json.items.map((item: { label: string; totals: Record<string, number> }) => [
        item.label,
        [item.totals.uploads, item.totals.uploadBytes, item.totals.downloads],
      ]),
    )
    assert.deepEqual(rows, { Acme: [1, expected.a1.uploadBytes, 2], Globex: [1, 500, 1], 'No tenant': [1, 300, 0] })

    const byOperation = await usage('breakdown', keyA, { groupBy: 'operation' })
    const operations = Object.fromEntries(
      byOperation.json.items.map((item: { key: string; count: number; bytes: number | null }) => [item.key, [item.count, item.bytes]]),
    )
    assert.deepEqual(operations.uploads, [3, expected.a.uploadBytes])
    assert.deepEqual(operations.downloads, [3, expected.a.downloadBytes])
    assert.deepEqual(
      [operations.transforms, operations.transformCacheHits],
      [
        [1, null],
        [2, null],
      ],
    )
    assert.deepEqual(
      [operations['api:WRITE:2xx'], operations['api:READ:2xx'], operations['api:READ:4xx']],
      [
        [3, null],
        [3, null],
        [1, null],
      ],
    )

    const byProject = await usage('breakdown', ownerToken, { teamId: world.team.id, groupBy: 'project' })
    assert.equal(byProject.status, 200, byProject.text)
    const projects = Object.fromEntries(
      byProject.json.items.map((item: { key: string; totals: Record<string, number> }) => [
        item.key,
        [item.totals.uploads, item.totals.downloadBytes],
      ]),
    )
    assert.deepEqual(projects, { [world.project.id]: [3, expected.a.downloadBytes], [projectB.id]: [1, 700] })
  })

  test('trends: hourly points over the day, zeros elsewhere, summing to the overview', async () => {
    const now = new Date()
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
    const to = new Date(from.getTime() + 2 * 86_400_000)
    const response = await usage('trends', keyA, { granularity: 'hour', from: from.toISOString(), to: to.toISOString() })
    assert.equal(response.status, 200, response.text)
    const points: { start: string; uploads: number; downloadBytes: number }[] = response.json.points
    assert.equal(points.length, 48)
    assert.equal(points[0]!.start, from.toISOString())
    assert.equal(
      points.reduce((sum, point) => sum + point.uploads, 0),
      expected.a.uploads,
    )
    assert.equal(
      points.reduce((sum, point) => sum + point.downloadBytes, 0),
      expected.a.downloadBytes,
    )
    assert.ok(points.filter((point) => point.uploads > 0).length <= 2, 'activity sits in the hour(s) the test ran')

    const daily = await usage('trends', ownerToken, {
      organizationId: world.organization.id,
      granularity: 'day',
      from: from.toISOString().slice(0, 10),
      to: to.toISOString().slice(0, 10),
    })
    assert.equal(daily.status, 200, daily.text)
    assert.deepEqual(
      daily.json.points.map((point: { uploads: number }) => point.uploads),
      [expected.a.uploads + expected.b.uploads, 0],
    )
  })

  test('organization overview adds both projects', async () => {
    const response = await usage('overview', ownerToken, { organizationId: world.organization.id })
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(
      [response.json.totals.uploads, response.json.totals.uploadBytes, response.json.totals.downloads, response.json.storage.files],
      [4, expected.a.uploadBytes + 700, 4, 4],
    )
    assert.equal(response.json.totals.apiRequests, expected.a.apiOk + expected.a.api4xx + expected.b.apiOk)
  })
})

describe('isolation', () => {
  test("a key reaches its own project only: another project, a team, an organization or another project's tenant is 404", async () => {
    assertProblem(await usage('overview', keyA, { projectId: projectB.id }), 404)
    assertProblem(await usage('trends', keyA, { teamId: world.team.id }), 404)
    assertProblem(await usage('breakdown', keyA, { organizationId: world.organization.id }), 404)
    assertProblem(await usage('overview', keyA, { tenantId: tenants.b1.id }), 404)
    const own = await usage('overview', keyB)
    assert.deepEqual([own.json.totals.uploads, own.json.totals.uploadBytes], [1, 700])
  })

  test('a user outside the organization gets 404 for its project, team and organization', async () => {
    assertProblem(await usage('overview', strangerToken, { projectId: world.project.id }), 404)
    assertProblem(await usage('breakdown', strangerToken, { teamId: world.team.id }), 404)
    assertProblem(await usage('trends', strangerToken, { organizationId: world.organization.id }), 404)
  })

  test('a key without usage:read is refused; bad input is a 400 naming the field', async () => {
    const limited = (await createTestApiKey(world.owner.actor, world.project.id, ['files:read'])).key
    assertProblem(await usage('overview', limited), 403)
    const problem = await usage('trends', keyA, { granularity: 'minute' })
    assertProblem(problem, 400)
    assert.ok(problem.json.errors.granularity)
    const backwards = await usage('overview', keyA, { from: '2026-02-01', to: '2026-01-01' })
    assertProblem(backwards, 400)
    assert.ok(backwards.json.errors.from)
    assertProblem(await usage('overview', ownerToken), 400)
    assertProblem(await usage('breakdown', ownerToken, { teamId: world.team.id, groupBy: 'tenant' }), 400)
  })
})

describe('cost estimates', () => {
  test("priced with the bucket's own prices, stated with the estimate; buckets without prices are listed as unpriced", async () => {
    const before = await usage('overview', ownerToken, { teamId: world.team.id })
    assert.equal(before.json.cost.estimate, true)
    assert.equal(before.json.cost.prices.length, 0, 's3-compatible buckets have no list prices')
    assert.equal(before.json.cost.unpriced.length, 2)

    const prices = { storagePerGbMonth: 30, writesPerMillion: 50_000, readsPerMillion: 25_000, egressPerGb: 512 }
    const project = await prisma.project.findUniqueOrThrow({ where: { id: world.project.id }, select: { bucketId: true } })
    await prisma.bucket.update({ where: { id: project.bucketId! }, data: { prices } })
    const response = await usage('overview', keyA)
    const { cost } = response.json
    const gib = 1024 ** 3
    // Writes: 3 uploads + 1 stored variant; reads: 3 downloads + 1 source read; egress: downloaded bytes; storage: one day's snapshot.
    assert.equal(cost.writes, 0.2)
    assert.equal(cost.reads, 0.1)
    assert.equal(cost.egress, Math.round((expected.a.downloadBytes / gib) * 512 * 10_000) / 10_000)
    assert.equal(cost.storage, Math.round((expected.a.uploadBytes / gib / 30) * 30 * 10_000) / 10_000)
    assert.deepEqual(cost.prices, [
      {
        projectId: world.project.id,
        projectName: response.json.scope.name,
        source: 'custom',
        name: "The team's own prices for this bucket",
        ...prices,
      },
    ])
    assert.match(cost.basis, /Estimate/)
  })
})

describe('metering across instances and failures', () => {
  test('two meters flushing into the same hour add up', async () => {
    const first = new UsageMeter(1000)
    const second = new UsageMeter(1000)
    first.count(projectB.id, tenants.b1.id, 'downloads', 2)
    second.count(projectB.id, tenants.b1.id, 'downloads', 5)
    await Promise.all([flushUsage(first), flushUsage(second)])
    const response = await usage('overview', keyB, { tenantId: tenants.b1.id })
    assert.equal(response.json.totals.downloads, 1 + 2 + 5)
  })

  test('a flush the database refuses keeps its counts for the next try', async () => {
    const meter = new UsageMeter(1000)
    meter.count(projectB.id, null, 'uploads', 3)
    meter.count(projectB.id, null, 'uploadBytes', 1e30) // beyond bigint: PostgreSQL refuses the whole batch
    await assert.rejects(flushUsage(meter))
    const kept = meter.take()
    assert.equal(kept.activity.size, 1)
    const counters = [...kept.activity.values()][0]!
    assert.deepEqual([counters[0], counters[1]], [3, 1e30])
    const response = await usage('overview', keyB)
    assert.equal(response.json.totals.uploads, 1, 'nothing of the refused batch was written')
  })

  test('past its bound a meter drops new entries instead of growing', () => {
    const meter = new UsageMeter(2)
    meter.count('p1', null, 'uploads')
    meter.count('p2', null, 'uploads')
    meter.count('p3', null, 'uploads')
    meter.count('p1', null, 'uploads')
    assert.equal(meter.size(), 2)
    assert.equal(meter.dropped, 1)
  })
})
