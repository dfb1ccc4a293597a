import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { after, describe, test } from 'node:test'
import { createS3Bucket } from '../../tests/support/s3'
import { createLocalAdapter, verifyLocalUrl, type LocalAdapter } from './local-adapter.server'
import { createS3Adapter } from './s3-adapter.server'
import type { StorageAdapter } from './storage-adapter'

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
const SECRET = 'local-storage-test-secret-0123456789abcdef'

async function s3Adapter(): Promise<StorageAdapter> {
  const bucket = await createS3Bucket('adapter')
  return createS3Adapter(bucket, { allowPrivate: true })
}

const roots: string[] = []
after(async () => {
  for (const root of roots) await fs.rm(root, { recursive: true, force: true })
})

async function localAdapter(): Promise<LocalAdapter> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-local-'))
  roots.push(root)
  return createLocalAdapter({ bucketId: 'bkt1', bucketName: 'files', root, baseUrl: 'http://127.0.0.1:9', signingSecret: SECRET })
}

for (const [name, make] of [
  ['s3 (s3rver)', s3Adapter],
  ['local', localAdapter],
] as const) {
  describe(`${name} adapter`, () => {
    test('streams an object in and out byte for byte, with ranges, head and delete', async () => {
      const adapter = await make()
      const data = randomBytes(20 * 1024 * 1024 + 123) // over one part: exercises the multipart stream path
      const { size } = await adapter.put('a/b/c.bin', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {
        contentType: 'application/octet-stream',
      })
      assert.equal(size, data.length)
      const info = await adapter.head('a/b/c.bin')
      assert.equal(info?.size, data.length)
      assert.equal(info?.contentType, 'application/octet-stream')
      const whole = await adapter.get('a/b/c.bin')
      assert.ok(whole)
      assert.equal(sha(await buffer(whole.body)), sha(data))
      const range = await adapter.get('a/b/c.bin', { range: { start: 0, end: 15 } })
      assert.ok(range)
      assert.deepEqual(await buffer(range.body), data.subarray(0, 16))
      await adapter.delete('a/b/c.bin')
      assert.equal(await adapter.head('a/b/c.bin'), null)
      assert.equal(await adapter.get('a/b/c.bin'), null)
    })

    test('a put with a declared length refuses a body that is shorter or longer, and keeps no object', async () => {
      const adapter = await make()
      const data = randomBytes(10_000)
      const { size } = await adapter.put('len/exact.bin', Readable.from([data]), {
        contentType: 'application/octet-stream',
        contentLength: data.length,
      })
      assert.equal(size, data.length)
      await assert.rejects(
        adapter.put('len/short.bin', Readable.from([data]), { contentType: 'application/octet-stream', contentLength: data.length + 1 }),
        /ended after 10000 of the declared 10001/,
      )
      await assert.rejects(
        adapter.put('len/long.bin', Readable.from([data]), { contentType: 'application/octet-stream', contentLength: data.length - 1 }),
        /longer than the declared 9999/,
      )
      if (name === 'local') {
        assert.equal(await adapter.head('len/short.bin'), null)
        assert.equal(await adapter.head('len/long.bin'), null)
      }
      // S3 refuses a body shorter than its Content-Length by itself; s3rver may still store what
      // an aborted request carried, after the adapter's clean-up delete, so it cannot show this.
      // The uploads service deletes the object again when it fails the upload (uploads.test.ts).
    })

    test('copy: the bytes and type arrive under the new key, the source stays; a stale ifMatch is refused where the store enforces it', async () => {
      const adapter = await make()
      const data = randomBytes(3000)
      await adapter.put('copy/from & to.bin', Readable.from([data]), { contentType: 'image/png' })
      const { etag } = (await adapter.head('copy/from & to.bin'))!
      await adapter.copy('copy/from & to.bin', 'copy/final.bin', { ifMatch: etag })
      const copied = await adapter.get('copy/final.bin')
      assert.equal(sha(await buffer(copied!.body)), sha(data))
      assert.equal(copied!.info.contentType, 'image/png')
      assert.ok(await adapter.head('copy/from & to.bin'), 'the source is kept')
      await assert.rejects(adapter.copy('copy/missing.bin', 'copy/nowhere.bin'), { failure: 'not-found' })
      // s3rver ignores x-amz-copy-source-if-match; S3, R2 and MinIO answer 412 (ADR 014).
      if (name === 'local')
        await assert.rejects(adapter.copy('copy/from & to.bin', 'copy/other.bin', { ifMatch: '"stale"' }), { failure: 'changed' })
    })

    test('multipart: parts written then completed in order make the object', async () => {
      const adapter = await make()
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)]
      const id = await adapter.createMultipart('m/obj.bin', { contentType: 'application/octet-stream' })
      const done = []
      for (const [index, part] of parts.entries()) {
        const request = await adapter.presignPart('m/obj.bin', id, index + 1, { expiresInSeconds: 60 })
        assert.equal(request.method, 'PUT')
        let etag: string
        if ('writePart' in adapter) {
          etag = (await (adapter as LocalAdapter).writePart('m/obj.bin', id, index + 1, Readable.from([part]))).etag
        } else {
          const answer = await fetch(request.url, { method: 'PUT', body: part })
          assert.equal(answer.status, 200)
          etag = answer.headers.get('etag') as string
        }
        done.push({ partNumber: index + 1, etag })
      }
      await adapter.completeMultipart('m/obj.bin', id, done)
      const object = await adapter.get('m/obj.bin')
      assert.ok(object)
      assert.equal(sha(await buffer(object.body)), sha(Buffer.concat(parts)))
    })

    test('list: pages through the keys under a prefix in byte order, resuming after the last key seen', async () => {
      const adapter = await make()
      const keys = ['a/1.txt', 'a/é.txt', 'b/x.txt', 'a/10.txt', 'a/2.txt']
      // '-' and '.' sort before '/', so "a-b.txt" precedes everything under "a/", and "a/2.txt" precedes
      // "a/2/...": the order S3 lists in. s3rver walks its directories in its own order instead (a
      // directory before a sibling key that sorts first), so only the local adapter is held to it here.
      if (name === 'local') keys.push('a/2/deep.txt', 'a-b.txt')
      for (const key of keys) await adapter.put(key, Readable.from([Buffer.from(key)]), { contentType: 'text/plain' })
      // Another key being written, and a multipart upload's parts, are not objects.
      await adapter.createMultipart('a/pending.bin', { contentType: 'application/octet-stream' })
      const expected = keys.filter((key) => key.startsWith('a/')).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      const seen: string[] = []
      let startAfter: string | undefined
      for (;;) {
        const page = await adapter.list('a/', { startAfter, limit: 2 })
        assert.ok(page.objects.length <= 2)
        for (const object of page.objects) assert.equal(object.size, Buffer.byteLength(object.key))
        seen.push(...page.objects.map((object) => object.key))
        if (!page.truncated) break
        startAfter = page.objects.at(-1)!.key
      }
      assert.deepEqual(seen, expected)
      const all = await adapter.list('')
      assert.deepEqual(
        all.objects.map((object) => object.key),
        [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      )
      assert.equal(all.truncated, false)
      assert.deepEqual((await adapter.list('nothing/')).objects, [])
    })
  })
}

