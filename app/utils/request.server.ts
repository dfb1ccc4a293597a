import type { AppLoadContext } from '@remix-run/node'

export interface RequestMeta {
  ipAddress: string | null
  userAgent: string | null
}

/** Who sent the request, as recorded in sessions and audit entries. */
export function requestMeta(request: Request, context: Pick<AppLoadContext, 'clientIp'>): RequestMeta {
  return requestMetaOf(request.headers.get('user-agent'), context)
}

/** The same from the User-Agent header's value. */
export function requestMetaOf(userAgent: string | null, context: Pick<AppLoadContext, 'clientIp'>): RequestMeta {
  return { ipAddress: context.clientIp ?? null, userAgent: userAgent?.slice(0, 512) ?? null }
}

/**
 * A path of this app to return to after sign-in, judged as the browser will read it: parsed against
 * the app's own origin (the URL parser drops tabs and newlines and reads `\\` as `/`, as browsers do),
 * it must stay on that origin. Answers the parsed path, never the raw text; anything else `fallback`.
 */
export function safeRedirectPath(to: FormDataEntryValue | string | null | undefined, appOrigin: string, fallback = '/') {
  if (typeof to !== 'string' || to.length === 0 || to.length > 2048) return fallback
  let url: URL
  try {
    url = new URL(to, appOrigin)
  } catch {
    return fallback
  }
  if (url.origin !== new URL(appOrigin).origin) return fallback
  return `${url.pathname}${url.search}${url.hash}`
}

/**
 * The path of a raw request target as the routers see it (dot segments resolved, percent-encoding
 * kept), or null when it cannot be parsed.
 */
export function normalizedPathname(originalUrl: string): string | null {
  try {
    return new URL(`http://carcosa.invalid${originalUrl}`).pathname
  } catch {
    return null
  }
}
