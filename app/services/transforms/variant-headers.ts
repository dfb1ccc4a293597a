import { CONTENT_TYPES, type OutputFormat } from './negotiate'

/**
 * The headers of a transform answer, built in one place so the full path (the Remix route) and the
 * host's fast path (fast-path.server.ts) answer a cached variant with exactly the same headers.
 */

const YEAR_SECONDS = 365 * 24 * 3600
const PUBLIC_MAX_AGE = 3600

/** Which part of the cache answered: the memory LRU, the bucket's stored variant, or a render. */
export type CacheOutcome = 'memory' | 'bucket' | 'render'

export const CACHE_HEADER = 'X-Carcosa-Cache'

export type AccessKind = { via: 'signature'; expires: number } | { via: 'credentials' } | { via: 'public' }

export function cacheControlFor(access: AccessKind, nowSeconds = Math.floor(Date.now() / 1000)): string {
  if (access.via === 'signature') {
    // Long and immutable for CDNs, but never outliving the signature.
    const remaining = Math.max(0, Math.min(YEAR_SECONDS, access.expires - nowSeconds))
    return `public, max-age=${remaining}, immutable`
  }
  if (access.via === 'public') return `public, max-age=${PUBLIC_MAX_AGE}`
  return `private, max-age=${PUBLIC_MAX_AGE}`
}

/** A strong ETag: the same bytes for the same name, since rendering is deterministic for one sharp version. */
export const variantEtag = (hash: string) => `"${hash.slice(0, 40)}"`

/** Content-Type, ETag, Cache-Control, nosniff, and Vary: Accept when the format was negotiated. */
export function variantHeaders(format: OutputFormat, negotiated: boolean, hash: string, cacheControl: string): Headers {
  const headers = new Headers({
    'Content-Type': CONTENT_TYPES[format],
    ETag: variantEtag(hash),
    'Cache-Control': cacheControl,
    'X-Content-Type-Options': 'nosniff',
  })
  if (negotiated) headers.set('Vary', 'Accept')
  return headers
}

/** Adds what a 200 carries besides the variant headers: its length and where it came from. */
export function withBody(headers: Headers, length: number, outcome: CacheOutcome): Headers {
  headers.set('Content-Length', String(length))
  headers.set(CACHE_HEADER, outcome)
  return headers
}

/** If-None-Match with weak comparison (RFC 9110): `*`, or any listed tag equal once W/ is ignored. */
export function matchesEtag(header: string | null | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}
