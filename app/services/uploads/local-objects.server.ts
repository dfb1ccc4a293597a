import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeWebStream } from 'node:stream/web'
import { createReadableStreamFromReadable } from '@remix-run/node'
import { bucketConnectionSelect, publicBaseUrl, storageFor } from '~/services/buckets/bucket-storage.server'
import { LOCAL_STORAGE_PATH, verifyLocalUrl, type LocalAdapter, type LocalGrant } from '~/storage/local-adapter.server'
import { StorageError } from '~/storage/storage-adapter'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import { objectKeyOfStaging } from './object-keys'

/**
 * The local provider's HTTP side: what S3 does for its presigned URLs, done by Carcosa for buckets
 * on its own disk. The signed URL is the whole credential (no session, no bearer), so any origin
 * may use it and the CSRF check does not apply. Bytes are streamed both ways.
 */

// Signed URLs work from any page, like a bucket's; the browser may read the ETag of a part.
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Content-Length, Content-Range',
}

const answer = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(message, { status, headers: { ...CORS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers } })

/** `/storage/local/<bucketId>/<key...>` -> its bucket id and object key, each segment decoded. */
function locate(url: URL): { bucketId: string; key: string } | null {
  const prefix = `${LOCAL_STORAGE_PATH}/`
  if (!url.pathname.startsWith(prefix)) return null
  try {
    const [bucketId, ...key] = url.pathname.slice(prefix.length).split('/').map(decodeURIComponent)
    if (!bucketId || key.length === 0) return null
    return { bucketId, key: key.join('/') }
  } catch {
    return null
  }
}

/** Answers one request to a signed local-storage URL. */
export async function serveLocalObject(request: Request): Promise<Response> {
  if (request.method === 'OPTIONS') {
    return new Response(null, {
      status: 204,
      headers: {
        ...CORS,
        'Access-Control-Allow-Methods': 'GET, HEAD, PUT',
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Max-Age': '3600',
      },
    })
  }
  const url = new URL(request.url)
  const where = locate(url)
  if (!where) return answer(404, 'No such object.')
  const grant = verifyLocalUrl(url, where.bucketId, where.key, getConfig().SESSION_SECRET)
  if (!grant) return answer(403, 'This link is invalid or has expired.')
  const bucket = await prisma.bucket.findFirst({ where: { id: where.bucketId, provider: 'local' }, select: bucketConnectionSelect })
  if (!bucket) return answer(404, 'No such bucket.')
  const adapter = (await storageFor(bucket, publicBaseUrl(request))) as LocalAdapter
  try {
    if ((request.method === 'GET' || request.method === 'HEAD') && grant.op === 'get') return await serveGet(adapter, grant, request)
    if (request.method === 'PUT' && grant.op === 'put') return await receivePut(adapter, grant, request)
    if (request.method === 'PUT' && grant.op === 'part') return await receivePart(adapter, grant, request)
    return answer(405, `This link allows ${grant.op === 'get' ? 'GET' : 'PUT'} only.`, { Allow: grant.op === 'get' ? 'GET, HEAD' : 'PUT' })
  } catch (error) {
    if (error instanceof StorageError && error.failure === 'not-found') return answer(404, 'No such object or upload.')
    if (error instanceof StorageError) return answer(400, error.message)
    logger.error({ err: error as Error, bucketId: bucket.id }, 'local storage request failed')
    return answer(500, 'The object could not be stored or read.')
  }
}

/** `bytes=start-end` (one range) within `size`, or null for none or anything else. */
function parseRange(header: string | null, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null
  if (!match || (match[1] === '' && match[2] === '')) return null
  let start: number
  let end: number
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]))
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  }
  if (start > end || start >= size) return 'unsatisfiable'
  return { start, end }
}

