/**
 * Uploads over HTTP through the real app, against s3rver and the local provider: the three ways in
 * (presigned PUT, multipart with resume, streamed) with byte-for-byte round trips, and the one
 * completion step's refusals. s3rver ignores signatures: nothing here proves signing.
 * Local-provider URLs are answered by the app's own /storage/local route, called by path.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { buffer } from 'node:stream/consumers'
import { describe, test } from 'node:test'
import { ListPartsCommand } from '@aws-sdk/client-s3'
import sharp from 'sharp'
import { bucketConnectionSelect, storageFor } from '~/services/buckets/bucket-storage.server'
import { stagingKeyOf } from '~/services/uploads/object-keys'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { attachLocalBucket, attachS3Bucket } from '../support/storage-factories'
import { rawS3Client } from '../support/s3'

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')
const MIB = 1024 * 1024
type Provider = 's3' | 'local'
const PROVIDERS: Provider[] = ['s3', 'local']

async function setup(provider: Provider) {
  const workspace = await createWorkspace()
  if (provider === 's3') await attachS3Bucket(workspace.project.id)
  else await attachLocalBucket(workspace.project.id)
  const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['files:write', 'files:read'])
  return { ...workspace, key }
}

const tenantIn = (projectId: string, slug = `tenant-${randomBytes(3).toString('hex')}`) =>
  prisma.tenant.create({ data: { projectId, slug, name: slug } })

const init = (token: string, body: Record<string, unknown>) => api('POST', '/api/v1/uploads/init', { token, body })
const complete = (token: string, body: Record<string, unknown>) => api('POST', '/api/v1/uploads/complete', { token, body })
const status = (token: string, uploadId: string) => api('GET', `/api/v1/uploads/${uploadId}/status`, { token })

/** PUTs to a signed URL: the bucket's (s3rver, over HTTP) or Carcosa's own local-storage route (by path). */
async function putTo(
  url: string,
  headers: Record<string, string>,
  data: Uint8Array,
): Promise<{ status: number; etag: string | null; text: string }> {
  const target = new URL(url)
  if (target.pathname.startsWith('/storage/local/')) {
    const response = await api('PUT', target.pathname + target.search, {
      body: data,
      headers: { ...headers, 'Content-Length': String(data.length) },
    })
    return { status: response.status, etag: response.headers.get('etag'), text: response.text }
  }
  const response = await fetch(url, { method: 'PUT', headers, body: data as BodyInit })
  return { status: response.status, etag: response.headers.get('etag'), text: await response.text() }
}

async function uploadRow(uploadId: string) {
  return prisma.upload.findUniqueOrThrow({ where: { id: uploadId }, include: { bucket: { select: bucketConnectionSelect } } })
}

/** The stored object's bytes, read behind Carcosa's back (null when it does not exist). */
/** The upload's bytes in its bucket: the object, or else a presigned PUT's staged copy (null when neither is there). */
async function storedBytes(uploadId: string): Promise<Buffer | null> {
  const upload = await uploadRow(uploadId)
  const storage = await storageFor(upload.bucket)
  const object = (await storage.get(upload.objectKey)) ?? (await storage.get(stagingKeyOf(upload.objectKey)))
  return object ? buffer(object.body) : null
}

async function pngBytes() {
  return sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer()
}

