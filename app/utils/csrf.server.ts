const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * CSRF defence for the dashboard: a state-changing request must name this host as its Origin
 * (or, for the rare browser that omits Origin, its Referer). Session cookies are also SameSite=Lax.
 */
export function isSameOriginRequest(method: string, host: string | undefined, origin?: string, referer?: string) {
  if (SAFE_METHODS.has(method.toUpperCase())) return true
  const source = origin && origin !== 'null' ? origin : referer
  if (!source || !host) return false
  try {
    return new URL(source).host === host
  } catch {
    return false
  }
}
