import type { EntryContext } from '@remix-run/node'

type Manifest = EntryContext['manifest']
type ManifestRoutes = Manifest['routes']

/**
 * The route manifest a page's server render needs: the routes whose path could match the page's
 * URL or one of its parent paths, and their parents.
 *
 * While rendering, Remix matches the whole route table again and again: once when `<RemixServer>`
 * routes the page, and once for every parent path of the URL (`<Scripts>` inlines the manifest of
 * the routes those match, with lazy route discovery), each time flattening and ranking every route
 * and compiling a regular expression per route tried. For a project page that is eight matches of
 * fifty routes. Routes that cannot match any of those paths change none of these answers (a match
 * is the first matching route in rank order, and ranking never depends on other routes), so the
 * render is given the table without them: the same HTML, for a fraction of the work.
 *
 * The test here is deliberately loose: a route is dropped only when one of its path's literal
 * segments differs from the URL's, or its path has more segments than the URL. Anything unusual
 * (splats, optional segments, characters outside [a-z0-9._~-]) keeps the route; a URL with empty
 * segments or bad escapes keeps the whole table.
 */
export function manifestForRender(manifest: Manifest, pathname: string, matchedRouteIds: readonly string[]): Manifest {
  const table = routeTable(manifest.routes)
  const segments = table ? urlSegments(pathname) : null
  if (!table || !segments) return manifest
  const keep = new Set<string>()
  const keepWithParents = (id: string | undefined) => {
    for (let current = id; current !== undefined && !keep.has(current); current = table.parents.get(current)) keep.add(current)
  }
  for (const id of matchedRouteIds) keepWithParents(id)
  for (const [id, pattern] of table.patterns) {
    if (pattern === ANY_PATH || couldMatchPrefix(pattern, segments)) keepWithParents(id)
  }
  if (keep.size === table.patterns.size) return manifest
  const routes: ManifestRoutes = {}
  // The manifest's order is the order of siblings, which ranks routes of equal score: kept as it is.
  for (const id of table.patterns.keys()) {
    const route = manifest.routes[id]
    if (route && keep.has(id)) routes[id] = route
  }
  return { ...manifest, routes }
}

/** A route whose full path is not a plain list of literal and `:param` segments. */
const ANY_PATH = null

interface RouteTable {
  /** Each route's full path as segments (literals in lower case, params as `:name`), in manifest order. */
  patterns: Map<string, readonly string[] | typeof ANY_PATH>
  parents: Map<string, string | undefined>
}

// Computed once per build's manifest (the object lives as long as the build).
const tables = new WeakMap<ManifestRoutes, RouteTable | null>()

function routeTable(routes: ManifestRoutes): RouteTable | null {
  let table = tables.get(routes)
  if (table === undefined) {
    table = buildTable(routes)
    tables.set(routes, table)
  }
  return table
}

const LITERAL = /^[a-z0-9._~-]+$/
const PARAM = /^:[\w-]+$/

function buildTable(routes: ManifestRoutes): RouteTable | null {
  const parents = new Map<string, string | undefined>()
  for (const [id, route] of Object.entries(routes)) {
    if (!route) return null
    parents.set(id, route.parentId)
  }
  const patterns = new Map<string, readonly string[] | typeof ANY_PATH>()
  const patternOf = (id: string, depth: number): readonly string[] | typeof ANY_PATH => {
    if (patterns.has(id)) return patterns.get(id)!
    const route = routes[id]
    // A cycle or a parent missing from the manifest: nothing to reason about.
    if (!route || depth > 100 || (route.parentId !== undefined && !routes[route.parentId])) return ANY_PATH
    const parent = route.parentId === undefined ? [] : patternOf(route.parentId, depth + 1)
    const path = route.path ?? ''
    let pattern: readonly string[] | typeof ANY_PATH = ANY_PATH
    if (parent !== ANY_PATH && !path.startsWith('/')) {
      const own = path.split('/').filter((segment) => segment !== '')
      // (A case-sensitive route compares more strictly than the lower-cased test here: it is only kept more often.)
      if (own.every((segment) => PARAM.test(segment) || LITERAL.test(segment))) pattern = [...parent, ...own]
    }
    patterns.set(id, pattern)
    return pattern
  }
  // Manifest order, parents computed on the way.
  const ordered = new Map<string, readonly string[] | typeof ANY_PATH>()
  for (const id of parents.keys()) ordered.set(id, patternOf(id, 0))
  return { patterns: ordered, parents }
}

/** The URL path's segments, decoded and in lower case as the router compares them; null when unusual. */
function urlSegments(pathname: string): string[] | null {
  if (pathname === '/') return []
  if (!pathname.startsWith('/')) return null
  const raw = pathname.slice(1).split('/')
  const segments: string[] = []
  for (const segment of raw) {
    if (segment === '') return null
    try {
      segments.push(decodeURIComponent(segment).toLowerCase())
    } catch {
      return null
    }
  }
  return segments
}

/** Whether a route with this path could match the first `pattern.length` segments of the URL. */
function couldMatchPrefix(pattern: readonly string[], segments: readonly string[]): boolean {
  if (pattern.length > segments.length) return false
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i]!
    if (part.charCodeAt(0) !== 58 /* : */ && part !== segments[i]) return false
  }
  return true
}
