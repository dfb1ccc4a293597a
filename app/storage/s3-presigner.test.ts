import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { GetObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { createS3Client, type S3Connection } from './s3-adapter.server'
import { PROBE_KEY, createS3Presigner } from './s3-presigner.server'

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const signingDate = new Date('2026-11-29T12:34:56Z')

// Path style on a custom endpoint (MinIO, s3rver), an endpoint with a base path, R2's region
// `auto`, and AWS itself in virtual-hosted style.
const connections: Array<[string, S3Connection]> = [
  ['path style', { bucketName: 'media', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, ...credentials }],
  [
    'a base path',
    { bucketName: 'media', region: 'eu-central-1', endpoint: 'https://s3.example.test/storage', forcePathStyle: true, ...credentials },
  ],
  ['R2', { bucketName: 'media', region: 'auto', endpoint: 'https://0123abcd.r2.cloudflarestorage.com', forcePathStyle: true, ...credentials }],
  ['AWS virtual-hosted', { bucketName: 'carcosa-media', region: 'eu-west-1', endpoint: null, forcePathStyle: false, ...credentials }],
]

const keys = [
  'o/acme/media/site/2026/11/photo.jpg',
  'o/acme/media/site/with space/naïve résumé (1).png',
  "o/x/y/z/!'()*~+&=;,$@:.txt",
  'o/x/y/z/日本語/emoji-🙂.bin',
]

/** The same URL: origin, path and every query parameter (order aside). */
function assertSameUrl(actual: string, expected: string) {
  const a = new URL(actual)
  const e = new URL(expected)
  assert.equal(a.origin, e.origin)
  assert.equal(a.pathname, e.pathname)
  const params = (url: URL) => [...url.searchParams].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
  assert.deepEqual(params(a), params(e))
}

describe('presigned S3 URLs signed directly equal the SDK getSignedUrl ones', () => {
  for (const [name, connection] of connections) {
    test(name, async () => {
      const client = createS3Client(connection, { allowPrivate: true })
      const Bucket = connection.bucketName
      let probes = 0
      const presign = createS3Presigner(connection, () => {
        probes += 1
        return getSignedUrl(client, new GetObjectCommand({ Bucket, Key: PROBE_KEY }), { expiresIn: 60 })
      })
      for (const key of keys) {
        const put = await presign({
          method: 'PUT',
          key,
          query: { 'x-id': 'PutObject' },
          headers: { 'content-length': '1234', 'content-type': 'image/png' },
          expiresInSeconds: 900,
          signingDate,
        })
        const sdkPut = await getSignedUrl(client, new PutObjectCommand({ Bucket, Key: key, ContentType: 'image/png', ContentLength: 1234 }), {
          expiresIn: 900,
          signableHeaders: new Set(['content-type', 'content-length']),
          signingDate,
        })
        assertSameUrl(put, sdkPut)

        const disposition = `attachment; filename="r\u00e9sum\u00e9.png"; filename*=UTF-8''r%C3%A9sum%C3%A9.png`
        const get = await presign({
          method: 'GET',
          key,
          query: { 'x-id': 'GetObject', 'response-content-disposition': disposition, 'response-content-type': 'image/png' },
          expiresInSeconds: 60,
          signingDate,
        })
        const sdkGet = await getSignedUrl(
          client,
          new GetObjectCommand({ Bucket, Key: key, ResponseContentDisposition: disposition, ResponseContentType: 'image/png' }),
          { expiresIn: 60, signingDate },
        )
        assertSameUrl(get, sdkGet)

        const part = await presign({
          method: 'PUT',
          key,
          query: { 'x-id': 'UploadPart', partNumber: '7', uploadId: 'abc+/=def' },
          expiresInSeconds: 300,
          signingDate,
        })
        const sdkPart = await getSignedUrl(client, new UploadPartCommand({ Bucket, Key: key, UploadId: 'abc+/=def', PartNumber: 7 }), {
          expiresIn: 300,
          signingDate,
        })
        assertSameUrl(part, sdkPart)
      }
      assert.equal(probes, 1, 'the bucket URL shape is resolved once')
    })
  }
})
