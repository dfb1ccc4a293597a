import type { AppLoadContext } from '@remix-run/node'

export interface RequestMeta {
  ipAddress: string | null
  userAgent: string | null
}

/** Who sent the request, as recorded in sessions and audit entries. */
export function requestMeta(request: Request, context: AppLoadContext): RequestMeta {
  return {
    ipAddress: context.clientIp ?? null,
    userAgent: request.headers.get('user-agent')?.slice(0, 512) ?? null,
  }
}

/** A same-site path to return to after sign-in; anything else falls back to `/`. */
export function safeRedirectPath(to: FormDataEntryValue | string | null | undefined, fallback = '/') {
  if (typeof to !== 'string' || !to.startsWith('/') || to.startsWith('//') || to.startsWith('/\\')) return fallback
  return to
}
