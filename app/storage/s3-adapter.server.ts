import { Transform, type Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { guardedAgents, type EndpointPolicy } from './endpoint-guard.server'
import { createS3Presigner, PROBE_KEY } from './s3-presigner.server'
import { StorageError, listLimit, type StorageAdapter } from './storage-adapter'

export interface S3Connection {
  bucketName: string
  region: string
  /** Omitted for AWS itself. */
  endpoint?: string | null
  forcePathStyle: boolean
  accessKeyId: string
  secretAccessKey: string
}

/** Streamed uploads of unknown length go up in parts of this size, a few at a time: bounded memory. */
const STREAM_PART_BYTES = 8 * 1024 * 1024
const STREAM_QUEUE = 4
/** S3's ceiling for one PutObject. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3

/**
 * Passes the body through, counting it; with a declared length, more or fewer bytes fail the stream
 * (so a PUT with a Content-Length never hangs on a short body or sends a long one).
 */
function countBytes(body: Readable, declared: number | undefined) {
  let size = 0
  const stream = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (declared !== undefined && size > declared)
        callback(new StorageError('length-mismatch', `The body is longer than the declared ${declared} bytes.`))
      else callback(null, chunk)
    },
    flush(callback) {
      if (declared !== undefined && size !== declared)
        callback(new StorageError('length-mismatch', `The body ended after ${size} of the declared ${declared} bytes.`))
      else callback()
    },
  })
  body.once('error', (error) => stream.destroy(error))
  body.pipe(stream)
  return { stream, size: () => size }
}

export function createS3Client(connection: S3Connection, policy: EndpointPolicy): S3Client {
  const { httpAgent, httpsAgent } = guardedAgents(policy)
  return new S3Client({
    region: connection.region,
    endpoint: connection.endpoint ?? undefined,
    forcePathStyle: connection.forcePathStyle,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    // The SDK's default aws-chunked framing is stored verbatim by some S3-compatibles (STACK.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
    requestHandler: { httpAgent, httpsAgent, connectionTimeout: 5_000, requestTimeout: 60_000 },
  })
}

export function createS3Adapter(connection: S3Connection, policy: EndpointPolicy): StorageAdapter {
  const client = createS3Client(connection, policy)
  const Bucket = connection.bucketName
  const expiry = (seconds: number) => new Date(Date.now() + seconds * 1000)

  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation()
    } catch (error) {
      throw toStorageError(error, Bucket)
    }
  }

  // The SDK presigns once, to show the bucket's URL shape; every URL after that is signed directly.
  const presign = createS3Presigner(connection, () => getSignedUrl(client, new GetObjectCommand({ Bucket, Key: PROBE_KEY }), { expiresIn: 60 }))

  return {
    async presignPut(key, { contentType, contentLength, expiresInSeconds }) {
      const url = await presign({
        method: 'PUT',
        key,
        query: { 'x-id': 'PutObject' },
        headers: { 'content-length': String(contentLength), 'content-type': contentType },
        expiresInSeconds,
      })
      return { method: 'PUT', url, headers: { 'Content-Type': contentType }, expiresAt: expiry(expiresInSeconds) }
    },

    async presignGet(key, { expiresInSeconds, contentDisposition, contentType }) {
      const query: Record<string, string> = { 'x-id': 'GetObject' }
      if (contentDisposition !== undefined) query['response-content-disposition'] = contentDisposition
      if (contentType !== undefined) query['response-content-type'] = contentType
      const url = await presign({ method: 'GET', key, query, expiresInSeconds })
      return { method: 'GET', url, headers: {}, expiresAt: expiry(expiresInSeconds) }
    },

    async createMultipart(key, { contentType }) {
      const answer = await call(() => client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType })))
      if (!answer.UploadId) throw new StorageError('other', 'The bucket did not return a multipart upload id')
      return answer.UploadId
    },

    async presignPart(key, multipartUploadId, partNumber, { expiresInSeconds }) {
      const query = { 'x-id': 'UploadPart', partNumber: String(partNumber), uploadId: multipartUploadId }
      const url = await presign({ method: 'PUT', key, query, expiresInSeconds })
      return { method: 'PUT', url, headers: {}, expiresAt: expiry(expiresInSeconds) }
    },

    async completeMultipart(key, multipartUploadId, parts) {
      await call(() =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: key,
            UploadId: multipartUploadId,
            MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
          }),
        ),
      )
    },

    async abortMultipart(key, multipartUploadId) {
      await call(() => client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: multipartUploadId })))
    },

    async put(key, body, { contentType, contentLength }) {
      const counted = countBytes(body, contentLength)
      if (contentLength !== undefined && contentLength <= MAX_SINGLE_PUT_BYTES) {
        // A known length goes up as one streamed PUT: no part buffers, and as fast as the link allows.
        // A body that fails (wrong length, client gone) must abort the request, not leave it waiting.
        const abort = new AbortController()
        let streamError: unknown
        counted.stream.once('error', (error) => {
          streamError = error
          abort.abort()
        })
        try {
          await client.send(
            new PutObjectCommand({ Bucket, Key: key, Body: counted.stream, ContentType: contentType, ContentLength: contentLength }),
            {
              abortSignal: abort.signal,
            },
          )
        } catch (error) {
          // S3 refuses a short body itself; some S3-compatibles keep what arrived, so make sure nothing stays.
          await client.send(new DeleteObjectCommand({ Bucket, Key: key })).catch(() => {})
          throw toStorageError(streamError ?? error, Bucket)
        }
      } else {
        const upload = new Upload({
          client,
          params: { Bucket, Key: key, Body: counted.stream, ContentType: contentType },
          partSize: STREAM_PART_BYTES,
          queueSize: STREAM_QUEUE,
          leavePartsOnError: false,
        })
        await call(() => upload.done())
      }
      return { size: counted.size() }
    },

    async head(key) {
      try {
        const answer = await client.send(new HeadObjectCommand({ Bucket, Key: key }))
        return { size: answer.ContentLength ?? 0, contentType: answer.ContentType, etag: answer.ETag }
      } catch (error) {
        const failure = toStorageError(error, Bucket)
        if (failure.failure === 'not-found') return null
        throw failure
      }
    },

    async copy(fromKey, toKey, options = {}) {
      await call(() =>
        client.send(
          new CopyObjectCommand({
            Bucket,
            Key: toKey,
            CopySource: copySource(Bucket, fromKey),
            CopySourceIfMatch: options.ifMatch,
            MetadataDirective: 'COPY',
          }),
        ),
      )
    },

    async get(key, options) {
      const range = options?.range ? `bytes=${options.range.start}-${options.range.end}` : undefined
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket, Key: key, Range: range }))
        if (!answer.Body) return null
        return {
          body: answer.Body as Readable,
          info: { size: answer.ContentLength ?? 0, contentType: answer.ContentType, etag: answer.ETag },
        }
      } catch (error) {
        const failure = toStorageError(error, Bucket)
        if (failure.failure === 'not-found') return null
        throw failure
      }
    },

    async delete(key) {
      await call(() => client.send(new DeleteObjectCommand({ Bucket, Key: key })))
    },

    async deleteMany(keys) {
      // DeleteObjects takes at most 1000 keys a call.
      for (let start = 0; start < keys.length; start += 1000) {
        const Objects = keys.slice(start, start + 1000).map((Key) => ({ Key }))
        await call(() => client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } })))
      }
    },

    async deletePrefix(prefix) {
      if (!prefix.endsWith('/')) throw new StorageError('other', 'A prefix to delete must end in /')
      // Listed a page (up to 1000 keys) at a time and deleted before the next: bounded memory.
      let ContinuationToken: string | undefined
      do {
        const page = await call(() => client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken })))
        const Objects = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []))
        if (Objects.length > 0) await call(() => client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } })))
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (ContinuationToken)
    },

    async list(prefix, options = {}) {
      const page = await call(() =>
        client.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: prefix || undefined,
            StartAfter: options.startAfter || undefined,
            MaxKeys: listLimit(options.limit),
          }),
        ),
      )
      const objects = (page.Contents ?? []).flatMap((object) =>
        object.Key ? [{ key: object.Key, size: object.Size ?? 0, etag: object.ETag, lastModified: object.LastModified }] : [],
      )
      return { objects, truncated: Boolean(page.IsTruncated) }
    },

    async headBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }))
      } catch (error) {
        const failure = toStorageError(error, Bucket)
        // HeadBucket has no body, so a missing bucket arrives as a bare 404.
        if (failure.failure === 'not-found') throw new StorageError('no-such-bucket', `The bucket "${Bucket}" does not exist at this endpoint.`)
        throw failure
      }
    },

    async corsRules() {
      try {
        const answer = await client.send(new GetBucketCorsCommand({ Bucket }))
        return (answer.CORSRules ?? []).map((rule) => ({ allowedOrigins: rule.AllowedOrigins ?? [], allowedMethods: rule.AllowedMethods ?? [] }))
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchCORSConfiguration') return null
        throw toStorageError(error, Bucket)
      }
    },
  }
}

