/**
 * Bucket adoption (docs/adoption.md): objects put straight into an s3rver bucket under tenant-named
 * prefixes are previewed, then adopted in place and by copy, each exactly once under the right
 * tenant with its bytes intact; a rerun changes nothing; other projects' callers are refused. The
 * run's pages are driven here by calling the job's handler (the job runner is not started in tests).
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { buffer } from 'node:stream/consumers'
import { before, describe, test } from 'node:test'
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import sharp from 'sharp'
import { adoptPage } from '~/services/adoption/adopt-page.server'
import {
  cancelAdoption,
  getAdoption,
  listAdoptionItems,
  previewAdoption,
  resumeAdoption,
  startAdoption,
} from '~/services/adoption/adoption.server'
import { adoptionOptionsSchema, type AdoptionOptions } from '~/services/adoption/schemas'
import { createTenant, updateTenant } from '~/services/tenants/tenants.server'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import { assertAppError, createTestApiKey, createWorkspace } from '../support/factories'
import { rawS3Client } from '../support/s3'
import { attachS3Bucket } from '../support/storage-factories'

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
const options = (input: Partial<AdoptionOptions> = {}) => adoptionOptionsSchema.parse(input)

let PNG: Buffer
let JPEG: Buffer
before(async () => {
  PNG = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer()
  JPEG = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#cc6633' } })
    .jpeg()
    .toBuffer()
})

/** What the bucket held before Carcosa: key, bytes and the Content-Type it was stored with (none: S3's default). */
function legacyObjects() {
  return [
    { key: 'acme/logo.png', body: PNG, contentType: 'image/png', tenant: 'acme' },
    { key: 'acme/docs/read me.txt', body: Buffer.from('hello from acme\n'), contentType: 'text/plain', tenant: 'acme' },
    { key: 'acme-corp/banner.jpg', body: JPEG, contentType: undefined, tenant: 'acme-corp' },
    { key: 'globex/photo.jpg', body: JPEG, contentType: undefined, tenant: 'globex' },
    { key: 'globex/data.bin', body: Buffer.from([0, 1, 2, 3, 4, 5]), contentType: 'application/octet-stream', tenant: 'globex' },
    { key: 'initech/x.txt', body: Buffer.from('no such tenant'), contentType: 'text/plain', tenant: null },
    { key: 'loose.txt', body: Buffer.from('at the top'), contentType: 'text/plain', tenant: null },
  ]
}
/** Declared as an image, but HTML: refused as an upload's completion would refuse it. */
const FAKE = { key: 'globex/fake.png', body: Buffer.from('<!doctype html><script>alert(1)</script>'), contentType: 'image/png' }

async function fillBucket(bucketName: string, objects: Array<{ key: string; body: Buffer; contentType?: string }>) {
  const s3 = rawS3Client()
  for (const object of objects)
    await s3.send(new PutObjectCommand({ Bucket: bucketName, Key: object.key, Body: object.body, ContentType: object.contentType }))
}

async function objectBytes(bucketName: string, key: string): Promise<Buffer | null> {
  try {
    const answer = await rawS3Client().send(new GetObjectCommand({ Bucket: bucketName, Key: key }))
    return buffer(answer.Body as NodeJS.ReadableStream)
  } catch {
    return null
  }
}

async function objectExists(bucketName: string, key: string) {
  return rawS3Client()
    .send(new HeadObjectCommand({ Bucket: bucketName, Key: key }))
    .then(
      () => true,
      () => false,
    )
}

/** Runs a run's pages to the end as the job runner would, `pageSize` keys a page. */
async function runToEnd(runId: string, pageSize = 3) {
  for (let guard = 0; guard < 100; guard++) {
    const run = await prisma.adoptionRun.findUniqueOrThrow({ where: { id: runId } })
    if (run.status !== 'RUNNING') return run
    await adoptPage(runId, run.pagesDone, { pageSize })
  }
  throw new Error('the run did not end')
}

