import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  DEFAULT_TIER_LIMITS,
  RATE_LIMIT_TIERS,
  RATE_LIMIT_WINDOW_MS,
  type RateLimitDecision,
  type RateLimiter,
} from './rate-limiter.server'

const HOUR = RATE_LIMIT_WINDOW_MS
/** A window is cut into 60 slices; a request counts for between one window and one window + one slice. */
const SLICE = HOUR / 60
/** An instant on a slice boundary (whole hours are). */
const T0 = Date.UTC(2026, 0, 1, 12)

function clock(start: number) {
  const state = { time: start, now: () => state.time }
  return state
}

async function consumeMany(limiter: RateLimiter, key: string, limit: number, count: number, windowMs?: number) {
  const decisions: RateLimitDecision[] = []
  for (let i = 0; i < count; i++) decisions.push(await limiter.consume(key, limit, windowMs))
  return decisions
}

/** A small deterministic generator, so a failing property test can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
}

describe('rate limit tiers', () => {
  test('six tiers with their hourly limits', () => {
    assert.deepEqual([...RATE_LIMIT_TIERS], ['READ', 'STANDARD', 'WRITE', 'EXPENSIVE', 'DELETE', 'ADMIN'])
    assert.deepEqual(DEFAULT_TIER_LIMITS, { READ: 10_000, STANDARD: 1_000, WRITE: 500, EXPENSIVE: 100, DELETE: 50, ADMIN: 20 })
    assert.equal(RATE_LIMIT_WINDOW_MS, 3_600_000)
  })
})

/** The behaviour every limiter must show; run against memory always and against Redis when there is one. */
function boundaryBehaviour(make: (now: () => number) => RateLimiter, keyPrefix: () => string, options: { skip?: string | false } = {}) {
  test('admits exactly the limit, counting remaining down, and refuses the next', options, async () => {
    const time = clock(T0 + 12_345)
    const limiter = make(time.now)
    const key = `${keyPrefix()}boundary`
    const decisions = await consumeMany(limiter, key, 5, 6)
    const releasedAt = T0 + HOUR + SLICE // the first slice leaves the window then
    assert.deepEqual(
      decisions.slice(0, 5),
      [4, 3, 2, 1, 0].map((remaining) => ({ allowed: true, limit: 5, remaining, resetAt: releasedAt, retryAfterSeconds: 0 })),
    )
    assert.deepEqual(decisions[5], {
      allowed: false,
      limit: 5,
      remaining: 0,
      resetAt: releasedAt,
      retryAfterSeconds: Math.ceil((releasedAt - time.time) / 1000),
    })
    assert.ok(releasedAt > time.time + HOUR && releasedAt <= time.time + HOUR + SLICE)

    time.time = releasedAt - 1
    assert.equal((await limiter.consume(key, 5)).allowed, false, 'still refused 1 ms before resetAt')
    time.time = releasedAt
    assert.equal((await consumeMany(limiter, key, 5, 6)).filter((d) => d.allowed).length, 5, 'the whole limit again at resetAt')
  })

  test('requests on both sides of a slice boundary still add up to exactly the limit', options, async () => {
    const time = clock(T0 + 7 * SLICE - 1)
    const limiter = make(time.now)
    const key = `${keyPrefix()}straddle`
    assert.ok((await consumeMany(limiter, key, 5, 3)).every((d) => d.allowed))
    time.time += 1
    const later = await consumeMany(limiter, key, 5, 3)
    assert.deepEqual(
      later.map((d) => [d.allowed, d.remaining]),
      [
        [true, 1],
        [true, 0],
        [false, 0],
      ],
    )
    // The three older requests leave first: one more fits once their slice is gone.
    assert.equal(later[2]!.resetAt, T0 + 7 * SLICE + HOUR)
  })

  test('refused requests are not counted', options, async () => {
    const time = clock(T0)
    const limiter = make(time.now)
    const key = `${keyPrefix()}refused`
    await consumeMany(limiter, key, 3, 3)
    time.time = T0 + HOUR / 2
    assert.ok((await consumeMany(limiter, key, 3, 10)).every((d) => !d.allowed))
    // Had the ten refusals counted, they would hold the window until T0 + 1.5 h.
    time.time = T0 + HOUR + SLICE
    assert.equal((await consumeMany(limiter, key, 3, 4)).filter((d) => d.allowed).length, 3)
  })

  test('the window slides: old requests leave it one slice at a time', options, async () => {
    const windowMs = 60_000 // slices of one second
    const time = clock(T0)
    const limiter = make(time.now)
    const key = `${keyPrefix()}slide`
    await consumeMany(limiter, key, 4, 2, windowMs)
    time.time = T0 + 30_000
    await consumeMany(limiter, key, 4, 2, windowMs)
    time.time = T0 + 45_000
    const refused = await limiter.consume(key, 4, windowMs)
    assert.equal(refused.allowed, false)
    assert.equal(refused.resetAt, T0 + 61_000)
    assert.equal(refused.retryAfterSeconds, 16)

    time.time = T0 + 60_999
    assert.equal((await limiter.consume(key, 4, windowMs)).allowed, false)
    time.time = T0 + 61_000
    const decisions = await consumeMany(limiter, key, 4, 3, windowMs)
    assert.deepEqual(
      decisions.map((d) => d.allowed),
      [true, true, false],
    )
    assert.equal(decisions[1]!.resetAt, T0 + 61_000 + 61_000, 'allowed: when the newest request leaves')
    assert.equal(decisions[2]!.resetAt, T0 + 30_000 + 61_000, 'refused: when the requests of T0 + 30 s leave')
  })

  test('keys, and window lengths of one key, are counted separately', options, async () => {
    const time = clock(T0)
    const limiter = make(time.now)
    const prefix = keyPrefix()
    await consumeMany(limiter, `${prefix}a`, 2, 2)
    assert.equal((await limiter.consume(`${prefix}a`, 2)).allowed, false)
    assert.equal((await limiter.consume(`${prefix}b`, 2)).remaining, 1)
    assert.equal((await limiter.consume(`${prefix}a`, 2, 60_000)).remaining, 1)
  })

  test('a lowered limit refuses until enough requests have left; limit 0 refuses everything', options, async () => {
    const time = clock(T0)
    const limiter = make(time.now)
    const key = `${keyPrefix()}lowered`
    await consumeMany(limiter, key, 10, 4)
    time.time = T0 + 10 * SLICE
    await consumeMany(limiter, key, 10, 4)
    const refused = await limiter.consume(key, 5)
    assert.deepEqual([refused.allowed, refused.remaining], [false, 0])
    assert.equal(refused.resetAt, T0 + HOUR + SLICE, 'once the four requests of T0 have left, one more fits')
    time.time = T0 + HOUR + SLICE
    assert.deepEqual(
      (await consumeMany(limiter, key, 5, 2)).map((d) => [d.allowed, d.remaining]),
      [
        [true, 0],
        [false, 0],
      ],
    )

    const blocked = await limiter.consume(`${keyPrefix()}blocked`, 0)
    assert.deepEqual([blocked.allowed, blocked.remaining], [false, 0])
    assert.ok(blocked.resetAt > time.time && blocked.retryAfterSeconds >= 1)
  })
}

