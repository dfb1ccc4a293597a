import Router from 'find-my-way'
import type { Operation } from './operation.server'

/** What a path under /api/v1 names: the operations of one documented path, or the image transform endpoint. */
export type ApiRoute =
  | { kind: 'operations'; path: string; operations: Operation[]; params: Record<string, string | undefined> }
  | { kind: 'transform'; params: { projectId: string; path: string } }

/** The image transform endpoint: it answers bytes, so it sits beside the operation table (ADR 010). */
export const TRANSFORM_PATH_PREFIX = '/api/v1/transform/'

const API_PREFIX = '/api/v1'

/**
 * Whether the host's API handler answers this (already normalized) pathname: everything under
 * /api/v1, matched without regard to case as the dashboard's routes are.
 */
export function isApiPath(pathname: string) {
  if (pathname.length < API_PREFIX.length) return false
  const head = pathname.slice(0, API_PREFIX.length + 1).toLowerCase()
  return head === API_PREFIX || head === `${API_PREFIX}/`
}

type Store = { kind: 'operations'; path: string; operations: Operation[] } | { kind: 'transform' }

/**
 * The operation table as one radix tree: a literal segment wins over a parameter (`/files/upload`
 * before `/files/{id}`), case is ignored, one trailing slash is too, and parameters arrive
 * percent-decoded. Paths are looked up once; the method is chosen among the path's operations by
 * the caller, so a known path with another method answers 405 with Allow rather than 404.
 */
export function createApiRouter(operations: readonly Operation[]) {
  const router = Router({ caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 2048 })
  const byPath = new Map<string, Operation[]>()
  for (const operation of operations) byPath.set(operation.path, [...(byPath.get(operation.path) ?? []), operation])
  const noop = () => {}
  for (const [path, list] of byPath) {
    const store: Store = { kind: 'operations', path, operations: list }
    router.on('GET', path.replace(/\{(\w+)\}/g, ':$1'), noop, store)
  }
  router.on('GET', `${TRANSFORM_PATH_PREFIX}:projectId/*`, noop, { kind: 'transform' } satisfies Store)

  /** The route of a pathname under /api/v1 (raw, as in the request URL), or null when nothing is there. */
  return function route(pathname: string): ApiRoute | null {
    const found = router.find('GET', pathname)
    if (!found) return null
    const store = found.store as Store
    if (store.kind === 'transform')
      return { kind: 'transform', params: { projectId: found.params.projectId ?? '', path: found.params['*'] ?? '' } }
    return { kind: 'operations', path: store.path, operations: store.operations, params: found.params }
  }
}
