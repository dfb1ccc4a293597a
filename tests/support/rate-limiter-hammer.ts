/**
 * One of several processes sharing a Redis rate limit (see app/utils/rate-limiter.server.test.ts).
 *
 *   node --import tsx tests/support/rate-limiter-hammer.ts <redis url> <key> <limit> <attempts>
 *
 * Connects its own Redis limiter, prints "ready", waits for a line on stdin (so that every process
 * starts at once), then makes `attempts` checks of `key`, 16 at a time, and prints one JSON line:
 * { admitted, refused, warnings }. Warnings count fallbacks to the in-memory limiter.
 */
import { once } from 'node:events'
import { createMemoryRateLimiter, createRedisRateLimiter } from '../../app/utils/rate-limiter.server'

const [url, key, limitArgument, attemptsArgument] = process.argv.slice(2)
if (!url || !key || !limitArgument || !attemptsArgument) {
  console.error('usage: rate-limiter-hammer.ts <redis url> <key> <limit> <attempts>')
  process.exit(2)
}
const sharedKey: string = key
const limit = Number(limitArgument)
let remainingAttempts = Number(attemptsArgument)

const warnings: string[] = []
const limiter = createRedisRateLimiter({ url, fallback: createMemoryRateLimiter(), log: (message) => warnings.push(message) })
// The first check waits for the connection; made on another key so the shared count stays clean.
await limiter.consume(`${key}:warm-up`, 1)
console.log('ready')
process.stdin.setEncoding('utf8')
await once(process.stdin, 'data')
process.stdin.pause()

let admitted = 0
let refused = 0
async function worker() {
  while (remainingAttempts > 0) {
    remainingAttempts--
    const decision = await limiter.consume(sharedKey, limit)
    if (decision.allowed) admitted++
    else refused++
  }
}
await Promise.all(Array.from({ length: 16 }, worker))
await limiter.close()
console.log(JSON.stringify({ admitted, refused, warnings: warnings.length }))