for (const provider of PROVIDERS) {
  describe(`${provider}: the three ways in`, () => {
    test('presigned PUT: init, PUT the bytes, complete; the bytes round-trip and completing again returns the same file', async () => {
      const { key, project, organization, team } = await setup(provider)
      const data = await pngBytes()
      const started = await init(key, { fileName: 'avatar.png', contentType: 'image/png', size: data.length })
      assert.equal(started.status, 201, started.text)
      assert.equal(started.json.method, 'PUT')
      assert.match(started.json.path, /^[0-9a-f]{12}-avatar\.png$/)
      assert.equal(started.json.name, 'avatar.png')
      assert.equal(started.json.objectKey, undefined, 'the object key is never shown')
      assert.ok(Date.parse(started.json.expiresAt) > Date.now())
      assert.equal(started.json.headers['Content-Type'], 'image/png')

      const put = await putTo(started.json.url, started.json.headers, data)
      assert.equal(put.status, 200, put.text)
      const done = await complete(key, { uploadId: started.json.uploadId })
      assert.equal(done.status, 200, done.text)
      const file = done.json.file
      assert.deepEqual(
        [file.path, file.name, file.size, file.contentType, file.projectId, file.tenantId],
        [started.json.path, 'avatar.png', data.length, 'image/png', project.id, null],
      )
      assert.equal(sha((await storedBytes(started.json.uploadId))!), sha(data))

      const row = await uploadRow(started.json.uploadId)
      const slugs = await prisma.organization.findUniqueOrThrow({ where: { id: organization.id }, select: { slug: true } })
      assert.equal(row.objectKey, `${slugs.slug}/${team.slug}/${project.slug}/${started.json.path}`)
      assert.equal(row.status, 'COMPLETED')
      assert.equal(await prisma.auditLog.count({ where: { action: 'file.create', targetId: file.id } }), 1)

      const again = await complete(key, { uploadId: started.json.uploadId })
      assert.equal(again.status, 200)
      assert.equal(again.json.file.id, file.id)
      assert.equal(await prisma.file.count({ where: { projectId: project.id } }), 1)
      const reported = await status(key, started.json.uploadId)
      assert.deepEqual([reported.json.status, reported.json.file.id], ['COMPLETED', file.id])
    })

    test('after completion the presigned PUT URL cannot replace the verified bytes', async () => {
      const { key } = await setup(provider)
      const data = await pngBytes()
      const started = await init(key, { fileName: 'safe.png', contentType: 'image/png', size: data.length })
      assert.equal((await putTo(started.json.url, started.json.headers, data)).status, 200)
      const done = await complete(key, { uploadId: started.json.uploadId })
      assert.equal(done.status, 200, done.text)

      // Same length and signed type, different bytes: what an attacker holding the URL would send.
      const html = Buffer.alloc(data.length, ' ')
      html.write('<html><script>alert(1)</script></html>')
      const replaced = await putTo(started.json.url, started.json.headers, html)
      if (provider === 'local') assert.equal(replaced.status, 409, 'the local provider refuses a used PUT link')
      const row = await uploadRow(started.json.uploadId)
      const object = await (await storageFor(row.bucket)).get(row.objectKey)
      assert.equal(sha(await buffer(object!.body)), sha(data), 'the verified object is unchanged')
      const link = await api('GET', `/api/v1/files/${done.json.file.id}/download?redirect=false`, { token: key })
      const url = new URL(link.json.url)
      const downloaded = url.pathname.startsWith('/storage/local/')
        ? (await api('GET', url.pathname + url.search)).bytes
        : Buffer.from(await (await fetch(url)).arrayBuffer())
      assert.equal(sha(downloaded), sha(data), 'a download serves the verified bytes')
    })

    test('multipart: parts signed in batches, recorded, resumed from the status after a "reload", then completed from the recorded parts', async () => {
      const { key } = await setup(provider)
      const data = randomBytes(2 * 8 * MIB + 1234)
      const started = await init(key, { fileName: 'video.bin', contentType: 'application/octet-stream', size: data.length, multipart: true })
      assert.equal(started.status, 201, started.text)
      assert.deepEqual([started.json.method, started.json.partSize, started.json.partCount], ['MULTIPART', 8 * MIB, 3])
      const { uploadId, partSize } = started.json
      const partBytes = (n: number) => data.subarray((n - 1) * partSize, Math.min(n * partSize, data.length))

      const uploadParts = async (numbers: number[]) => {
        const signed = await api('POST', `/api/v1/uploads/${uploadId}/parts`, { token: key, body: { partNumbers: numbers } })
        assert.equal(signed.status, 200, signed.text)
        assert.deepEqual(
          signed.json.parts.map((p: { partNumber: number }) => p.partNumber),
          numbers,
        )
        for (const part of signed.json.parts) {
          const put = await putTo(part.url, part.headers, partBytes(part.partNumber))
          assert.equal(put.status, 200, put.text)
          assert.ok(put.etag, 'each part answers its ETag')
          const recorded = await api('PUT', `/api/v1/uploads/${uploadId}/parts/${part.partNumber}`, {
            token: key,
            body: { etag: put.etag, size: partBytes(part.partNumber).length },
          })
          assert.equal(recorded.status, 200, recorded.text)
        }
      }
      await uploadParts([1])
      // The page reloads: what is done comes from the status, the rest is signed anew.
      const midway = await status(key, uploadId)
      assert.equal(midway.json.status, 'PENDING')
      assert.deepEqual(
        midway.json.parts.map((p: { partNumber: number }) => p.partNumber),
        [1],
      )
      const missing = [1, 2, 3].filter((n) => !midway.json.parts.some((p: { partNumber: number }) => p.partNumber === n))
      await uploadParts(missing)

      const done = await complete(key, { uploadId })
      assert.equal(done.status, 200, done.text)
      assert.equal(done.json.file.size, data.length)
      assert.equal(sha((await storedBytes(uploadId))!), sha(data))
    })

    test('streamed through Carcosa: multipart/form-data with a tenant field first, then the file', async () => {
      const { key, project } = await setup(provider)
      const tenant = await tenantIn(project.id)
      const data = randomBytes(3 * MIB + 77)
      const form = new FormData()
      form.append('tenantId', tenant.id)
      form.append('file', new Blob([data], { type: 'application/octet-stream' }), '../../report final.bin')
      const response = await api('POST', '/api/v1/files/upload', { token: key, body: form })
      assert.equal(response.status, 201, response.text)
      const file = response.json.file
      assert.equal(file.name, 'report final.bin')
      assert.equal(file.tenantId, tenant.id)
      assert.match(file.path, new RegExp(`^${tenant.slug}/[0-9a-f]{12}-report final\\.bin$`))
      assert.equal(file.size, data.length)
      const upload = await prisma.upload.findFirstOrThrow({ where: { fileId: file.id } })
      assert.deepEqual([upload.method, upload.status], ['STREAM', 'COMPLETED'])
      assert.equal(sha((await storedBytes(upload.id))!), sha(data))
    })

    test('streamed with a declared size: stored whole in one PUT; a body of another length fails and leaves nothing', async () => {
      const { key, project } = await setup(provider)
      const data = randomBytes(9 * MIB + 5) // over one part: without the size it would go up in parts
      const form = new FormData()
      form.append('size', String(data.length))
      form.append('file', new Blob([data]), 'sized.bin')
      const response = await api('POST', '/api/v1/files/upload', { token: key, body: form })
      assert.equal(response.status, 201, response.text)
      const upload = await prisma.upload.findFirstOrThrow({ where: { fileId: response.json.file.id } })
      assert.equal(sha((await storedBytes(upload.id))!), sha(data))

      for (const declared of [data.length + 1, data.length - 1]) {
        const wrong = new FormData()
        wrong.append('size', String(declared))
        wrong.append('file', new Blob([data]), 'wrong.bin')
        const refused = await api('POST', '/api/v1/files/upload', { token: key, body: wrong })
        assertProblem(refused, 400)
        assert.deepEqual(Object.keys(refused.json.errors), ['size'])
        const failed = await prisma.upload.findFirstOrThrow({
          where: { projectId: project.id, fileName: 'wrong.bin', status: 'FAILED', fileId: null },
          orderBy: { createdAt: 'desc' },
        })
        assert.equal(await storedBytes(failed.id), null, 'nothing is left in the bucket')
      }
      assert.equal(await prisma.file.count({ where: { projectId: project.id } }), 1)
    })

    test('a spoofed content type (declared image/png, bytes are HTML) fails with 422 and the object is deleted', async () => {
      const { key } = await setup(provider)
      const html = Buffer.from('<!DOCTYPE html><html><script>alert(document.cookie)</script></html>')
      const started = await init(key, { fileName: 'cat.png', contentType: 'image/png', size: html.length })
      assert.equal((await putTo(started.json.url, started.json.headers, html)).status, 200)
      const done = await complete(key, { uploadId: started.json.uploadId })
      assertProblem(done, 422)
      assert.match(done.json.detail, /HTML, not image\/png/)
      assert.equal(await storedBytes(started.json.uploadId), null, 'the object is gone')
      const reported = await status(key, started.json.uploadId)
      assert.equal(reported.json.status, 'FAILED')
      assert.match(reported.json.failureReason, /HTML/)
      assert.equal(await prisma.file.count({ where: { path: started.json.path } }), 0)
      assertProblem(await complete(key, { uploadId: started.json.uploadId }), 409)
    })

    test('the streamed body past the project limit is cut off: 413, no file, nothing left in the bucket', async () => {
      const { key, project } = await setup(provider)
      await prisma.project.update({ where: { id: project.id }, data: { settings: { uploads: { allowedContentTypes: [], maxFileSize: 1000 } } } })
      const form = new FormData()
      form.append('file', new Blob([randomBytes(64 * 1024)]), 'big.bin')
      const response = await api('POST', '/api/v1/files/upload', { token: key, body: form })
      assertProblem(response, 413)
      assert.match(response.json.detail, /at most 1000 bytes/)
      assert.equal(await prisma.file.count({ where: { projectId: project.id } }), 0)
      const upload = await prisma.upload.findFirstOrThrow({ where: { projectId: project.id } })
      assert.equal(upload.status, 'FAILED')
      assert.equal(await storedBytes(upload.id), null)
      // A file of exactly the limit is fine.
      const exact = new FormData()
      exact.append('file', new Blob([randomBytes(1000)]), 'exact.bin')
      assert.equal((await api('POST', '/api/v1/files/upload', { token: key, body: exact })).status, 201)
    })
  })
}

