import type { CarcosaApi } from '../api.js'
import { CarcosaError } from '../errors.js'
import type { TransformParams } from '../types.js'

/** One transform URL to sign: a file's project-relative path and its parameters. */
export interface ImageToSign {
  path: string
  params: TransformParams
}

export interface ImageSignerOptions {
  api: CarcosaApi
  /** Seconds a signed URL works (default an hour). */
  expiresIn?: number
  /** Signing calls to Carcosa at once (default 8). */
  concurrency?: number
  /** Signed URLs kept for reuse (default 2000). */
  cacheSize?: number
}

export interface ImageSigner {
  /** Signed URLs, in the order asked. */
  sign(images: readonly ImageToSign[]): Promise<string[]>
}

/** Parameter names a browser may ask the route handler to sign (Carcosa checks their values). */
export const SIGNABLE_PARAMS = new Set(['w', 'h', 'fit', 'format', 'quality', 'blur', 'position', 'dpr', 'preset'])
/** URLs one request to the route handler may ask for. */
export const MAX_IMAGES_PER_REQUEST = 64

const keyOf = (image: ImageToSign) =>
  `${image.path}?${Object.keys(image.params)
    .sort()
    .map((name) => `${name}=${String(image.params[name])}`)
    .join('&')}`

/**
 * Signs transform URLs through Carcosa (`POST /api/v1/transforms/sign/batch`, transforms:execute)
 * and keeps each for reuse during the first half of its life: a page rendered again gets the same
 * URLs (so browsers and CDNs hit their caches), and the key's rate limit is spent once per call
 * for all the images and widths that call did not have yet.
 */
export function createImageSigner(options: ImageSignerOptions): ImageSigner {
  const expiresIn = options.expiresIn ?? 3600
  const limit = options.cacheSize ?? 2000
  const concurrency = Math.max(1, options.concurrency ?? 8)
  // Insertion order is recency: a hit moves to the end, the oldest goes first.
  const cache = new Map<string, { url: Promise<string>; reuseUntil: number }>()

  let active = 0
  const queue: Array<() => void> = []
  const slot = () =>
    new Promise<() => void>((resolve) => {
      const release = () => {
        active--
        queue.shift()?.()
      }
      const take = () => {
        active++
        resolve(release)
      }
      if (active < concurrency) take()
      else queue.push(take)
    })

  const sign = (images: readonly ImageToSign[]): Promise<string[]> => {
    const now = Date.now()
    const missing: { key: string; image: ImageToSign }[] = []
    const fresh = new Map<string, Promise<string>>()
    const urls = images.map((image) => {
      const key = keyOf(image)
      const cached = cache.get(key)
      if (cached && cached.reuseUntil > now) {
        cache.delete(key)
        cache.set(key, cached)
        return cached.url
      }
      missing.push({ key, image })
      return undefined
    })
    if (missing.length > 0) {
      // Each image once per call, however often the page shows it.
      const unique = [...new Map(missing.map((entry) => [entry.key, entry])).values()]
      const signed = slot().then(async (release) => {
        try {
          return await options.api.signImageUrls(
            unique.map(({ image }) => image),
            { expiresIn },
          )
        } finally {
          release()
        }
      })
      unique.forEach(({ key }, index) => {
        const url = signed.then((all) => all[index]!)
        fresh.set(key, url)
        cache.set(key, { url, reuseUntil: now + (expiresIn * 1000) / 2 })
        url.catch(() => cache.delete(key))
      })
      while (cache.size > limit) cache.delete(cache.keys().next().value!)
    }
    return Promise.all(urls.map((url, index) => url ?? fresh.get(keyOf(images[index]!))!))
  }

  return { sign }
}

const shared = new WeakMap<CarcosaApi, Map<number, ImageSigner>>()

/** One signer per CarcosaApi and lifetime, so the route handler and server rendering hand out the same URLs. */
export function sharedImageSigner(api: CarcosaApi, expiresIn = 3600): ImageSigner {
  let byLife = shared.get(api)
  if (!byLife) shared.set(api, (byLife = new Map()))
  let signer = byLife.get(expiresIn)
  if (!signer) byLife.set(expiresIn, (signer = createImageSigner({ api, expiresIn })))
  return signer
}

/** Reads a browser's `{ images: [{ path, params }] }`; anything else is a 400 naming what was wrong. */
export function parseImagesToSign(value: unknown): ImageToSign[] {
  const bad = (message: string) => new CarcosaError({ code: 'BAD_REQUEST', message })
  if (!Array.isArray(value) || value.length === 0) throw bad('images must be a non-empty list of { path, params }')
  if (value.length > MAX_IMAGES_PER_REQUEST) throw bad(`At most ${MAX_IMAGES_PER_REQUEST} images per request`)
  return value.map((item, i) => {
    const { path, params = {} } = (item ?? {}) as Record<string, unknown>
    if (typeof path !== 'string' || path.length === 0 || path.length > 1024)
      throw bad(`images[${i}].path must be a file path of 1-1024 characters`)
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw bad(`images[${i}].params must be an object`)
    for (const [name, v] of Object.entries(params)) {
      if (!SIGNABLE_PARAMS.has(name)) throw bad(`images[${i}].params.${name} is not a transform parameter this route signs`)
      if (!['string', 'number', 'boolean'].includes(typeof v) || String(v).length > 64)
        throw bad(`images[${i}].params.${name} must be a short value`)
    }
    return { path, params: params as TransformParams }
  })
}
