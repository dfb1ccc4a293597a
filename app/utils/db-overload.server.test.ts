import assert from 'node:assert/strict'
import { test } from 'node:test'

// One write at a time, a 200 ms wait, one waiter: read when the gate is first used.
process.env.DATABASE_POOL_SIZE = '2'
process.env.DATABASE_WRITE_CONNECTIONS = '1'
process.env.DATABASE_WAIT_MS = '200'
process.env.DATABASE_WRITE_QUEUE_LIMIT = '1'
const { withWriteTurn } = await import('./db-overload.server')
const { AppError, toAppError } = await import('./errors.server')

test('an expired database wait, anywhere in the cause chain, is a 503 with Retry-After; other errors are not', () => {
  const prisma = Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' })
  const pool = new Error('wrapped', { cause: new Error('timeout exceeded when trying to connect') })
  for (const error of [prisma, pool]) {
    const mapped = toAppError(error)
    assert.ok(mapped instanceof AppError)
    assert.equal(mapped.status, 503)
    assert.ok((mapped.details.retryAfterSeconds ?? 0) > 0)
  }
  assert.equal(toAppError(new Error('relation "x" does not exist')), null)
})

test('writes wait for a turn within bounds: past the wait, or past the queue, 503 at once', async () => {
  let finish!: () => void
  const holding = withWriteTurn(() => new Promise<void>((resolve) => (finish = resolve)))
  const waiting = withWriteTurn(async () => 'ran')
  // The one place in the queue is taken: the next is refused without waiting.
  await assert.rejects(
    withWriteTurn(async () => 'never'),
    (error: unknown) => error instanceof AppError && error.status === 503 && /too many writes waiting/.test(error.message),
  )
  await assert.rejects(
    waiting,
    (error: unknown) => error instanceof AppError && error.status === 503 && /no turn for a write in time/.test(error.message),
  )
  finish()
  await holding
  assert.equal(await withWriteTurn(async () => 'ran'), 'ran', 'the turn is free again')
})
