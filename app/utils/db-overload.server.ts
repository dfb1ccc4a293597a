import { remember } from '@epic-web/remember'
import { E_TIMEOUT, Semaphore, withTimeout } from 'async-mutex'
import { databaseLimits } from './config.server'
import { databaseOverload, overloaded } from './errors.server'

/** A database wait that ran out, as the 503 it means (errors.server.ts); anything else unchanged. */
export function asOverloadError(error: unknown): unknown {
  return databaseOverload(error) ?? error
}

interface WriteGate {
  semaphore: Semaphore
  waiting: number
  limits: ReturnType<typeof databaseLimits>
}

const writeGate = () =>
  remember('carcosa.db-write-gate', (): WriteGate => {
    const limits = databaseLimits()
    return { semaphore: new Semaphore(limits.DATABASE_WRITE_CONNECTIONS), waiting: 0, limits }
  })

/**
 * Runs a transaction once one of DATABASE_WRITE_CONNECTIONS is free, so transactions never take
 * the whole pool and reads keep flowing while writes wait. The wait is bounded in time
 * (DATABASE_WAIT_MS) and in length (DATABASE_WRITE_QUEUE_LIMIT): past either, 503 at once.
 */
export async function withWriteTurn<T>(run: () => Promise<T>): Promise<T> {
  const gate = writeGate()
  // Only callers that find every turn taken wait, and only that many may.
  const mustWait = gate.semaphore.isLocked()
  if (mustWait && gate.waiting >= gate.limits.DATABASE_WRITE_QUEUE_LIMIT) throw overloaded('too many writes waiting')
  if (mustWait) gate.waiting++
  let release: () => void
  try {
    ;[, release] = await withTimeout(gate.semaphore, gate.limits.DATABASE_WAIT_MS).acquire()
  } catch (error) {
    throw error === E_TIMEOUT ? overloaded('no turn for a write in time') : error
  } finally {
    if (mustWait) gate.waiting--
  }
  try {
    return await run()
  } catch (error) {
    throw asOverloadError(error)
  } finally {
    release()
  }
}