describe('memory rate limiter', () => {
  boundaryBehaviour(
    (now) => createMemoryRateLimiter({ now }),
    () => '',
  )

  test('never admits more than the limit in any window, and refuses only when the limit is spent', async () => {
    const windowMs = 10_000
    const slice = windowMs / 60
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed)
      const limit = 1 + Math.floor(next() * 20)
      const time = clock(T0)
      const limiter = createMemoryRateLimiter({ now: time.now })
      const admitted: number[] = []
      for (let i = 0; i < 2_000; i++) {
        time.time += Math.floor(next() * next() * 400)
        const decision = await limiter.consume('k', limit, windowMs)
        const inWindow = admitted.filter((at) => at > time.time - windowMs).length
        if (decision.allowed) {
          assert.ok(inWindow < limit, `seed ${seed}: admitted with ${inWindow} of ${limit} already in the window`)
          admitted.push(time.time)
        } else {
          const counted = admitted.filter((at) => at > time.time - windowMs - slice).length
          assert.ok(counted >= limit, `seed ${seed}: refused with only ${counted} of ${limit} in window + one slice`)
          assert.ok(decision.resetAt > time.time && decision.resetAt <= Math.ceil(time.time + windowMs + slice))
        }
      }
    }
  })

  test('keeps at most maxKeys keys, forgetting the least recently used', async () => {
    const limiter = createMemoryRateLimiter({ maxKeys: 3, now: () => T0 })
    await consumeMany(limiter, 'a', 1, 1)
    await consumeMany(limiter, 'b', 1, 1)
    await consumeMany(limiter, 'c', 1, 1)
    assert.equal((await limiter.consume('a', 1)).allowed, false, 'a is kept and now the most recent')
    await consumeMany(limiter, 'd', 1, 1) // evicts b, the least recently used
    assert.equal((await limiter.consume('a', 1)).allowed, false)
    assert.equal((await limiter.consume('b', 1)).allowed, true, 'b was forgotten: its count starts again')
  })

  test('starts no timers, however many keys it holds', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
    const before = timers()
    const limiter = createMemoryRateLimiter({ maxKeys: 1_000 })
    for (let i = 0; i < 5_000; i++) await limiter.consume(`key-${i}`, 10)
    assert.equal(timers(), before)
    await limiter.close()
  })

  test('rejects a limit or window that is not a whole number', async () => {
    const limiter = createMemoryRateLimiter()
    await assert.rejects(limiter.consume('k', -1), RangeError)
    await assert.rejects(limiter.consume('k', 1.5), RangeError)
    await assert.rejects(limiter.consume('k', 1, 0), RangeError)
    await assert.rejects(limiter.consume('k', Number.NaN), RangeError)
  })
})