describe('completion checks', () => {
  test('a size mismatch fails the upload (422) and deletes the object', async () => {
    const { key } = await setup('s3')
    const started = await init(key, { fileName: 'short.bin', contentType: 'application/octet-stream', size: 100 })
    // s3rver does not enforce the signed Content-Length (a real bucket would refuse the PUT).
    assert.equal((await putTo(started.json.url, started.json.headers, randomBytes(60))).status, 200)
    const done = await complete(key, { uploadId: started.json.uploadId })
    assertProblem(done, 422)
    assert.match(done.json.detail, /60 bytes, but 100 bytes were declared/)
    assert.equal(await storedBytes(started.json.uploadId), null)
  })

  test('the local provider refuses a PUT whose length or type differs from what was signed', async () => {
    const { key } = await setup('local')
    const started = await init(key, { fileName: 'a.bin', contentType: 'application/octet-stream', size: 100 })
    const shorter = await putTo(started.json.url, started.json.headers, randomBytes(60))
    assert.equal(shorter.status, 400)
    assert.match(shorter.text, /Content-Length must be 100/)
    const wrongType = await putTo(started.json.url, { 'Content-Type': 'text/html' }, randomBytes(100))
    assert.equal(wrongType.status, 400)
    assert.equal(await storedBytes(started.json.uploadId), null)
  })

  test('the local provider takes one PUT per link: a second one before completion is refused and the first bytes stay', async () => {
    const { key } = await setup('local')
    const data = randomBytes(100)
    const started = await init(key, { fileName: 'once.bin', contentType: 'application/octet-stream', size: 100 })
    assert.equal((await putTo(started.json.url, started.json.headers, data)).status, 200)
    const again = await putTo(started.json.url, started.json.headers, randomBytes(100))
    assert.equal(again.status, 409)
    assert.equal(sha((await storedBytes(started.json.uploadId))!), sha(data))
  })

  test('bytes of another known type than declared (JPEG as PNG, ZIP as PNG) are refused, naming what they are', async () => {
    const { key } = await setup('s3')
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'blue' } })
      .jpeg()
      .toBuffer()
    const zip = Buffer.concat([Buffer.from('PK\x03\x04'), randomBytes(200)])
    for (const [bytes, found] of [
      [jpeg, 'image/jpeg'],
      [zip, 'application/zip'],
    ] as const) {
      const started = await init(key, { fileName: 'x.png', contentType: 'image/png', size: bytes.length })
      await putTo(started.json.url, started.json.headers, bytes)
      const done = await complete(key, { uploadId: started.json.uploadId })
      assertProblem(done, 422)
      assert.ok(done.json.detail.includes(found), done.json.detail)
    }
  })

  test('completing before the bytes arrived is a 409 that leaves the upload pending', async () => {
    const { key } = await setup('s3')
    const started = await init(key, { fileName: 'later.bin', contentType: 'application/octet-stream', size: 10 })
    assertProblem(await complete(key, { uploadId: started.json.uploadId }), 409)
    assert.equal((await status(key, started.json.uploadId)).json.status, 'PENDING')
  })

  test('an expired upload cannot be completed (410), and the sweeper removes its object and marks it EXPIRED', async () => {
    const { key } = await setup('s3')
    const data = randomBytes(500)
    const started = await init(key, { fileName: 'late.bin', contentType: 'application/octet-stream', size: data.length })
    await putTo(started.json.url, started.json.headers, data)
    await prisma.upload.update({ where: { id: started.json.uploadId }, data: { expiresAt: new Date(Date.now() - 1000) } })
    const done = await complete(key, { uploadId: started.json.uploadId })
    assertProblem(done, 410)
    assert.match(done.json.detail, /expired/)
    assert.equal((await status(key, started.json.uploadId)).json.status, 'EXPIRED')
    assert.ok(await storedBytes(started.json.uploadId), 'the object waits for the sweeper')

    const { sweepExpiredUploads } = await import('~/services/uploads/sweep-uploads.server')
    const swept = await sweepExpiredUploads()
    assert.ok(swept.expired >= 1)
    const row = await uploadRow(started.json.uploadId)
    assert.equal(row.status, 'EXPIRED')
    assert.equal(await storedBytes(started.json.uploadId), null)
    assert.equal((await sweepExpiredUploads()).expired, 0, 'a second sweep finds nothing')
  })

  test('an expired multipart upload is aborted in its bucket: the parts the client sent do not linger', async () => {
    const { key } = await setup('s3')
    const started = await init(key, { fileName: 'left.bin', contentType: 'application/octet-stream', size: 2 * 8 * MIB, multipart: true })
    assert.equal(started.status, 201, started.text)
    const signed = await api('POST', `/api/v1/uploads/${started.json.uploadId}/parts`, { token: key, body: { partNumbers: [1] } })
    assert.equal((await putTo(signed.json.parts[0].url, signed.json.parts[0].headers, randomBytes(8 * MIB))).status, 200)
    const row = await uploadRow(started.json.uploadId)
    const listParts = () =>
      rawS3Client()
        .send(new ListPartsCommand({ Bucket: row.bucket.bucketName!, Key: row.objectKey, UploadId: row.multipartUploadId! }))
        .then(
          (listed) => listed.Parts?.map((part) => part.PartNumber) ?? [],
          (error: { name?: string }) => error.name ?? 'error',
        )
    assert.deepEqual(await listParts(), [1], 'the part is in the bucket while the upload is pending')

    await prisma.upload.update({ where: { id: started.json.uploadId }, data: { expiresAt: new Date(Date.now() - 1000) } })
    const { sweepExpiredUploads } = await import('~/services/uploads/sweep-uploads.server')
    assert.ok((await sweepExpiredUploads()).expired >= 1)
    assert.equal((await uploadRow(started.json.uploadId)).status, 'EXPIRED')
    assert.equal(await listParts(), 'NoSuchUpload', 'the multipart upload was aborted with its parts')
  })

  test('each upload has an expiry job due at its deadline, which expires it and announces upload.expired', async () => {
    const { key } = await setup('local')
    const started = await init(key, { fileName: 'due.bin', contentType: 'application/octet-stream', size: 10 })
    const uploadId = started.json.uploadId as string
    // Written off the request path, in batches within a second (ADR 019): write this one now.
    const { flushUploadExpiries } = await import('~/services/uploads/expiry-jobs.server')
    await flushUploadExpiries()
    const [job] = await prisma.$queryRaw<
      { start_after: Date }[]
    >`SELECT start_after FROM pgboss.job WHERE name = 'upload-expire' AND data->>'uploadId' = ${uploadId}`
    assert.ok(job, 'the expiry job was enqueued with the upload')
    assert.equal(job.start_after.getTime(), new Date(started.json.expiresAt).getTime())

    const { expireUpload } = await import('~/services/uploads/sweep-uploads.server')
    assert.equal(await expireUpload(uploadId), false, 'not before its deadline')
    await prisma.upload.update({ where: { id: uploadId }, data: { expiresAt: new Date(Date.now() - 1000) } })
    assert.equal(await expireUpload(uploadId), true)
    assert.equal((await uploadRow(uploadId)).status, 'EXPIRED')
    const events = await prisma.event.findMany({ where: { type: 'upload.expired', data: { path: ['uploadId'], equals: uploadId } } })
    assert.equal(events.length, 1)
    assert.equal(await expireUpload(uploadId), false, 'a second run changes nothing')
  })

  test('aborting a multipart upload marks it ABORTED; it can then be neither completed nor aborted again', async () => {
    const { key } = await setup('local')
    const started = await init(key, { fileName: 'big.bin', contentType: 'application/octet-stream', size: 20 * MIB, multipart: true })
    const aborted = await api('POST', `/api/v1/uploads/${started.json.uploadId}/abort`, { token: key })
    assert.equal(aborted.status, 200, aborted.text)
    assert.equal(aborted.json.status, 'ABORTED')
    assertProblem(await complete(key, { uploadId: started.json.uploadId }), 409)
    assertProblem(await api('POST', `/api/v1/uploads/${started.json.uploadId}/abort`, { token: key }), 409)
    assertProblem(await api('POST', `/api/v1/uploads/${started.json.uploadId}/parts`, { token: key, body: { partNumbers: [1] } }), 409)
  })

  test('parts recorded concurrently are all kept', async () => {
    const { key } = await setup('s3')
    const size = 8 * MIB * 9 + 5
    const started = await init(key, { fileName: 'many.bin', contentType: 'application/octet-stream', size, multipart: true })
    assert.equal(started.json.partCount, 10)
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api('PUT', `/api/v1/uploads/${started.json.uploadId}/parts/${i + 1}`, {
          token: key,
          body: { etag: `"etag-${i + 1}"`, size: i === 9 ? 5 : 8 * MIB },
        }),
      ),
    )
    assert.deepEqual(
      results.map((r) => r.status),
      Array(10).fill(200),
    )
    const reported = await status(key, started.json.uploadId)
    assert.deepEqual(
      reported.json.parts.map((p: { partNumber: number }) => p.partNumber),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    )
    // A part of the wrong size, or past the last, is refused.
    assertProblem(await api('PUT', `/api/v1/uploads/${started.json.uploadId}/parts/2`, { token: key, body: { etag: '"x"', size: 7 } }), 400)
    assertProblem(
      await api('PUT', `/api/v1/uploads/${started.json.uploadId}/parts/11`, { token: key, body: { etag: '"x"', size: 8 * MIB } }),
      400,
    )
  })
})

