import path from 'node:path'
import { remember } from '@epic-web/remember'
import { LRUCache } from 'lru-cache'
import { createLocalAdapter } from '~/storage/local-adapter.server'
import { createS3Adapter } from '~/storage/s3-adapter.server'
import { StorageError, type StorageAdapter } from '~/storage/storage-adapter'
import { getConfig } from '~/utils/config.server'
import { openSecret } from '~/utils/credentials.server'

/** The columns of a Bucket row that say how to reach it. */
export interface BucketConnectionRow {
  id: string
  provider: string
  bucketName: string
  region: string
  endpoint: string | null
  forcePathStyle: boolean
  credentials: string | null
  updatedAt: Date
}

export interface BucketCredentials {
  accessKeyId: string
  secretAccessKey: string
}

/** Directory under which local buckets live. */
export const localStorageRoot = () => path.join(getConfig().DATA_DIR, 'storage')

/** Origin that local-provider URLs point at: APP_URL, else the origin of the request at hand. */
export function publicBaseUrl(from?: { url: string | URL }): string {
  const configured = getConfig().APP_URL
  if (configured) return configured
  if (from) return new URL(from.url).origin
  const { HOST, PORT } = getConfig()
  return `http://${HOST === '0.0.0.0' ? '127.0.0.1' : HOST}:${PORT}`
}

// Adapters hold S3 clients (sockets, signing keys): reuse them until the row changes.
const adapters = remember('carcosa.bucket-adapters', () => new LRUCache<string, StorageAdapter>({ max: 200 }))

/**
 * The adapter for a bucket row, credentials opened only here. The cache key includes updatedAt so
 * an edit (new credentials, endpoint) takes effect at once on this instance.
 */
export async function storageFor(bucket: BucketConnectionRow, baseUrl = publicBaseUrl()): Promise<StorageAdapter> {
  const cacheKey = `${bucket.id}:${bucket.updatedAt.getTime()}:${bucket.provider === 'local' ? baseUrl : ''}`
  const cached = adapters.get(cacheKey)
  if (cached) return cached
  const adapter = await createBucketAdapter(bucket, baseUrl)
  adapters.set(cacheKey, adapter)
  return adapter
}

/** A new adapter for a bucket row (never cached), with the configuration as it is now. */
export async function createBucketAdapter(bucket: Omit<BucketConnectionRow, 'updatedAt'>, baseUrl = publicBaseUrl()): Promise<StorageAdapter> {
  const config = getConfig()
  if (bucket.provider === 'local') {
    if (!config.STORAGE_LOCAL_ENABLED)
      throw new StorageError('other', 'The local provider is disabled on this Carcosa (STORAGE_LOCAL_ENABLED=false).')
    return createLocalAdapter({
      bucketId: bucket.id,
      bucketName: bucket.bucketName,
      root: localStorageRoot(),
      baseUrl,
      signingSecret: config.SESSION_SECRET,
    })
  }
  if (!bucket.credentials) throw new StorageError('credentials', 'This bucket has no credentials.')
  const credentials = JSON.parse(await openSecret(bucket.credentials)) as BucketCredentials
  return createS3Adapter(
    { ...credentials, bucketName: bucket.bucketName, region: bucket.region, endpoint: bucket.endpoint, forcePathStyle: bucket.forcePathStyle },
    { allowPrivate: config.STORAGE_ALLOW_PRIVATE_ENDPOINTS },
  )
}

export const bucketConnectionSelect = {
  id: true,
  provider: true,
  bucketName: true,
  region: true,
  endpoint: true,
  forcePathStyle: true,
  credentials: true,
  updatedAt: true,
} as const
