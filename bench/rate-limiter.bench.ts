/**
 * Rate limiter cost: `npm run bench:rate-limiter` (results in docs/benchmarks.md).
 *
 * In memory: microseconds per awaited `consume`, with many keys and with one hot key, against a bare
 * Map counter measured in the same run (plain, and behind an awaited async function, which is the
 * price of the limiter's Promise interface). Each figure is the mean over batches of calls; p99 is
 * the 99th percentile of the batch means.
 * With REDIS_URL or TEST_REDIS_URL set: latency of one Redis-mode check against a bare PING round trip.
 */
import os from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Redis } from 'ioredis'
import { createMemoryRateLimiter, createRedisRateLimiter } from '../app/utils/rate-limiter.server'

const BATCHES = 200
const CALLS_PER_BATCH = 20_000
const KEY_COUNT = 100_000
const UNLIMITED = 1_000_000_000
const keys = Array.from({ length: KEY_COUNT }, (_, i) => `READ:key:ck_${i.toString(36).padStart(8, '0')}`)

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const fmt = (value: number, digits = 3) => value.toFixed(digits)

interface Stats {
  mean: number
  p50: number
  p99: number
}

function summarize(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b)
  return { mean: samples.reduce((sum, x) => sum + x, 0) / samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}

type Batch = (offset: number) => Promise<void> | void

/**
 * Microseconds per call, one sample per batch. The variants take turns batch by batch, so a burst of
 * other work on the machine weighs on all of them alike; the first rounds warm the JIT and are dropped.
 */
async function perCall(variants: Batch[]): Promise<Stats[]> {
  const samples = variants.map(() => [] as number[])
  for (let round = -5; round < BATCHES; round++) {
    for (const [index, run] of variants.entries()) {
      const started = process.hrtime.bigint()
      await run(round * CALLS_PER_BATCH)
      const elapsed = Number(process.hrtime.bigint() - started) / 1_000 // µs
      if (round >= 0) samples[index]!.push(elapsed / CALLS_PER_BATCH)
    }
  }
  return samples.map(summarize)
}

function line(name: string, stats: Stats, reference?: Stats) {
  const ratio = reference ? `  x${fmt(stats.mean / reference.mean, 1)} the reference` : ''
  console.log(`  ${name.padEnd(48)} mean ${fmt(stats.mean)} µs  p99 ${fmt(stats.p99)} µs${ratio}`)
}

async function memory() {
  console.log(`\nIn-memory check, µs per call (${BATCHES} batches of ${CALLS_PER_BATCH.toLocaleString('en')} calls each)`)
  const keyAt = (offset: number, i: number) => keys[(offset + i + KEY_COUNT * 10) % KEY_COUNT]!

  const plainMap = new Map<string, number>()
  const asyncMap = new Map<string, number>()
  const bump = async (key: string) => {
    const count = (asyncMap.get(key) ?? 0) + 1
    asyncMap.set(key, count)
    return count
  }
  const manyKeys = createMemoryRateLimiter()
  const hotKey = createMemoryRateLimiter()
  const spentKey = createMemoryRateLimiter()

  const [plain, awaited, many, awaitedHot, hot, spent] = await perCall([
    (offset) => {
      for (let i = 0; i < CALLS_PER_BATCH; i++) {
        const key = keyAt(offset, i)
        plainMap.set(key, (plainMap.get(key) ?? 0) + 1)
      }
    },
    async (offset) => {
      for (let i = 0; i < CALLS_PER_BATCH; i++) await bump(keyAt(offset, i))
    },
    async (offset) => {
      for (let i = 0; i < CALLS_PER_BATCH; i++) await manyKeys.consume(keyAt(offset, i), UNLIMITED)
    },
    async () => {
      for (let i = 0; i < CALLS_PER_BATCH; i++) await bump('READ:hot')
    },
    async () => {
      for (let i = 0; i < CALLS_PER_BATCH; i++) await hotKey.consume('READ:hot', UNLIMITED)
    },
    // Refused: the limit is spent, so every call also works out when the window frees up.
    async () => {
      for (let i = 0; i < CALLS_PER_BATCH; i++) await spentKey.consume('ADMIN:hot', 20)
    },
  ])

  line(`reference: Map counter, ${KEY_COUNT.toLocaleString('en')} keys round robin`, plain!)
  line('reference: the same, in an awaited async fn', awaited!)
  line(`limiter, ${KEY_COUNT.toLocaleString('en')} keys round robin (allowed)`, many!, awaited)
  line('reference: Map counter, one key, awaited', awaitedHot!)
  line('limiter, one hot key (allowed)', hot!, awaitedHot)
  line('limiter, one hot key (refused)', spent!, awaitedHot)
  console.log(
    `  limiter cost over its awaited reference: ${fmt(many!.mean - awaited!.mean)} µs (many keys), ` +
      `${fmt(hot!.mean - awaitedHot!.mean)} µs (hot key); many keys over the plain Map: x${fmt(many!.mean / plain!.mean, 1)}`,
  )
  await Promise.all([manyKeys.close(), hotKey.close(), spentKey.close()])
}

