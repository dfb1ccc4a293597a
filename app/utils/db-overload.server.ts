import { remember } from '@epic-web/remember'
import { E_TIMEOUT, Semaphore, withTimeout } from 'async-mutex'
import { databaseLimits } from './config.server'
import { AppError } from './errors.server'

/** What an overloaded instance asks callers to wait before trying again. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 2

const OVERLOAD_MESSAGES = [
  // Prisma (P2028): no connection for a transaction within maxWait, or a transaction outlived its timeout.
  /Unable to start a transaction in the given time/i,
  /Transaction already closed/i,
  // pg-pool: no connection within connectionTimeoutMillis.
  /timeout exceeded when trying to connect/i,
  /Connection terminated due to connection timeout/i,
]

function overloaded(detail: string) {
  return new AppError('UNAVAILABLE', `Carcosa is busy right now (${detail}); nothing was changed. Try again in a moment.`, {
    retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
  })
}

/**
 * The one place a database wait that ran out becomes a 503 with Retry-After: a Prisma P2028 or a
 * pool timeout, anywhere in the error's cause chain. Anything else is returned unchanged.
 */
export function asOverloadError(error: unknown): unknown {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown }
    if (code === 'P2028' || (typeof message === 'string' && OVERLOAD_MESSAGES.some((pattern) => pattern.test(message)))) {
      return overloaded('the database did not answer in time')
    }
  }
  return error
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
  if (gate.semaphore.isLocked() && gate.waiting >= gate.limits.DATABASE_WRITE_QUEUE_LIMIT) throw overloaded('too many writes waiting')
  gate.waiting++
  let release: () => void
  try {
    ;[, release] = await withTimeout(gate.semaphore, gate.limits.DATABASE_WAIT_MS).acquire()
  } catch (error) {
    throw error === E_TIMEOUT ? overloaded('no turn for a write in time') : error
  } finally {
    gate.waiting--
  }
  try {
    return await run()
  } catch (error) {
    throw asOverloadError(error)
  } finally {
    release()
  }
}
