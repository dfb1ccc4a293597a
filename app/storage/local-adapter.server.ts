import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { StorageError, listLimit, type ListedObject, type ObjectInfo, type PresignedRequest, type StorageAdapter } from './storage-adapter'

/**
 * The `local` provider: objects are files under `<root>/<bucket name>/`, with a JSON sidecar for the
 * content type. Clients reach it through Carcosa's `/storage/local/...` route with URLs signed here
 * (HMAC over the operation, key, expiry and limits), the same shape of contract as S3's presigned URLs.
 */

export interface LocalConnection {
  bucketId: string
  bucketName: string
  /** Directory holding every local bucket (DATA_DIR/storage). */
  root: string
  /** Origin the signed URLs point at (APP_URL or the request's own). */
  baseUrl: string
  /** Secret the URLs are signed with. */
  signingSecret: string
}

export type LocalOperation = 'get' | 'put' | 'part'

/** What a signed local URL allows, once its signature checks out. */
export interface LocalGrant {
  op: LocalOperation
  bucketId: string
  key: string
  expires: number
  /** put: the exact byte count; part: the multipart upload id and part number. */
  length?: number
  contentType?: string
  disposition?: string
  upload?: string
  part?: number
}

const META_SUFFIX = '.carcosa-meta.json'
/** An object being written (writeObject's temporary file), not yet an object. */
const TEMPORARY = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.partial$/
const MULTIPART_DIR = '.multipart'
/** Routes under which signed local URLs are served (app/routes/storage.local.$.ts). */
export const LOCAL_STORAGE_PATH = '/storage/local'

export function localSigningKey(sessionSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionSecret, 'carcosa', 'local-storage-urls', 32))
}

function canonical(grant: LocalGrant): string {
  return [
    grant.op,
    grant.bucketId,
    grant.key,
    grant.expires,
    grant.length ?? '',
    grant.contentType ?? '',
    grant.disposition ?? '',
    grant.upload ?? '',
    grant.part ?? '',
  ].join('\n')
}

function sign(grant: LocalGrant, secret: string): string {
  return createHmac('sha256', localSigningKey(secret)).update(canonical(grant)).digest('base64url')
}

/** Builds the signed URL of a grant. */
export function signLocalUrl(baseUrl: string, grant: LocalGrant, secret: string): string {
  const url = new URL(
    `${LOCAL_STORAGE_PATH}/${encodeURIComponent(grant.bucketId)}/${grant.key.split('/').map(encodeURIComponent).join('/')}`,
    baseUrl,
  )
  url.searchParams.set('op', grant.op)
  url.searchParams.set('expires', String(grant.expires))
  if (grant.length !== undefined) url.searchParams.set('length', String(grant.length))
  if (grant.contentType !== undefined) url.searchParams.set('type', grant.contentType)
  if (grant.disposition !== undefined) url.searchParams.set('disposition', grant.disposition)
  if (grant.upload !== undefined) url.searchParams.set('upload', grant.upload)
  if (grant.part !== undefined) url.searchParams.set('part', String(grant.part))
  url.searchParams.set('signature', sign(grant, secret))
  return url.toString()
}

/**
 * Rebuilds the grant from a request URL and checks its signature (constant time) and expiry.
 * `bucketId` and `key` come from the route's path. Returns null when anything is off.
 */
