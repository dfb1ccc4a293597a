import { LRUCache } from 'lru-cache'
import { invalidationBusConnected, onInvalidation, type InvalidationKind } from './invalidation-bus.server'

export interface InvalidatedCache<V extends object> {
  /** The value, or undefined when absent, expired, or while other instances cannot reach us. */
  get(key: string): V | undefined
  /**
   * Resolves a value through `load` and keeps it, unless an invalidation arrived while loading
   * (the value read may already be stale then: it is returned, not kept).
   */
  resolve(key: string, load: () => Promise<V | null>): Promise<V | null>
  delete(key: string): void
}

/**
 * A bounded, short-lived cache of resolved credentials that the invalidation bus keeps honest:
 * `matches` says which entries an invalidation (`api-key:<id>`, `project:<id>`, ...) concerns.
 */
export function createInvalidatedCache<V extends object>(options: {
  max: number
  ttlMs: number
  matches: (value: V, kind: InvalidationKind, id: string) => boolean
}): InvalidatedCache<V> {
  const entries = new LRUCache<string, V>({ max: Math.max(1, options.max), ttl: Math.max(1, options.ttlMs) })
  let generation = 0
  let listening = false
  const listen = () => {
    if (listening) return
    listening = true
    onInvalidation((message) => {
      generation++
      if (message.kind === 'all') return entries.clear()
      // Invalidations are rare; the cache is bounded, so a scan is cheap.
      for (const [key, value] of entries.entries()) if (options.matches(value, message.kind, message.id)) entries.delete(key)
    })
  }
  const enabled = () => options.max > 0 && options.ttlMs > 0

  return {
    get(key) {
      if (!enabled()) return undefined
      listen()
      return invalidationBusConnected() ? entries.get(key) : undefined
    },
    async resolve(key, load) {
      if (!enabled()) return load()
      listen()
      const before = generation
      const value = await load()
      if (value && generation === before && invalidationBusConnected()) entries.set(key, value)
      return value
    },
    delete(key) {
      entries.delete(key)
    },
  }
}