test('s3: a presigned PUT accepts the bytes and a presigned GET returns them with the chosen disposition', async () => {
  const adapter = await s3Adapter()
  const data = randomBytes(4096)
  const put = await adapter.presignPut('p/x.bin', { contentType: 'image/png', contentLength: data.length, expiresInSeconds: 60 })
  assert.match(put.url, /X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost/)
  const answer = await fetch(put.url, { method: 'PUT', headers: put.headers, body: data })
  assert.equal(answer.status, 200)
  const get = await adapter.presignGet('p/x.bin', {
    expiresInSeconds: 60,
    contentDisposition: 'attachment; filename="x.bin"',
    contentType: 'application/octet-stream',
  })
  const download = await fetch(get.url)
  assert.equal(download.status, 200)
  assert.equal(download.headers.get('content-disposition'), 'attachment; filename="x.bin"')
  assert.equal(sha(Buffer.from(await download.arrayBuffer())), sha(data))
})

test('s3: a missing bucket and an unreachable endpoint are told apart', async () => {
  const bucket = await createS3Bucket('adapter')
  await assert.rejects(createS3Adapter({ ...bucket, bucketName: 'no-such-bucket-here' }, { allowPrivate: true }).headBucket(), {
    failure: 'no-such-bucket',
  })
  await assert.rejects(createS3Adapter({ ...bucket, endpoint: 'http://127.0.0.1:9' }, { allowPrivate: true }).headBucket(), {
    failure: 'unreachable',
  })
  await assert.rejects(createS3Adapter(bucket, { allowPrivate: false }).headBucket(), { failure: 'endpoint-refused' })
})

test('local: signed URLs verify only as issued, and not after expiry', async () => {
  const adapter = await localAdapter()
  const put = await adapter.presignPut('k/file.png', { contentType: 'image/png', contentLength: 10, expiresInSeconds: 60 })
  const url = new URL(put.url)
  const grant = verifyLocalUrl(url, 'bkt1', 'k/file.png', SECRET)
  assert.deepEqual({ op: grant?.op, length: grant?.length, type: grant?.contentType }, { op: 'put', length: 10, type: 'image/png' })
  assert.equal(verifyLocalUrl(url, 'bkt1', 'k/other.png', SECRET), null, 'another key')
  assert.equal(verifyLocalUrl(url, 'bkt2', 'k/file.png', SECRET), null, 'another bucket')
  const tampered = new URL(url)
  tampered.searchParams.set('length', '11')
  assert.equal(verifyLocalUrl(tampered, 'bkt1', 'k/file.png', SECRET), null, 'a changed length')
  assert.equal(verifyLocalUrl(url, 'bkt1', 'k/file.png', 'another-secret'), null, 'another secret')
  assert.equal(verifyLocalUrl(url, 'bkt1', 'k/file.png', SECRET, Date.now() + 61_000), null, 'expired')
  await assert.rejects(adapter.put('../escape', Readable.from([Buffer.from('x')]), { contentType: 'text/plain' }))
})