describe('names, rules and refusals at init', () => {
  test('traversal and control characters in file names end up sanitised inside the project prefix; NUL is refused', async () => {
    const { key, project } = await setup('s3')
    const tenant = await tenantIn(project.id)
    // NUL cannot be stored anywhere below (ADR 015): refused with the field named, before any sanitising.
    const nul = await init(key, { fileName: 'a\u0000b.txt', contentType: 'text/plain', size: 5, tenantId: tenant.id })
    assertProblem(nul, 400)
    assert.deepEqual(Object.keys(nul.json.errors), ['fileName'])
    for (const fileName of ['../../etc/passwd', '..\\..\\x', 'a\u0001b\u0007c.txt', '/..', '.env']) {
      const started = await init(key, { fileName, contentType: 'text/plain', size: 5, tenantId: tenant.id })
      assert.equal(started.status, 201, started.text)
      const row = await uploadRow(started.json.uploadId)
      assert.ok(row.objectKey.includes(`/${project.slug}/${tenant.slug}/`), row.objectKey)
      assert.ok(!row.objectKey.split('/').some((part) => part === '..' || part === '.' || part === ''), row.objectKey)
      assert.equal(row.objectKey.split('/').length, 5, row.objectKey)
      assert.doesNotMatch(row.objectKey, /[\u0000-\u001f\\]/)
      assert.ok(row.path.startsWith(`${tenant.slug}/`))
    }
    const names = (await prisma.upload.findMany({ where: { projectId: project.id }, orderBy: { createdAt: 'asc' } })).map((u) => u.fileName)
    // Names keep the folders they were sent with (a directory upload's relative paths), cleaned; keys never do.
    assert.deepEqual(names, ['etc/passwd', 'x', 'abc.txt', 'file', 'env'])
  })

  test('sizes and types outside the project rules are refused at init (413, 415) and again at completion', async () => {
    const { key, project } = await setup('s3')
    assertProblem(await init(key, { fileName: 'huge.bin', contentType: 'application/octet-stream', size: 6 * 1024 ** 3 }), 413)
    await prisma.project.update({
      where: { id: project.id },
      data: { settings: { uploads: { allowedContentTypes: ['image/*', 'application/pdf'], maxFileSize: 1000 } } },
    })
    const tooBig = await init(key, { fileName: 'a.png', contentType: 'image/png', size: 1001 })
    assertProblem(tooBig, 413)
    assert.match(tooBig.json.detail, /at most 1000 bytes/)
    const wrongType = await init(key, { fileName: 'a.txt', contentType: 'text/plain', size: 10 })
    assertProblem(wrongType, 415)
    assert.match(wrongType.json.detail, /image\/\*, application\/pdf/)

    const data = await pngBytes()
    const started = await init(key, { fileName: 'ok.png', contentType: 'image/png', size: data.length })
    assert.equal(started.status, 201, started.text)
    await putTo(started.json.url, started.json.headers, data)
    // The rules change while the upload is in flight: completion applies them again.
    await prisma.project.update({
      where: { id: project.id },
      data: { settings: { uploads: { allowedContentTypes: ['application/pdf'], maxFileSize: null } } },
    })
    assertProblem(await complete(key, { uploadId: started.json.uploadId }), 415)
    assert.equal((await uploadRow(started.json.uploadId)).status, 'FAILED')
    assert.equal(await storedBytes(started.json.uploadId), null)
  })

  test('a project without a bucket answers 409 saying what to do', async () => {
    const { owner, project } = await createWorkspace()
    // New projects may get the team's local storage by default: take it away.
    await prisma.project.update({ where: { id: project.id }, data: { bucketId: null } })
    const { key } = await createTestApiKey(owner.actor, project.id, ['files:write'])
    const response = await init(key, { fileName: 'a.bin', contentType: 'application/octet-stream', size: 1 })
    assertProblem(response, 409)
    assert.equal(response.json.detail, 'This project has no bucket yet; choose one in its settings.')
    const health = await api('GET', '/api/v1/carcosa/health', { token: key })
    assert.deepEqual([health.status, health.json.ok, health.json.bucket.configured], [200, false, false])
  })

  test('a key without files:write is refused (403); a user token must name the project', async () => {
    const { owner, project } = await setup('s3')
    const { key } = await createTestApiKey(owner.actor, project.id, ['files:read'])
    const refused = await init(key, { fileName: 'a.bin', contentType: 'application/octet-stream', size: 1 })
    assertProblem(refused, 403)
    assert.match(refused.json.detail, /files:write/)
    const { issueTokens } = await import('~/services/accounts/api-tokens.server')
    const { accessToken } = await issueTokens(owner.user.id, { ipAddress: null, userAgent: null })
    const noProject = await init(accessToken, { fileName: 'a.bin', contentType: 'application/octet-stream', size: 1 })
    assertProblem(noProject, 400)
    assert.deepEqual(Object.keys(noProject.json.errors), ['projectId'])
    assert.equal(
      (await init(accessToken, { projectId: project.id, fileName: 'a.bin', contentType: 'application/octet-stream', size: 1 })).status,
      201,
    )
  })
})