/** Turns an SDK or network error into a reason a user can act on, without echoing the response body. */
export function toStorageError(error: unknown, bucketName: string): StorageError {
  if (error instanceof StorageError) return error
  const err = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown }
  const code = err.code ?? (err.cause as { code?: string } | undefined)?.code
  const status = err.$metadata?.httpStatusCode
  if (code === 'ECARCOSA_ENDPOINT_REFUSED') return new StorageError('endpoint-refused', err.message ?? 'The endpoint is not allowed')
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code ?? '') ||
    err.name === 'TimeoutError'
  ) {
    return new StorageError('unreachable', `The storage endpoint could not be reached (${code ?? err.name}).`)
  }
  switch (err.name) {
    case 'NoSuchBucket':
      return new StorageError('no-such-bucket', `The bucket "${bucketName}" does not exist at this endpoint.`)
    case 'NoSuchKey':
    case 'NotFound':
      return new StorageError('not-found', 'The object does not exist.')
    case 'InvalidAccessKeyId':
      return new StorageError('credentials', 'The access key id is not recognised by this endpoint.')
    case 'SignatureDoesNotMatch':
      return new StorageError('credentials', 'The secret access key does not match the access key id.')
    case 'AccessDenied':
    case 'Forbidden':
      return new StorageError('permission', 'These credentials are not allowed to do this on the bucket.')
  }
  if (status === 404) return new StorageError('not-found', 'Not found.')
  if (status === 412) return new StorageError('changed', 'The object changed meanwhile.')
  if (status === 403) return new StorageError('permission', 'These credentials are not allowed to do this on the bucket.')
  if (status === 301 || err.name === 'PermanentRedirect') {
    return new StorageError('other', 'The bucket lives in another region than the one configured.')
  }
  return new StorageError('other', `The storage endpoint answered with an error (${err.name ?? 'unknown'}${status ? `, HTTP ${status}` : ''}).`)
}

/**
 * `bucket/key` for x-amz-copy-source, percent-encoded per segment; the sub-delimiters that need no
 * escaping in a header stay as they are (stores that decode the header with decodeURI read them too).
 */
function copySource(bucket: string, key: string) {
  const segment = (text: string) => encodeURIComponent(text).replace(/%(26|3D|24|2C|3B|40)/g, (escaped) => decodeURIComponent(escaped))
  return `${bucket}/${key.split('/').map(segment).join('/')}`
}