export function verifyLocalUrl(url: URL, bucketId: string, key: string, secret: string, now = Date.now()): LocalGrant | null {
  const query = url.searchParams
  const op = query.get('op')
  if (op !== 'get' && op !== 'put' && op !== 'part') return null
  const number = (name: string) => {
    const value = query.get(name)
    return value === null ? undefined : /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN
  }
  const grant: LocalGrant = {
    op,
    bucketId,
    key,
    expires: number('expires') ?? Number.NaN,
    length: number('length'),
    contentType: query.get('type') ?? undefined,
    disposition: query.get('disposition') ?? undefined,
    upload: query.get('upload') ?? undefined,
    part: number('part'),
  }
  if ([grant.expires, grant.length, grant.part].some((value) => Number.isNaN(value))) return null
  const given = Buffer.from(query.get('signature') ?? '', 'base64url')
  const expected = Buffer.from(sign(grant, secret), 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
  if (grant.expires * 1000 < now) return null
  return grant
}

/** Rejects keys that could leave the bucket's directory; keys are server-made, this is a second lock. */
function assertSafeKey(key: string) {
  const parts = key.split('/')
  if (
    key.length === 0 ||
    key.length > 1024 ||
    parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\0') || part.endsWith(META_SUFFIX)) ||
    parts[0] === MULTIPART_DIR
  ) {
    throw new StorageError('other', 'Invalid object key')
  }
}

export function createLocalAdapter(connection: LocalConnection): LocalAdapter {
  if (!/^[a-z0-9][a-z0-9.-]{1,62}$/.test(connection.bucketName)) throw new StorageError('other', 'Invalid local bucket name')
  const directory = path.join(connection.root, connection.bucketName)
  const fileOf = (key: string) => {
    assertSafeKey(key)
    return path.join(directory, ...key.split('/'))
  }
  const partsDir = (uploadId: string) => {
    if (!/^[A-Za-z0-9-]{8,64}$/.test(uploadId)) throw new StorageError('not-found', 'No such multipart upload')
    return path.join(directory, MULTIPART_DIR, uploadId)
  }
  const expiresAt = (seconds: number) => Math.floor(Date.now() / 1000) + seconds
  const presigned = (method: 'PUT' | 'GET', grant: LocalGrant, headers: Record<string, string> = {}): PresignedRequest => ({
    method,
    url: signLocalUrl(connection.baseUrl, grant, connection.signingSecret),
    headers,
    expiresAt: new Date(grant.expires * 1000),
  })

  /** Writes the stream to a temporary file and renames it into place, so readers never see half an object. */
  async function writeObject(target: string, body: Readable, limit?: number, exact = false): Promise<number> {
    await fs.mkdir(path.dirname(target), { recursive: true })
    const temporary = `${target}.${randomUUID()}.partial`
    let size = 0
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length
        if (limit !== undefined && size > limit) {
          callback(
            new StorageError(
              exact ? 'length-mismatch' : 'other',
              exact ? `The body is longer than the declared ${limit} bytes.` : `The body is larger than ${limit} bytes`,
            ),
          )
        } else callback(null, chunk)
      },
    })
    try {
      // Piped, not pipelined from `body`: a refused body is left paused for its owner to drain
      // (destroying a form parser's file stream would stall the rest of the form).
      body.once('error', (error) => counter.destroy(error))
      body.pipe(counter)
      await pipeline(counter, createWriteStream(temporary, { flags: 'wx' }))
      if (exact && size !== limit) throw new StorageError('length-mismatch', `The body ended after ${size} of the declared ${limit} bytes.`)
      await fs.rename(temporary, target)
    } catch (error) {
      await fs.rm(temporary, { force: true })
      throw error
    }
    return size
  }

  async function readInfo(file: string): Promise<ObjectInfo | null> {
    const stat = await statOf(file)
    if (!stat) return null
    const meta = JSON.parse(await fs.readFile(`${file}${META_SUFFIX}`, 'utf8').catch(() => '{}')) as { contentType?: string }
    return { size: stat.size, contentType: meta.contentType, etag: stat.etag }
  }

  const adapter: LocalAdapter = {
    directory,

    async presignPut(key, { contentType, contentLength, expiresInSeconds }) {
      assertSafeKey(key)
      const grant: LocalGrant = {
        op: 'put',
        bucketId: connection.bucketId,
        key,
        expires: expiresAt(expiresInSeconds),
        length: contentLength,
        contentType,
      }
      return presigned('PUT', grant, { 'Content-Type': contentType })
    },

    async presignGet(key, { expiresInSeconds, contentDisposition, contentType }) {
      assertSafeKey(key)
      const grant: LocalGrant = {
        op: 'get',
        bucketId: connection.bucketId,
        key,
        expires: expiresAt(expiresInSeconds),
        contentType,
        disposition: contentDisposition,
      }
      return presigned('GET', grant)
    },

    async createMultipart(key, { contentType }) {
      assertSafeKey(key)
      const uploadId = randomUUID()
      await fs.mkdir(partsDir(uploadId), { recursive: true })
      await fs.writeFile(path.join(partsDir(uploadId), 'upload.json'), JSON.stringify({ key, contentType }))
      return uploadId
    },

    async presignPart(key, multipartUploadId, partNumber, { expiresInSeconds }) {
      assertSafeKey(key)
      const grant: LocalGrant = {
        op: 'part',
        bucketId: connection.bucketId,
        key,
        expires: expiresAt(expiresInSeconds),
        upload: multipartUploadId,
        part: partNumber,
      }
      return presigned('PUT', grant)
    },

    async writePart(key, multipartUploadId, partNumber, body, limit) {
      const dir = partsDir(multipartUploadId)
      const meta = JSON.parse(await fs.readFile(path.join(dir, 'upload.json'), 'utf8').catch(() => 'null')) as { key: string } | null
      if (!meta || meta.key !== key) throw new StorageError('not-found', 'No such multipart upload')
      const target = path.join(dir, String(partNumber))
      const size = await writeObject(target, body, limit)
      const stat = await fs.stat(target)
      return { etag: `"${size.toString(16)}-${stat.mtimeMs.toString(16)}"` }
    },

    async completeMultipart(key, multipartUploadId, parts) {
      const dir = partsDir(multipartUploadId)
      const meta = JSON.parse(await fs.readFile(path.join(dir, 'upload.json'), 'utf8').catch(() => 'null')) as {
        key: string
        contentType: string
      } | null
      if (!meta || meta.key !== key) throw new StorageError('not-found', 'No such multipart upload')
      const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber)
      for (const part of ordered) {
        const stat = await fs.stat(path.join(dir, String(part.partNumber))).catch(() => null)
        if (!stat || `"${stat.size.toString(16)}-${stat.mtimeMs.toString(16)}"` !== part.etag) {
          throw new StorageError('other', `Part ${part.partNumber} is missing or its ETag does not match`)
        }
      }
      async function* concatenated() {
        for (const part of ordered) yield* createReadStream(path.join(dir, String(part.partNumber)))
      }
      await adapter.put(key, Readable.from(concatenated()), { contentType: meta.contentType })
      await fs.rm(dir, { recursive: true, force: true })
    },

    async abortMultipart(_key, multipartUploadId) {
      await fs.rm(partsDir(multipartUploadId), { recursive: true, force: true })
    },

    async put(key, body, { contentType, contentLength }) {
      const file = fileOf(key)
      const size = await writeObject(file, body, contentLength, contentLength !== undefined)
      await fs.writeFile(`${file}${META_SUFFIX}`, JSON.stringify({ contentType }))
      return { size }
    },

    async head(key) {
      return readInfo(fileOf(key))
    },

    async copy(fromKey, toKey, options = {}) {
      const source = fileOf(fromKey)
      const info = await readInfo(source)
      if (!info) throw new StorageError('not-found', 'No such object')
      if (options.ifMatch !== undefined && info.etag !== options.ifMatch) throw new StorageError('changed', 'The object changed meanwhile.')
      const meta = await fs.readFile(`${source}${META_SUFFIX}`, 'utf8').catch(() => '{}')
      await writeObject(fileOf(toKey), createReadStream(source))
      await fs.writeFile(`${fileOf(toKey)}${META_SUFFIX}`, meta)
    },

    async get(key, options) {
      const file = fileOf(key)
      const info = await readInfo(file)
      if (!info) return null
      const range = options?.range
      const body = createReadStream(file, range ? { start: range.start, end: Math.min(range.end, Math.max(info.size - 1, 0)) } : undefined)
      return { body, info }
    },

    async delete(key) {
      const file = fileOf(key)
      await fs.rm(file, { force: true })
      await fs.rm(`${file}${META_SUFFIX}`, { force: true })
    },

    async deleteMany(keys) {
      for (const key of keys) await adapter.delete(key)
    },

    async deletePrefix(prefix) {
      if (!prefix.endsWith('/')) throw new StorageError('other', 'A prefix to delete must end in /')
      // Keys map to paths, so a prefix ending in / is a directory.
      const dir = fileOf(prefix.slice(0, -1))
      await fs.rm(dir, { recursive: true, force: true })
    },

    async list(prefix, options = {}) {
      return listDirectory(directory, prefix, options.startAfter ?? '', listLimit(options.limit))
    },

    async headBucket() {
      await fs.mkdir(directory, { recursive: true })
    },

    // Browsers reach local buckets through Carcosa's own routes, never cross-origin to the bucket.
    async corsRules() {
      return 'not-applicable' as const
    },
  }
  return adapter
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * Lists keys as S3 does (byte order, after `startAfter`, under `prefix`) by walking the directory
 * depth first with each level sorted by name (a directory as `name/`), which visits keys in exactly
 * that order: the walk skips subtrees that sort before `startAfter` and stops after `limit + 1` keys,
 * so a page never reads the whole bucket into memory. Sidecars and unfinished writes are not objects.
 */
