import { LOCAL_STORAGE_PATH } from '~/storage/local-adapter.server'
import { normalizedPathname } from './request.server'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * CSRF defence for the dashboard: a state-changing request must name one of this app's origins
 * (scheme, host and port: the one it was reached on, and APP_URL's) as its Origin (or, for the rare
 * browser that omits Origin, its Referer). Session cookies are also SameSite=Lax.
 */
export function isSameOriginRequest(method: string, appOrigins: readonly string[], origin?: string, referer?: string) {
  if (SAFE_METHODS.has(method.toUpperCase())) return true
  const source = origin && origin !== 'null' ? origin : referer
  if (!source) return false
  try {
    return appOrigins.includes(new URL(source).origin)
  } catch {
    return false
  }
}

/** Paths whose requests carry their own credentials (bearer tokens, signed URLs) instead of a cookie. */
const EXEMPT_PREFIXES = ['/api/', `${LOCAL_STORAGE_PATH}/`]

/**
 * Whether the check above is skipped, decided on the path as the router will see it: the raw URL
 * parsed the way the Remix adapter parses it, so `/api/../orgs/x` counts as `/orgs/x`.
 */
export function isCsrfExempt(originalUrl: string) {
  const pathname = normalizedPathname(originalUrl)
  return pathname !== null && EXEMPT_PREFIXES.some((prefix) => pathname.startsWith(prefix))
}