async function serveGet(adapter: LocalAdapter, grant: LocalGrant, request: Request): Promise<Response> {
  const info = await adapter.head(grant.key)
  if (!info) return answer(404, 'No such object.')
  const range = parseRange(request.headers.get('range'), info.size)
  if (range === 'unsatisfiable') return answer(416, 'The requested range is outside the object.', { 'Content-Range': `bytes */${info.size}` })
  const headers: Record<string, string> = {
    ...CORS,
    // The grant's type and disposition, chosen by the server when it signed: never the stored metadata.
    'Content-Type': grant.contentType ?? 'application/octet-stream',
    'Content-Disposition': grant.disposition ?? 'attachment',
    // User content is never active on Carcosa's origin.
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "sandbox; default-src 'none'",
    'Cache-Control': 'private, max-age=300',
    'Accept-Ranges': 'bytes',
    'Content-Length': String(range ? range.end - range.start + 1 : info.size),
  }
  if (info.etag) headers.ETag = info.etag
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${info.size}`
  const status = range ? 206 : 200
  if (request.method === 'HEAD' || info.size === 0) return new Response(null, { status, headers })
  const object = await adapter.get(grant.key, range ? { range } : undefined)
  if (!object) return answer(404, 'No such object.')
  return new Response(createReadableStreamFromReadable(object.body), { status, headers })
}

/** Passes at most `limit` bytes and fails past them, so a body is never stored beyond its grant. */
function byteLimit(limit: number) {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen > limit) callback(new StorageError('other', `The body is larger than the ${limit} bytes this link allows.`))
      else callback(null, chunk)
    },
  })
}

function bodyOf(request: Request, limit: number): Readable {
  const limited = byteLimit(limit)
  // pipeline carries an aborted request into `limited` (and so into the write), unlike pipe().
  pipeline(Readable.fromWeb((request.body ?? new ReadableStream()) as NodeWebStream<Uint8Array>), limited).catch(() => {})
  return limited
}

async function receivePut(adapter: LocalAdapter, grant: LocalGrant, request: Request): Promise<Response> {
  // A PUT URL serves its upload while it is pending, once: never after completion, never over bytes already sent.
  const objectKey = objectKeyOfStaging(grant.key)
  const pending = objectKey ? await prisma.upload.count({ where: { bucketId: grant.bucketId, objectKey, method: 'PUT', status: 'PENDING' } }) : 0
  if (pending === 0) return answer(409, 'This upload link is used up: its upload is complete, failed or gone.')
  if (await adapter.head(grant.key)) return answer(409, 'Bytes were already sent to this link; complete the upload, or start a new one.')
  const length = grant.length ?? 0
  const declared = request.headers.get('content-length')
  // What S3 checks for a signed Content-Length and Content-Type, checked here before any byte is read.
  if (declared === null || Number(declared) !== length) return answer(400, `Content-Length must be ${length}, as signed.`)
  const type = (request.headers.get('content-type') ?? '').trim()
  if (grant.contentType !== undefined && type.toLowerCase() !== grant.contentType.toLowerCase()) {
    return answer(400, `Content-Type must be ${grant.contentType}, as signed.`)
  }
  const { size } = await adapter.put(grant.key, bodyOf(request, length), { contentType: grant.contentType ?? 'application/octet-stream' })
  if (size !== length) {
    await adapter.delete(grant.key)
    return answer(400, `The body ended after ${size} of ${length} bytes.`)
  }
  const info = await adapter.head(grant.key)
  return new Response(null, { status: 200, headers: { ...CORS, ...(info?.etag ? { ETag: info.etag } : {}) } })
}

async function receivePart(adapter: LocalAdapter, grant: LocalGrant, request: Request): Promise<Response> {
  if (!grant.upload || !grant.part) return answer(400, 'This link names no part.')
  const { etag } = await adapter.writePart(grant.key, grant.upload, grant.part, bodyOf(request, getConfig().UPLOAD_MAX_BYTES))
  return new Response(null, { status: 200, headers: { ...CORS, ETag: etag } })
}