async function listDirectory(root: string, prefix: string, startAfter: string, limit: number) {
  const objects: ListedObject[] = []
  let truncated = false
  const walk = async (dir: string, keyPrefix: string): Promise<boolean> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => [])
    const named = entries
      .filter((entry) => entry.isDirectory() || entry.isFile())
      .map((entry) => ({ entry, sortKey: `${keyPrefix}${entry.name}${entry.isDirectory() ? '/' : ''}` }))
      .sort((a, b) => byteOrder(a.sortKey, b.sortKey))
    for (const { entry, sortKey } of named) {
      if (entry.isDirectory()) {
        if (keyPrefix === '' && entry.name === MULTIPART_DIR) continue
        // Outside the prefix, or wholly before startAfter (which does not lie inside it): nothing to list there.
        if (!sortKey.startsWith(prefix) && !prefix.startsWith(sortKey)) continue
        if (byteOrder(sortKey, startAfter) < 0 && !startAfter.startsWith(sortKey)) continue
        if (!(await walk(path.join(dir, entry.name), sortKey))) return false
        continue
      }
      if (entry.name.endsWith(META_SUFFIX) || TEMPORARY.test(entry.name)) continue
      if (!sortKey.startsWith(prefix) || byteOrder(sortKey, startAfter) <= 0) continue
      if (objects.length === limit) {
        truncated = true
        return false
      }
      const info = await statOf(path.join(dir, entry.name))
      if (info) objects.push({ key: sortKey, size: info.size, etag: info.etag, lastModified: info.lastModified })
    }
    return true
  }
  await walk(root, '')
  return { objects, truncated }
}

/** A file's size, modification time and the ETag the adapter gives it; null when it is not a file. */
async function statOf(file: string) {
  const stat = await fs.stat(file).catch(() => null)
  if (!stat?.isFile()) return null
  return { size: stat.size, etag: `"${stat.size.toString(16)}-${stat.mtimeMs.toString(16)}"`, lastModified: stat.mtime }
}

export interface LocalAdapter extends StorageAdapter {
  directory: string
  /** Stores one part of a multipart upload sent to a signed `part` URL. */
  writePart(key: string, multipartUploadId: string, partNumber: number, body: Readable, limit?: number): Promise<{ etag: string }>
}