async function memoryPerKey() {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  const before = process.memoryUsage().heapUsed
  const limiter = createMemoryRateLimiter({ maxKeys: KEY_COUNT })
  for (const key of keys) await limiter.consume(key, 10)
  gc()
  const bytes = (process.memoryUsage().heapUsed - before) / KEY_COUNT
  await limiter.close()
  console.log(`\nHeap per key held (${KEY_COUNT.toLocaleString('en')} keys; the key strings themselves excluded): ${Math.round(bytes)} bytes`)
}

async function redis(url: string) {
  const ROUNDS = 10
  const PER_ROUND = 1_000
  console.log(`\nRedis mode, ms per call (${ROUNDS * PER_ROUND} sequential calls of each, interleaved in rounds)`)
  const key = `bench:${process.pid}:${Date.now()}`
  const warnings: string[] = []
  const limiter = createRedisRateLimiter({ url, fallback: createMemoryRateLimiter(), log: (m) => warnings.push(m) })
  const client = new Redis(url)
  await client.ping()
  await limiter.consume(`${key}:warm-up`, 1)

  const check: number[] = []
  const ping: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < PER_ROUND; i++) {
      const started = performance.now()
      await client.ping()
      ping.push(performance.now() - started)
    }
    for (let i = 0; i < PER_ROUND; i++) {
      const started = performance.now()
      await limiter.consume(key, UNLIMITED)
      check.push(performance.now() - started)
    }
  }
  const pingStats = summarize(ping)
  const checkStats = summarize(check)
  const row = (name: string, s: Stats) => console.log(`  ${name.padEnd(48)} p50 ${fmt(s.p50)} ms  p99 ${fmt(s.p99)} ms  mean ${fmt(s.mean)} ms`)
  row('reference: PING round trip', pingStats)
  row('limiter check (EVALSHA)', checkStats)
  console.log(
    `  ratio x${fmt(checkStats.p50 / pingStats.p50, 2)} at p50, x${fmt(checkStats.p99 / pingStats.p99, 2)} at p99; ` +
      `added per request over a bare round trip: ${fmt(checkStats.p50 - pingStats.p50)} ms at p50`,
  )
  if (warnings.length > 0) console.log(`  WARNING: ${warnings.length} checks fell back to memory: ${warnings[0]}`)
  await client.del((await client.keys(`*${key}*`)) as string[]).catch(() => {})
  await client.quit()
  await limiter.close()
}

console.log(
  `rate limiter benchmark: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ` +
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (other work on the machine skews the figures)`,
)
await memory()
await memoryPerKey()
const redisUrl = process.env.REDIS_URL || process.env.TEST_REDIS_URL
if (redisUrl) await redis(redisUrl)
else console.log('\nRedis mode: not measured (set REDIS_URL or TEST_REDIS_URL)')