async function adoptionWorld() {
  const { owner, organization, team, project } = await createWorkspace()
  const { bucket, s3 } = await attachS3Bucket(project.id)
  const tenants = {
    acme: await createTenant(owner.actor, { projectId: project.id, slug: 'acme', name: 'Acme' }),
    'acme-corp': await createTenant(owner.actor, { projectId: project.id, slug: 'acme-corp', name: 'Acme Corp' }),
    globex: await createTenant(owner.actor, { projectId: project.id, slug: 'globex', name: 'Globex' }),
  }
  await fillBucket(s3.bucketName, [...legacyObjects(), FAKE])
  return { owner, organization, team, project, bucket, bucketName: s3.bucketName, tenants }
}

describe('bucket adoption', () => {
  test('the preview counts per tenant, names unknown slugs and conflicts, and changes nothing', async () => {
    const world = await adoptionWorld()
    const preview = await previewAdoption(world.owner.actor, world.project.id, { ...options(), limit: 100 })
    assert.equal(preview.scanned, 8)
    assert.equal(preview.truncated, false)
    const perTenant = Object.fromEntries(preview.perTenant.map((entry) => [entry.tenant?.slug ?? '(project)', entry.objects]))
    // The type check happens when adopting (it reads the bytes); the preview only reads the listing.
    assert.deepEqual(perTenant, { acme: 2, 'acme-corp': 1, globex: 3 })
    assert.deepEqual(preview.unknownSlugs, [{ slug: 'initech', objects: 1 }])
    assert.equal(preview.skipped, 2, 'initech/x.txt and loose.txt match no tenant')
    assert.ok(preview.sample.some((entry) => entry.key === 'acme/logo.png' && entry.path === 'acme/logo.png' && entry.tenant === 'acme'))
    assert.equal(await prisma.file.count({ where: { projectId: world.project.id } }), 0)
    assert.equal(await prisma.adoptionRun.count({ where: { projectId: world.project.id } }), 0)

    // Unmatched to the project, with tenants created for unknown slugs: the preview says so.
    const wider = await previewAdoption(world.owner.actor, world.project.id, {
      ...options({ unmatched: 'project', createTenants: true }),
      limit: 100,
    })
    const widerCounts = Object.fromEntries(
      wider.perTenant.map((entry) => [entry.tenant?.slug ?? '(project)', [entry.objects, entry.tenant?.created ?? false]]),
    )
    assert.deepEqual(widerCounts, { '(project)': [1, false], acme: [2, false], 'acme-corp': [1, false], globex: [3, false], initech: [1, true] })

    // A preview stops at its limit and says it did.
    const short = await previewAdoption(world.owner.actor, world.project.id, { ...options(), limit: 3 })
    assert.equal(short.scanned, 3)
    assert.equal(short.truncated, true)
  })

  test('adopting in place registers each object once under its tenant, bytes intact; the type check refuses a disguised file; a rerun changes nothing', async () => {
    const world = await adoptionWorld()
    const run = await startAdoption(world.owner.actor, world.project.id, options())
    assert.equal(run.status, 'running')
    const done = await runToEnd(run.id)
    assert.equal(done.status, 'COMPLETED')
    assert.deepEqual(
      { scanned: done.scanned, adopted: done.adopted, already: done.alreadyAdopted, skipped: done.skipped, failed: done.failed },
      { scanned: 8, adopted: 5, already: 0, skipped: 2, failed: 1 },
    )

    const files = await prisma.file.findMany({ where: { projectId: world.project.id }, include: { tenant: true }, orderBy: { path: 'asc' } })
    const expected = legacyObjects().filter((object) => object.tenant)
    assert.equal(files.length, expected.length)
    for (const object of expected) {
      const file = files.find((candidate) => candidate.adoptedFromKey === object.key)
      assert.ok(file, `${object.key} was adopted`)
      assert.equal(file.objectKey, object.key, 'in place: the object stays where it is')
      assert.equal(file.tenant?.slug, object.tenant)
      assert.equal(Number(file.size), object.body.length)
      assert.equal(sha((await objectBytes(world.bucketName, file.objectKey))!), sha(object.body))
    }
    const byKey = Object.fromEntries(files.map((file) => [file.adoptedFromKey, file]))
    assert.equal(byKey['acme/logo.png']!.contentType, 'image/png')
    assert.equal(byKey['globex/photo.jpg']!.contentType, 'image/jpeg', 'no stored type: the bytes decide')
    assert.equal(byKey['acme/docs/read me.txt']!.path, 'acme/docs/read me.txt')

    const failures = await listAdoptionItems(world.owner.actor, run.id, { limit: 100, status: 'failed' })
    assert.deepEqual(
      failures.items.map((item) => [item.key, item.reason]),
      [['globex/fake.png', 'The bytes are HTML, not image/png as declared.']],
    )
    const audits = await prisma.auditLog.count({ where: { action: 'file.adopt', organizationId: world.organization.id } })
    assert.equal(audits, 5)
    assert.equal(await prisma.event.count({ where: { projectId: world.project.id, type: 'adoption.completed' } }), 1)

    // A second run over the same prefix adopts nothing again.
    const again = await startAdoption(world.owner.actor, world.project.id, options())
    const rerun = await runToEnd(again.id)
    assert.deepEqual({ adopted: rerun.adopted, already: rerun.alreadyAdopted, failed: rerun.failed }, { adopted: 0, already: 5, failed: 1 })
    assert.equal(await prisma.file.count({ where: { projectId: world.project.id } }), 5)
  })

  test('adopting by copy puts verified copies in Carcosa key layout; originals are kept, or deleted when asked', async () => {
    for (const deleteOriginals of [false, true]) {
      const world = await adoptionWorld()
      const run = await startAdoption(world.owner.actor, world.project.id, options({ mode: 'copy', deleteOriginals, unmatched: 'project' }))
      const done = await runToEnd(run.id, 4)
      assert.equal(done.status, 'COMPLETED')
      assert.equal(done.adopted, 7, 'every object but the disguised one')
      const files = await prisma.file.findMany({ where: { projectId: world.project.id }, include: { tenant: true } })
      assert.equal(files.length, 7)
      const project = await prisma.project.findUniqueOrThrow({
        where: { id: world.project.id },
        include: { team: { include: { organization: true } } },
      })
      const layout = `${project.team.organization.slug}/${project.team.slug}/${project.slug}/`
      for (const object of legacyObjects()) {
        const file = files.find((candidate) => candidate.adoptedFromKey === object.key)
        assert.ok(file, `${object.key} was adopted`)
        assert.ok(file.objectKey.startsWith(layout + (file.tenant ? `${file.tenant.slug}/` : '')), file.objectKey)
        assert.equal(file.tenant?.slug ?? null, object.tenant)
        assert.equal(sha((await objectBytes(world.bucketName, file.objectKey))!), sha(object.body), 'the copy has the bytes')
        assert.equal(await objectExists(world.bucketName, object.key), !deleteOriginals)
      }
      assert.equal(await objectExists(world.bucketName, FAKE.key), true, 'a refused object is never deleted')

      // A rerun finds every object adopted (by its original key, even where the original is gone).
      const again = await runToEnd(
        (await startAdoption(world.owner.actor, world.project.id, options({ mode: 'copy', deleteOriginals, unmatched: 'project' }))).id,
      )
      assert.equal(again.adopted, 0)
      assert.equal(await prisma.file.count({ where: { projectId: world.project.id } }), 7)
    }
  })

  test('a page whose job is delivered twice at once is worked on by one worker: each object adopted and counted once', async () => {
    const world = await adoptionWorld()
    const run = await startAdoption(world.owner.actor, world.project.id, options({ mode: 'copy' }))
    // The second waits for the first's hold on the run (its job is retried by the queue); the first finishes the page.
    const outcomes = await Promise.allSettled([adoptPage(run.id, 0, { pageSize: 100 }), adoptPage(run.id, 0, { pageSize: 100 })])
    assert.deepEqual(outcomes.map((outcome) => outcome.status).sort(), ['fulfilled', 'rejected'])
    assert.match(
      String((outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason),
      /being worked on by another worker/,
    )
    const done = await prisma.adoptionRun.findUniqueOrThrow({ where: { id: run.id } })
    assert.equal(done.status, 'COMPLETED')
    assert.equal(done.scanned, 8)
    assert.deepEqual([done.adopted, done.alreadyAdopted, done.failed], [5, 0, 1])
    assert.equal(await prisma.file.count({ where: { projectId: world.project.id } }), 5)
    assert.equal(await prisma.adoptionItem.count({ where: { runId: run.id } }), 8)
    assert.equal((await prisma.adoptionRun.findUniqueOrThrow({ where: { id: run.id } })).leaseId, null, 'the hold ends with the page')
    // A job for a page the run has left does nothing.
    await adoptPage(run.id, 0, { pageSize: 100 })
    assert.equal((await prisma.adoptionRun.findUniqueOrThrow({ where: { id: run.id } })).scanned, 8)
  })

  test('a prefix map files objects under the tenants it names; unknown tenants are refused unless created', async () => {
    const world = await adoptionWorld()
    await fillBucket(world.bucketName, [{ key: 'customers/a/one.txt', body: Buffer.from('one'), contentType: 'text/plain' }])
    const map = { prefix: 'customers/', rule: 'prefix-map' as const }
    await assertAppError(
      startAdoption(world.owner.actor, world.project.id, options({ ...map, tenantMap: [{ prefix: 'customers/a/', tenant: 'umbrella' }] })),
      'VALIDATION',
    )
    const run = await startAdoption(
      world.owner.actor,
      world.project.id,
      options({ ...map, tenantMap: [{ prefix: 'customers/a/', tenant: 'umbrella' }], createTenants: true }),
    )
    await runToEnd(run.id)
    const file = await prisma.file.findFirstOrThrow({ where: { projectId: world.project.id }, include: { tenant: true } })
    assert.deepEqual([file.tenant?.slug, file.path, file.objectKey], ['umbrella', 'umbrella/one.txt', 'customers/a/one.txt'])
  })

  test('cancel stops a run; a failed run resumes where it stopped; one run at a time per project', async () => {
    const world = await adoptionWorld()
    const run = await startAdoption(world.owner.actor, world.project.id, options())
    await assertAppError(startAdoption(world.owner.actor, world.project.id, options()), 'CONFLICT')
    await adoptPage(run.id, 0, { pageSize: 2 })
    const cancelled = await cancelAdoption(world.owner.actor, run.id)
    assert.equal(cancelled.status, 'cancelled')
    await adoptPage(run.id, 1, { pageSize: 2 })
    assert.equal((await getAdoption(world.owner.actor, run.id)).counts.scanned, 2, 'nothing happens after a cancellation')
    await assertAppError(resumeAdoption(world.owner.actor, run.id), 'CONFLICT')

    // The bucket becomes unreachable: the page's last attempt fails the run; resuming finishes it.
    const second = await startAdoption(world.owner.actor, world.project.id, options())
    const endpoint = world.bucket.endpoint!
    await prisma.bucket.update({ where: { id: world.bucket.id }, data: { endpoint: 'http://127.0.0.1:9' } })
    await adoptPage(second.id, 0, { pageSize: 3, lastAttempt: true })
    const failed = await getAdoption(world.owner.actor, second.id)
    assert.equal(failed.status, 'failed')
    assert.match(failed.error ?? '', /could not be read/)
    await prisma.bucket.update({ where: { id: world.bucket.id }, data: { endpoint } })
    await resumeAdoption(world.owner.actor, second.id)
    const finished = await runToEnd(second.id)
    assert.equal(finished.status, 'COMPLETED')
    assert.equal(await prisma.file.count({ where: { projectId: world.project.id } }), 5)
  })

  test('a suspended or archived tenant takes no adopted files; a tenant-scoped key cannot adopt', async () => {
    const world = await adoptionWorld()
    await updateTenant(world.owner.actor, world.tenants.globex.id, { status: 'suspended' })
    await updateTenant(world.owner.actor, world.tenants['acme-corp'].id, { status: 'archived' })
    const preview = await previewAdoption(world.owner.actor, world.project.id, { ...options(), limit: 100 })
    assert.deepEqual(
      preview.perTenant.map((entry) => [entry.tenant?.slug, entry.objects]),
      [['acme', 2]],
    )
    assert.equal(preview.conflicts, 4)
    assert.ok(
      preview.conflictSample.some((conflict) => conflict.key === 'globex/photo.jpg' && /Tenant globex is suspended/.test(conflict.reason)),
    )
    assert.ok(preview.conflictSample.some((conflict) => conflict.key === 'acme-corp/banner.jpg' && /archived/.test(conflict.reason)))

    const run = await startAdoption(world.owner.actor, world.project.id, options())
    const done = await runToEnd(run.id)
    assert.deepEqual([done.adopted, done.skipped], [2, 6])
    assert.equal(await prisma.file.count({ where: { tenantId: { in: [world.tenants.globex.id, world.tenants['acme-corp'].id] } } }), 0)

    // A tenant-scoped key carries at most the file permissions; adoption refuses it in the service too.
    const bound = await createTestApiKey(world.owner.actor, world.project.id, ['files:read', 'files:write', 'files:delete'], {
      tenantId: world.tenants.acme.id,
    })
    assertProblem(await api('POST', '/api/v1/adoptions/preview', { token: bound.key, body: {} }), 403)
    assertProblem(await api('POST', '/api/v1/adoptions', { token: bound.key, body: {} }), 403)
    await assertAppError(previewAdoption(bound.actor, world.project.id, { ...options(), limit: 10 }), 'FORBIDDEN')
    assert.equal(await prisma.adoptionRun.count({ where: { projectId: world.project.id } }), 1)
  })

  test('over HTTP: keys of the project with projects:write preview and start; other projects and weaker keys are refused', async () => {
    const world = await adoptionWorld()
    const other = await createWorkspace()
    const writer = await createTestApiKey(world.owner.actor, world.project.id, ['projects:write', 'projects:read'])
    const reader = await createTestApiKey(world.owner.actor, world.project.id, ['projects:read', 'files:write'])
    const outsider = await createTestApiKey(other.owner.actor, other.project.id, ['admin'])

    const preview = await api('POST', '/api/v1/adoptions/preview', { token: writer.key, body: {} })
    assert.equal(preview.status, 200, preview.text)
    assert.equal(preview.json.scanned, 8)
    assertProblem(await api('POST', '/api/v1/adoptions/preview', { token: reader.key, body: {} }), 403)
    assertProblem(await api('POST', '/api/v1/adoptions/preview', { token: writer.key, body: { prefix: 'no-slash' } }), 400)
    assertProblem(await api('POST', '/api/v1/adoptions', { token: writer.key, body: { mode: 'in-place', deleteOriginals: true } }), 400)
    assertProblem(await api('POST', '/api/v1/adoptions', { token: writer.key, body: { mode: 'copy', deleteOriginals: true } }), 403)
    // Another project's key names this project: not found, and nothing is scanned or started.
    assertProblem(await api('POST', '/api/v1/adoptions/preview', { token: outsider.key, body: { projectId: world.project.id } }), 404)
    assertProblem(await api('POST', '/api/v1/adoptions', { token: outsider.key, body: { projectId: world.project.id } }), 404)

    const started = await api('POST', '/api/v1/adoptions', { token: writer.key, body: { prefix: '', rule: 'first-segment' } })
    assert.equal(started.status, 201, started.text)
    assert.equal(started.json.status, 'running')
    await runToEnd(started.json.id)
    const got = await api('GET', `/api/v1/adoptions/${started.json.id}`, { token: reader.key })
    assert.equal(got.status, 200)
    assert.equal(got.json.status, 'completed')
    assert.equal(got.json.counts.adopted, 5)
    const failed = await api('GET', `/api/v1/adoptions/${started.json.id}/items?status=failed`, { token: reader.key })
    assert.deepEqual(
      failed.json.items.map((item: { key: string }) => item.key),
      ['globex/fake.png'],
    )
    assertProblem(await api('GET', `/api/v1/adoptions/${started.json.id}`, { token: outsider.key }), 404)
    assertProblem(await api('GET', `/api/v1/adoptions/${started.json.id}/items`, { token: outsider.key }), 404)
    await assertAppError(getAdoption(other.owner.actor, started.json.id), 'NOT_FOUND')
    const listed = await api('GET', '/api/v1/adoptions', { token: reader.key })
    assert.deepEqual(
      listed.json.items.map((run: { id: string }) => run.id),
      [started.json.id],
    )
  })
})
