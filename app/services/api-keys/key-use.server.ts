import { remember } from '@epic-web/remember'
import { logger } from '~/utils/logger.server'
import { sql } from '~/utils/sql.server'

/** How often the recorded uses are written: `lastUsedAt` is at most this stale. */
export const KEY_USE_FLUSH_MS = 15_000
/** Keys whose use awaits writing; beyond this the batch is written at once (memory stays bounded). */
export const KEY_USE_MAX_PENDING = 10_000

// One per process (host and build alike): API key id -> epoch ms of its latest use not yet written.
const state = remember('carcosa.api-key-uses', () => ({
  pending: new Map<string, number>(),
  timer: undefined as NodeJS.Timeout | undefined,
  flushing: Promise.resolve(),
}))

/**
 * Notes that a key was used, off the request path: uses are written in one UPDATE per batch
 * (every KEY_USE_FLUSH_MS, or at once past KEY_USE_MAX_PENDING keys), never once per request.
 */
export function recordApiKeyUse(apiKeyId: string, at = Date.now()) {
  state.pending.set(apiKeyId, at)
  if (state.pending.size >= KEY_USE_MAX_PENDING) {
    void flushApiKeyUse()
    return
  }
  if (state.timer) return
  state.timer = setTimeout(() => {
    state.timer = undefined
    void flushApiKeyUse()
  }, KEY_USE_FLUSH_MS)
  state.timer.unref()
}

/** Writes the pending uses now (also at shutdown). A failed write is logged; the uses are dropped. */
export function flushApiKeyUse(): Promise<void> {
  clearTimeout(state.timer)
  state.timer = undefined
  const { pending } = state
  if (pending.size === 0) return state.flushing
  const ids = [...pending.keys()]
  const times = ids.map((id) => new Date(pending.get(id)!).toISOString())
  pending.clear()
  state.flushing = state.flushing.then(() =>
    sql(
      `UPDATE "ApiKey" AS k SET "lastUsedAt" = v.at AT TIME ZONE 'UTC'
         FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
        WHERE k.id = v.id AND (k."lastUsedAt" IS NULL OR k."lastUsedAt" < v.at AT TIME ZONE 'UTC')`,
      [ids, times],
    ).then(
      () => undefined,
      (error: unknown) => logger.warn({ err: error as Error, keys: ids.length }, 'could not record API key use'),
    ),
  )
  return state.flushing
}
