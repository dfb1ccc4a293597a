import { remember } from '@epic-web/remember'
import { LRUCache } from 'lru-cache'
import { getConfig } from '~/utils/config.server'
import { invalidationBusConnected, onInvalidation } from '~/utils/invalidation-bus.server'
import type { SourceIdentity } from './cache.server'

/**
 * What the host's fast path needs to know about a transform source without the database: the
 * file's identity (what variant names are made of), its type, and the project's settings that
 * change a variant or refuse the request. The full path records it whenever it answers; an entry
 * lives a few seconds (TRANSFORM_FAST_PATH_TTL_SECONDS), so a file deleted on another instance is
 * served from this one's memory for at most that long. Deleting a file here (deleteVariants) or
 * changing the project's transform settings forgets it at once.
 */

export interface KnownSource extends SourceIdentity {
  projectId: string
  /** The file's tenant, for usage metering. */
  tenantId: string | null
  contentType: string
  allowAnimated: boolean
  presetsOnly: boolean
}

interface KnownSourcesState {
  sources: LRUCache<string, KnownSource>
  /** Files forgotten within the TTL: a request racing their deletion must not record them again. */
  forgotten: LRUCache<string, true>
  /** Tenants whose status changed within the TTL, likewise. */
  forgottenTenants: LRUCache<string, true>
  /** Whether this process hears tenant status changes from every instance (the invalidation bus). */
  watchingTenants: boolean
}

const MAX_ENTRIES = 20_000

// One per process, like the variant cache: null when the fast path is off.
function state(): KnownSourcesState | null {
  return remember('carcosa.transform-known-sources', (): KnownSourcesState | null => {
    const ttl = getConfig().TRANSFORM_FAST_PATH_TTL_SECONDS * 1000
    return ttl > 0
      ? {
          sources: new LRUCache({ max: MAX_ENTRIES, ttl }),
          forgotten: new LRUCache({ max: MAX_ENTRIES, ttl }),
          forgottenTenants: new LRUCache({ max: MAX_ENTRIES, ttl }),
          watchingTenants: false,
        }
      : null
  })
}

const keyOf = (projectId: string, path: string) => `${projectId}\n${path}`

/** Whether the fast path is on in this instance (TRANSFORM_FAST_PATH_TTL_SECONDS > 0). */
export const fastPathEnabled = () => state() !== null

export function rememberSource(path: string, source: KnownSource) {
  const current = state()
  if (!current || current.forgotten.has(source.id)) return
  if (source.tenantId && (!watchTenants(current) || current.forgottenTenants.has(source.tenantId))) return
  current.sources.set(keyOf(source.projectId, path), source)
}

export function knownSource(projectId: string, path: string): KnownSource | undefined {
  const source = state()?.sources.get(keyOf(projectId, path))
  // A tenant's file only while status changes can reach this instance (they are lost while the bus is down).
  if (source?.tenantId && !invalidationBusConnected()) return undefined
  return source
}

/**
 * Suspending, archiving or reactivating a tenant must stop this memory answering for its files at
 * once, on every instance (ADR 025): the invalidation bus tells each of them.
 */
function watchTenants(current: KnownSourcesState): boolean {
  if (current.watchingTenants) return true
  try {
    onInvalidation((message) => {
      if (message.kind === 'all') current.sources.clear()
      else if (message.kind === 'tenant') forgetTenant(message.id)
    })
    current.watchingTenants = true
  } catch {
    // No bus in this process (no database configured): tenants' files are not answered from memory.
  }
  return current.watchingTenants
}

/** A tenant's status changed: its files are answered by the full path again, which checks it. */
export function forgetTenant(tenantId: string) {
  const current = state()
  if (!current) return
  current.forgottenTenants.set(tenantId, true)
  forgetWhere(current, (source) => source.tenantId === tenantId)
}

/** A file was deleted (or its bytes replaced): this instance stops answering for it without the database. */
export function forgetFile(fileId: string) {
  const current = state()
  if (!current) return
  current.forgotten.set(fileId, true)
  forgetWhere(current, (source) => source.id === fileId)
}

/** The project's transform settings changed (or the project went away). */
export function forgetProject(projectId: string) {
  const current = state()
  if (!current) return
  forgetWhere(current, (source) => source.projectId === projectId)
}

function forgetWhere(current: KnownSourcesState, matches: (source: KnownSource) => boolean) {
  // Keys first: deleting while iterating the LRU's list would skip entries.
  const keys = [...current.sources.entries()].filter(([, source]) => matches(source)).map(([key]) => key)
  for (const key of keys) current.sources.delete(key)
}