describe('Redis rate limiter without a Redis', () => {
  test('answers from the fallback at once, without throwing, and warns at most every 30 s', { timeout: 10_000 }, async () => {
    const time = clock(T0)
    const warnings: string[] = []
    const fallback = createMemoryRateLimiter({ now: time.now })
    const limiter = createRedisRateLimiter({
      url: 'redis://127.0.0.1:1',
      fallback,
      now: time.now,
      log: (message) => warnings.push(message),
    })
    try {
      const started = performance.now()
      const decisions = await consumeMany(limiter, 'k', 2, 3)
      assert.ok(performance.now() - started < 1_500, 'no wait for a Redis that refuses connections')
      assert.deepEqual(
        decisions.map((d) => d.allowed),
        [true, true, false],
      )
      assert.equal((await fallback.consume('k', 3)).remaining, 0, 'the fallback did the counting')
      assert.equal(warnings.length, 1)
      assert.match(warnings[0]!, /Redis unavailable .*per instance/)
      time.time += 30_000
      await limiter.consume('k', 2)
      assert.equal(warnings.length, 2, 'warns again after 30 s')
    } finally {
      await limiter.close()
    }
  })
})

const redisUrl = process.env.TEST_REDIS_URL
const skipRedis: string | false = redisUrl ? false : 'TEST_REDIS_URL is not set: Redis rate limiter tests not run'