describe('isolation', () => {
  test("another project's key gets 404 on every uploads endpoint, and another project's tenant is 404", async () => {
    const mine = await setup('s3')
    const theirs = await setup('s3')
    const foreignTenant = await tenantIn(theirs.project.id)
    const single = await init(mine.key, { fileName: 'a.bin', contentType: 'application/octet-stream', size: 10 })
    const multi = await init(mine.key, { fileName: 'b.bin', contentType: 'application/octet-stream', size: 10 * MIB, multipart: true })
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/v1/uploads/${single.json.uploadId}/status`],
      ['POST', `/api/v1/uploads/${multi.json.uploadId}/parts`, { partNumbers: [1] }],
      ['PUT', `/api/v1/uploads/${multi.json.uploadId}/parts/1`, { etag: '"x"', size: 8 * MIB }],
      ['POST', `/api/v1/uploads/${single.json.uploadId}/abort`],
      ['POST', '/api/v1/uploads/complete', { uploadId: single.json.uploadId }],
      ['POST', '/api/v1/carcosa/complete', { uploadId: single.json.uploadId }],
    ]
    for (const [method, url, body] of calls) assertProblem(await api(method, url, { token: theirs.key, body }), 404)
    // The uploads are untouched.
    assert.equal((await status(mine.key, single.json.uploadId)).json.status, 'PENDING')
    assert.deepEqual((await status(mine.key, multi.json.uploadId)).json.parts, [])

    assertProblem(await init(mine.key, { fileName: 'a.bin', contentType: 'application/octet-stream', size: 1, tenantId: foreignTenant.id }), 404)
    assertProblem(
      await init(theirs.key, { projectId: mine.project.id, fileName: 'a.bin', contentType: 'application/octet-stream', size: 1 }),
      404,
    )
    const form = new FormData()
    form.append('tenantId', foreignTenant.id)
    form.append('file', new Blob([Buffer.from('hello')]), 'a.txt')
    assertProblem(await api('POST', '/api/v1/files/upload', { token: mine.key, body: form }), 404)
    assert.equal(await prisma.file.count({ where: { projectId: { in: [mine.project.id, theirs.project.id] } } }), 0)
  })
})

describe('the carcosa integration group', () => {
  test('health, init and complete work like the uploads endpoints', async () => {
    const { key, project } = await setup('local')
    const health = await api('GET', '/api/v1/carcosa/health', { token: key })
    assert.equal(health.status, 200, health.text)
    assert.deepEqual([health.json.ok, health.json.project.id, health.json.bucket.provider], [true, project.id, 'local'])
    const data = Buffer.from('plain text body')
    const started = await api('POST', '/api/v1/carcosa/init', {
      token: key,
      body: { fileName: 'note.txt', contentType: 'text/plain', size: data.length },
    })
    assert.equal(started.status, 201, started.text)
    assert.equal((await putTo(started.json.url, started.json.headers, data)).status, 200)
    const done = await api('POST', '/api/v1/carcosa/complete', { token: key, body: { uploadId: started.json.uploadId } })
    assert.equal(done.status, 200, done.text)
    assert.equal(sha((await storedBytes(started.json.uploadId))!), sha(data))
  })
})

describe('the local provider route', () => {
  test('a signed GET serves the bytes inert (grant type and disposition, nosniff, sandbox) and ranges; a tampered one is 403', async () => {
    const { key } = await setup('local')
    const html = Buffer.from('<html><script>alert(1)</script></html>')
    const form = new FormData()
    form.append('file', new Blob([html], { type: 'text/html' }), 'page.html')
    const uploaded = await api('POST', '/api/v1/files/upload', { token: key, body: form })
    assert.equal(uploaded.status, 201, uploaded.text)
    const upload = await prisma.upload.findFirstOrThrow({
      where: { fileId: uploaded.json.file.id },
      include: { bucket: { select: bucketConnectionSelect } },
    })
    const adapter = await storageFor(upload.bucket, 'http://carcosa.test')
    const signed = await adapter.presignGet(upload.objectKey, {
      expiresInSeconds: 60,
      contentDisposition: 'attachment; filename="page.html"',
      contentType: 'text/html',
    })
    const url = new URL(signed.url)
    const response = await api('GET', url.pathname + url.search)
    assert.equal(response.status, 200)
    assert.equal(response.text, html.toString())
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="page.html"')
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
    assert.match(response.headers.get('content-security-policy') ?? '', /sandbox/)
    const ranged = await api('GET', url.pathname + url.search, { headers: { Range: 'bytes=0-5' } })
    assert.deepEqual([ranged.status, ranged.text, ranged.headers.get('content-range')], [206, '<html>', `bytes 0-5/${html.length}`])
    url.searchParams.set('disposition', 'inline')
    assert.equal((await api('GET', url.pathname + url.search)).status, 403)
    const preflight = await api('OPTIONS', url.pathname)
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*')
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PUT/)
  })
})
