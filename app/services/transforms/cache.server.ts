import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { remember } from '@epic-web/remember'
import { LRUCache } from 'lru-cache'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import type { StorageAdapter } from '~/storage/storage-adapter'
import { storageFor, type BucketConnectionRow } from '../buckets/bucket-storage.server'
import { CONTENT_TYPES, type OutputFormat } from './negotiate'
import { forgetFile } from './known-sources.server'
import { canonicalQuery, type TransformParams } from './params'

/**
 * Rendered variants, cached twice: in this instance's memory (an LRU bounded by bytes) and in the
 * project's bucket under a reserved prefix, so a restart or another instance reuses them. A variant
 * is named by the hash of its source's identity (file id, update time, etag, size), the canonical
 * parameters and the output format: replacing the file changes the name, and deleting the file
 * deletes the prefix.
 */

export const VARIANT_PREFIX = '.carcosa/variants/'

export interface SourceIdentity {
  id: string
  updatedAt: Date
  etag: string | null
  size: bigint | number
}

export interface Variant {
  body: Buffer
  contentType: string
}

/** Hex SHA-256 naming one variant of one version of one file. */
export function variantHash(source: SourceIdentity, params: TransformParams, format: OutputFormat, options: { animated: boolean }): string {
  const identity = [
    source.id,
    source.updatedAt.getTime(),
    source.etag ?? '',
    String(source.size),
    canonicalQuery(params),
    format,
    options.animated ? 'animated' : 'first-frame',
  ].join('\n')
  return createHash('sha256').update(identity).digest('hex')
}

export { variantEtag } from './variant-headers'

export const variantKey = (fileId: string, hash: string, format: OutputFormat) => `${VARIANT_PREFIX}${fileId}/${hash}.${format}`

interface CacheState {
  memory: LRUCache<string, Variant> | null | undefined
  stats: { memoryHits: number; bucketHits: number; renders: number }
}

const state: CacheState = remember('carcosa.transform-cache', () => ({ memory: undefined, stats: { memoryHits: 0, bucketHits: 0, renders: 0 } }))

function memoryCache(): LRUCache<string, Variant> | null {
  if (state.memory === undefined) {
    const maxSize = getConfig().TRANSFORM_CACHE_MAX_BYTES
    state.memory =
      maxSize > 0
        ? new LRUCache<string, Variant>({ maxSize, sizeCalculation: (variant) => variant.body.length + 256, maxEntrySize: maxSize })
        : null
  }
  return state.memory
}

/** What the cache did, for tests and the benchmark. */
export const cacheStats = state.stats

/** Test seam: empties this instance's memory cache (the bucket keeps its variants). */
export function clearMemoryCache() {
  memoryCache()?.clear()
}

export function rememberVariant(hash: string, variant: Variant) {
  memoryCache()?.set(hash, variant)
}

export function variantFromMemory(hash: string): Variant | undefined {
  const found = memoryCache()?.get(hash)
  if (found) cacheStats.memoryHits++
  return found
}

async function readAll(body: Readable, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > limit) {
      body.destroy()
      return null
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** A variant stored in the bucket by this or another instance, or null (a failed read counts as a miss). */
export async function variantFromBucket(storage: StorageAdapter, key: string, format: OutputFormat, limit: number): Promise<Variant | null> {
  try {
    const object = await storage.get(key)
    if (!object) return null
    const body = await readAll(object.body, limit)
    if (!body) return null
    cacheStats.bucketHits++
    return { body, contentType: CONTENT_TYPES[format] }
  } catch (error) {
    logger.warn({ err: error as Error, key }, 'could not read a stored transform variant; rendering it again')
    return null
  }
}

/** Stores a variant in the bucket; a failure is logged and costs only a later re-render. */
export async function storeVariant(storage: StorageAdapter, key: string, variant: Variant) {
  if (!getConfig().TRANSFORM_STORE_VARIANTS) return
  try {
    await storage.put(key, Readable.from([variant.body]), { contentType: variant.contentType, contentLength: variant.body.length })
  } catch (error) {
    logger.warn({ err: error as Error, key }, 'could not store a transform variant')
  }
}

/**
 * Deletes every stored variant of a file. Call it when the file is deleted or its bytes replaced
 * (after the change commits): variants of a replaced file are never served again anyway, since
 * their names include the old version, but they would take up space.
 */
export async function deleteVariants(bucket: BucketConnectionRow, fileId: string): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(fileId)) throw new Error('Invalid file id')
  // This instance's fast path stops answering for the file before anything else can fail.
  forgetFile(fileId)
  const storage = await storageFor(bucket)
  await storage.deletePrefix(`${VARIANT_PREFIX}${fileId}/`)
}
