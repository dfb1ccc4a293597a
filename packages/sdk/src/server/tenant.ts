/**
 * Finding the tenant of a request, for a route's `tenant` function or your middleware. Each helper
 * takes a fetch Request or a Node/Express request and answers the tenant's slug, or null.
 */
type RequestLike = Request | { headers: Record<string, string | string[] | undefined>; url?: string; originalUrl?: string }

const SLUG = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/

function headerOf(req: RequestLike, name: string): string | null {
  if (req.headers instanceof Headers) return req.headers.get(name)
  const value = req.headers[name.toLowerCase()]
  return (Array.isArray(value) ? value[0] : value) ?? null
}

function pathOf(req: RequestLike): string {
  if (req instanceof Request) return new URL(req.url).pathname
  const raw = req.originalUrl ?? req.url ?? '/'
  return raw.split('?')[0] ?? '/'
}

const asSlug = (value: string | null | undefined) => {
  const slug = value?.trim().toLowerCase()
  return slug && slug.length >= 2 && slug.length <= 64 && SLUG.test(slug) ? slug : null
}

/** The tenant named by a header (default `x-tenant-id`). */
export function tenantFromHeader(req: RequestLike, header = 'x-tenant-id'): string | null {
  return asSlug(headerOf(req, header))
}

/** `acme` from `acme.app.example.com` when the base domain is `app.example.com`; null on the base domain itself. */
export function tenantFromSubdomain(req: RequestLike, options: { baseDomain: string }): string | null {
  const host = (headerOf(req, 'x-forwarded-host') ?? headerOf(req, 'host') ?? '').split(',')[0]!.trim().toLowerCase().replace(/:\d+$/, '')
  const base = options.baseDomain.toLowerCase().replace(/^\./, '')
  if (!host.endsWith(`.${base}`)) return null
  const label = host.slice(0, -(base.length + 1))
  return label.includes('.') ? null : asSlug(label)
}

/**
 * A path segment: `{ prefix: '/t' }` reads `acme` from `/t/acme/...`; `{ index: 0 }` the first segment.
 */
export function tenantFromPath(req: RequestLike, options: { prefix: string } | { index: number }): string | null {
  const segments = pathOf(req)
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s))
  if ('index' in options) return asSlug(segments[options.index])
  const prefix = options.prefix.split('/').filter(Boolean)
  if (!prefix.every((segment, i) => segments[i] === segment)) return null
  return asSlug(segments[prefix.length])
}