describe('Redis rate limiter', () => {
  const options = { skip: skipRedis }
  const run = `test-${randomBytes(4).toString('hex')}`
  let admin: Redis | undefined
  const redis = () => (admin ??= new Redis(redisUrl!))
  const limiters: RateLimiter[] = []
  const unexpectedWarnings: string[] = []
  const makeLimiter = (now?: () => number, log?: (message: string) => void, url = redisUrl!) => {
    const limiter = createRedisRateLimiter({
      url,
      fallback: createMemoryRateLimiter({ now }),
      now,
      log: log ?? ((message) => unexpectedWarnings.push(message)),
    })
    limiters.push(limiter)
    return limiter
  }
  /** This run's keys in Redis, whatever prefix the limiter adds. */
  const keysOf = (part: string) => redis().keys(`*${run}:${part}*`)
  after(async () => {
    if (!redisUrl) return
    await Promise.all(limiters.map((limiter) => limiter.close()))
    const keys = await keysOf('')
    if (keys.length > 0) await redis().del(...keys)
    await admin?.quit()
    assert.deepEqual(unexpectedWarnings, [], 'no check fell back to memory')
  })

  let sequence = 0
  boundaryBehaviour(
    (now) => makeLimiter(now),
    () => `${run}:${++sequence}:`,
    options,
  )

  test('decides exactly as the memory limiter does', options, async () => {
    const time = clock(T0)
    const memory = createMemoryRateLimiter({ now: time.now })
    const shared = makeLimiter(time.now)
    const next = random(42)
    for (let i = 0; i < 1_500; i++) {
      time.time += Math.floor(next() * next() * 600)
      const limit = i < 1_000 ? 7 : 4 // and a lowered limit at the end
      assert.deepEqual(await shared.consume(`${run}:same`, limit, 10_000), await memory.consume('same', limit, 10_000), `check ${i}`)
    }
  })

  test('counts in one hash per key that expires once its slices have left the window', options, async () => {
    const limiter = makeLimiter()
    await consumeMany(limiter, `${run}:expiry`, 10, 3)
    const [key] = await keysOf('expiry')
    assert.ok(key)
    const ttl = await redis().pttl(key)
    assert.ok(ttl > HOUR && ttl <= HOUR + 2 * SLICE, `expires in ${ttl} ms`)
    assert.deepEqual(Object.values(await redis().hgetall(key)), ['3'])
  })

  test('drops slices that have left the window', options, async () => {
    const time = clock(T0)
    const limiter = makeLimiter(time.now)
    for (let i = 0; i < 5; i++) {
      await limiter.consume(`${run}:stale`, 100, 60_000)
      time.time += 20_000
    }
    const [key] = await keysOf('stale')
    // T0 + 0, 20, 40, 60, 80 s: the first left at 61 s.
    assert.equal(await redis().hlen(key!), 4)
  })

  test('two processes sharing one Redis admit exactly the limit in total', { ...options, timeout: 60_000 }, async () => {
    const script = fileURLToPath(new URL('../../tests/support/rate-limiter-hammer.ts', import.meta.url))
    const key = `${run}:shared`
    const limit = 300
    const attempts = 400
    const children = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, redisUrl!, key, String(limit), String(attempts)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      let output = ''
      child.stdout.setEncoding('utf8')
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (chunk: string) => {
          output += chunk
          if (output.includes('ready\n')) resolve()
        }),
      )
      const exited = once(child, 'exit')
      return { child, ready, exited, output: () => output }
    })
    await Promise.all(children.map((c) => c.ready))
    for (const { child } of children) child.stdin.write('go\n')
    const codes = await Promise.all(children.map((c) => c.exited))
    assert.deepEqual(
      codes.map(([code]) => code),
      [0, 0],
    )
    const results = children.map((c) => JSON.parse(c.output().trim().split('\n').at(-1)!) as Record<string, number>)
    assert.ok(
      results.every((r) => r.warnings === 0),
      'no process fell back to memory',
    )
    assert.ok(
      results.every((r) => r.admitted! > 0),
      `both processes were admitted some: ${JSON.stringify(results)}`,
    )
    assert.equal(results[0]!.admitted! + results[1]!.admitted!, limit, JSON.stringify(results))
    assert.equal(results[0]!.refused! + results[1]!.refused!, 2 * attempts - limit)
  })

  test('falls back to memory when Redis goes away, and uses it again when it is back', { ...options, timeout: 30_000 }, async () => {
    // A proxy in front of Redis stands for the network: closing it cuts the limiter off.
    const target = new URL(redisUrl!)
    const sockets = new Set<net.Socket>()
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('error', () => {})
        socket.on('close', () => sockets.delete(socket))
      }
      client.pipe(upstream).pipe(client)
    })
    proxy.listen(0, '127.0.0.1')
    await once(proxy, 'listening')
    const port = (proxy.address() as net.AddressInfo).port
    const proxied = new URL(redisUrl!)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(port)

    const warnings: string[] = []
    const limiter = makeLimiter(undefined, (message) => warnings.push(message), proxied.toString())
    const key = `${run}:outage`
    assert.equal((await limiter.consume(key, 3)).remaining, 2)
    assert.equal((await keysOf('outage')).length, 1, 'counted in Redis')

    proxy.close()
    for (const socket of sockets) socket.destroy()
    const started = performance.now()
    const during = await consumeMany(limiter, key, 3, 4)
    assert.ok(performance.now() - started < 1_000, 'no stall while Redis is away')
    assert.deepEqual(
      during.map((d) => [d.allowed, d.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ],
      'this instance counts on its own',
    )
    assert.equal(warnings.length, 1)

    proxy.listen(port, '127.0.0.1')
    await once(proxy, 'listening')
    const deadline = Date.now() + 20_000
    let decision = await limiter.consume(key, 3)
    while (decision.remaining !== 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      decision = await limiter.consume(key, 3)
    }
    assert.equal(decision.remaining, 1, 'back on the Redis count (one before the outage, this one)')
    await limiter.close()
    proxy.close()
    for (const socket of sockets) socket.destroy()
  })

  test('two instances keep the limit exact while Redis answers slower than a check waits', { ...options, timeout: 60_000 }, async () => {
    const key = `${run}:slow`
    const warnings: string[] = []
    // Short waits, so that a Redis busy for 400 ms times out first attempts (as a loaded host would).
    const slowAware = () => {
      const limiter = createRedisRateLimiter({
        url: redisUrl!,
        fallback: createMemoryRateLimiter(),
        commandTimeoutMs: 300,
        log: (message) => warnings.push(message),
      })
      limiters.push(limiter)
      return limiter
    }
    const [first, second] = [slowAware(), slowAware()]
    await Promise.all([first.consume(`${key}:warm-up`, 1), second.consume(`${key}:warm-up`, 1)])
    // Redis runs one script at a time: this one keeps it busy for 400 ms, the checks queue behind it.
    const busy = redis().eval(
      "local start = redis.call('TIME') local function ms(t) return t[1] * 1000 + t[2] / 1000 end while ms(redis.call('TIME')) - ms(start) < 400 do end return 1",
      0,
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    const limit = 10
    const decisions = await Promise.all([...consumeAll(first, key, limit, 12), ...consumeAll(second, key, limit, 12)])
    await busy
    assert.equal(decisions.filter((d) => d.allowed).length, limit, 'exactly the limit admitted across both instances')
    assert.deepEqual(warnings, [], 'no check fell back to counting alone')
  })
})

function consumeAll(limiter: RateLimiter, key: string, limit: number, count: number) {
  return Array.from({ length: count }, () => limiter.consume(key, limit))
}
