import { meterTransform } from '../usage/meter.server'
import { filePathSchema } from './schemas'
import { variantFromMemory, variantHash } from './cache.server'
import { knownSource } from './known-sources.server'
import { chooseFormat } from './negotiate'
import { parseTransformQuery, type ParsedTransformQuery, type TransformParams } from './params'
import { cachedSecrets, canonicalString, signatureMatches } from './signing.server'
import { cacheControlFor, matchesEtag, variantEtag, variantHeaders, withBody } from './variant-headers'

/**
 * The host's fast path for cached signed transforms (ADR 010): answers a memory hit before Remix
 * and without the database, from what the full path (transform.server.ts) left in this instance's
 * caches: the variant LRU, the opened signing secrets and the known sources. Anything it cannot
 * answer with certainty (unsigned, credentials, presets, bad or expired URLs, unknown files, a
 * variant not in memory) returns null, and the full path answers, with its errors. Hits are not
 * counted against the EXPENSIVE rate-limit tier, as in the full path; they are metered as cache hits.
 */

export interface FastAnswer {
  status: 200 | 304
  headers: Headers
  /** The variant's bytes for a 200 (send none for HEAD); null for a 304. */
  body: Buffer | null
}

export interface FastRequest {
  method: string
  /** The request target as received: path and query (Express's `req.originalUrl`). */
  url: string
  accept?: string | null
  ifNoneMatch?: string | null
}

const PREFIX = '/api/v1/transform/'

/**
 * Project id and file path as the Remix route receives them: the URL normalized (dot segments),
 * each segment percent-decoded with an encoded `/` kept as `%2F` (React Router's decodePath).
 */
export function transformTarget(url: string): { projectId: string; path: string; search: URLSearchParams } | null {
  let parsed: URL
  try {
    parsed = new URL(url, 'http://fast-path.invalid')
  } catch {
    return null
  }
  if (!parsed.pathname.startsWith(PREFIX)) return null
  let segments: string[]
  try {
    segments = parsed.pathname
      .slice(PREFIX.length)
      .split('/')
      .map((segment) => decodeURIComponent(segment).replace(/\//g, '%2F'))
  } catch {
    return null
  }
  const [projectId, ...rest] = segments
  const path = rest.join('/')
  if (!projectId || projectId.length > 64 || !filePathSchema.safeParse(path).success) return null
  return { projectId, path, search: parsed.searchParams }
}

/** A signed, unexpired URL's parameters when the signature matches one of the cached secrets; otherwise null. */
export function verifiedSignedQuery(
  projectId: string,
  path: string,
  search: URLSearchParams,
  secrets: Buffer[],
  nowSeconds: number,
): (ParsedTransformQuery & { expires: number }) | null {
  let parsed: ParsedTransformQuery
  try {
    parsed = parseTransformQuery(search)
  } catch {
    return null
  }
  if (parsed.signature === undefined || parsed.expires === undefined || parsed.expires <= nowSeconds) return null
  // Rebuilt from what was parsed, exactly as the full path does: never the raw URL minus `sig`.
  if (!signatureMatches(secrets, canonicalString(projectId, path, parsed.params, parsed.expires), parsed.signature)) return null
  return { ...parsed, expires: parsed.expires }
}

/** The answer for a memory hit (or a 304) of a signed transform URL, or null to let the full path answer. */
export function answerFromMemory(request: FastRequest): FastAnswer | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null
  try {
    const target = transformTarget(request.url)
    if (!target) return null
    const secrets = cachedSecrets(target.projectId)
    if (!secrets || secrets.length === 0) return null
    const now = Math.floor(Date.now() / 1000)
    const signed = verifiedSignedQuery(
      target.projectId,
      target.path,
      target.search,
      secrets.map((s) => s.secret),
      now,
    )
    // Presets need a database read, and presets-only projects refuse URLs with parameters: the full path decides.
    if (!signed || signed.params.preset) return null
    const source = knownSource(target.projectId, target.path)
    if (!source || source.presetsOnly) return null

    const { format, negotiated } = chooseFormat(signed.params.format, request.accept ?? null, source.contentType)
    const renderParams: TransformParams = { ...signed.params, format: undefined }
    const hash = variantHash(source, renderParams, format, { animated: source.allowAnimated })
    const headers = variantHeaders(format, negotiated, hash, cacheControlFor({ via: 'signature', expires: signed.expires }, now))
    if (matchesEtag(request.ifNoneMatch, variantEtag(hash))) {
      meterTransform(source.projectId, source.tenantId, { rendered: false, bytes: 0 })
      return { status: 304, headers, body: null }
    }
    const variant = variantFromMemory(hash)
    if (!variant) return null
    meterTransform(source.projectId, source.tenantId, { rendered: false, bytes: request.method === 'HEAD' ? 0 : variant.body.length })
    return { status: 200, headers: withBody(headers, variant.body.length, 'memory'), body: variant.body }
  } catch {
    // Whatever went wrong here, the full path answers properly.
    return null
  }
}
