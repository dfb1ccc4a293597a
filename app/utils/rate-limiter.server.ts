import { randomUUID } from 'node:crypto'
import { remember } from '@epic-web/remember'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { getConfig } from './config.server'
import { logger } from './logger.server'

import { RATE_LIMIT_WINDOW_MS } from './rate-limit-tiers'
import { releaseRemembered } from './singletons.server'

export { DEFAULT_TIER_LIMITS, RATE_LIMIT_TIERS, RATE_LIMIT_WINDOW_MS, type RateLimitTier } from './rate-limit-tiers'

export interface RateLimitDecision {
  allowed: boolean
  limit: number
  /** Requests still admitted in the window after this one. */
  remaining: number
  /**
   * Epoch ms. Refused: when a request is next sure to be admitted (if nothing else consumes). Allowed:
   * when everything counted so far has left the window and `remaining` is back at `limit`.
   */
  resetAt: number
  /** Whole seconds until resetAt when refused (at least 1); 0 when allowed. */
  retryAfterSeconds: number
}

export interface RateLimiter {
  /**
   * Counts one request against `key` when fewer than `limit` were admitted in the last `windowMs`
   * (default one hour). Refused requests are not counted. A key keeps one window length: calling it
   * with another windowMs starts a separate count.
   */
  consume(key: string, limit: number, windowMs?: number): Promise<RateLimitDecision>
  close(): Promise<void>
}

/*
 * Algorithm: a sliding log kept at sub-window resolution. The window is cut into SUB_WINDOWS slices
 * aligned on the epoch; a key keeps one counter per slice, so its memory is bounded (SUB_WINDOWS + 1
 * counters) whatever the limit. A request counts until its slice is more than SUB_WINDOWS slices old,
 * i.e. for between W and W + W/SUB_WINDOWS. Hence never more than `limit` admitted in any span of W
 * (a fresh key admits exactly `limit` and refuses the next, however the requests fall on slice
 * boundaries), at the price of forgetting a request up to one slice (one minute per hour) late.
 * The two-window weighted counter was not chosen: it can admit `limit` + 1 across a window boundary.
 */
const SUB_WINDOWS = 60
const SLOTS = SUB_WINDOWS + 1

const sliceOf = (now: number, windowMs: number) => Math.floor((now * SUB_WINDOWS) / windowMs)
/** First epoch ms at which a request of slice `slice` no longer counts. */
const releaseOf = (slice: number, windowMs: number) => Math.ceil(((slice + SLOTS) * windowMs) / SUB_WINDOWS)

function checkArguments(limit: number, windowMs: number) {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`rate limit must be a whole number >= 0, got ${limit}`)
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) throw new RangeError(`rate limit window must be whole ms >= 1, got ${windowMs}`)
}

function decide(allowed: boolean, limit: number, counted: number, resetAt: number, now: number): RateLimitDecision {
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - counted),
    resetAt,
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((resetAt - now) / 1000)),
  }
}

interface KeyCounts {
  windowMs: number
  /** Newest slice counted; counts[slice % SLOTS] holds the slices newest - SUB_WINDOWS .. newest. */
  newest: number
  total: number
  counts: Uint32Array
}

/**
 * One process's limiter: an LRU of at most `maxKeys` keys (default 100,000). No timers: stale slices
 * are dropped when their key is next used; the least recently used key is forgotten when the cache is
 * full (its count starts again from zero).
 */
export function createMemoryRateLimiter(options: { maxKeys?: number; now?: () => number } = {}): RateLimiter {
  const now = options.now ?? Date.now
  const keys = new LRUCache<string, KeyCounts>({ max: options.maxKeys ?? 100_000 })

  function consumeNow(key: string, limit: number, windowMs: number): RateLimitDecision {
    checkArguments(limit, windowMs)
    const time = now()
    let entry = keys.get(key)
    if (!entry || entry.windowMs !== windowMs) {
      entry = { windowMs, newest: sliceOf(time, windowMs), total: 0, counts: new Uint32Array(SLOTS) }
      keys.set(key, entry)
    }
    // A clock that steps back keeps counting in the newest slice rather than resurrecting old ones.
    const current = Math.max(sliceOf(time, windowMs), entry.newest)
    if (current - entry.newest >= SLOTS) {
      entry.counts.fill(0)
      entry.total = 0
    } else {
      for (let slice = entry.newest + 1; slice <= current; slice++) {
        const slot = slice % SLOTS
        entry.total -= entry.counts[slot]!
        entry.counts[slot] = 0
      }
    }
    entry.newest = current

    if (entry.total < limit) {
      const slot = current % SLOTS
      entry.counts[slot] = entry.counts[slot]! + 1
      entry.total++
      return decide(true, limit, entry.total, releaseOf(current, windowMs), time)
    }
    return decide(false, limit, entry.total, refusedUntil(entry, limit, windowMs, current), time)
  }

  return {
    consume: async (key, limit, windowMs = RATE_LIMIT_WINDOW_MS) => consumeNow(key, limit, windowMs),
    close: async () => keys.clear(),
  }
}

/** When enough of the oldest slices have left the window for one more request to fit. */
function refusedUntil(entry: KeyCounts, limit: number, windowMs: number, current: number) {
  const excess = entry.total - limit + 1
  let released = 0
  for (let slice = current - SUB_WINDOWS; slice <= current; slice++) {
    released += entry.counts[slice % SLOTS]!
    if (released >= excess) return releaseOf(slice, windowMs)
  }
  return releaseOf(current, windowMs) // limit 0: nothing is ever admitted
}

// The same algorithm in one atomic script: one hash per key and window, one field per slice.
// KEYS[1] the hash, KEYS[2] this check's id; ARGV now, limit, windowMs, SUB_WINDOWS. Returns
// {allowed, counted, resetAt}. A check sent again under the same id (a retry after a timeout, when
// the first attempt may have run) gets the first answer instead of being counted twice.
const REDIS_SCRIPT = `
local answered = redis.call('GET', KEYS[2])
if answered then return cjson.decode(answered) end
local function check()
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local subWindows = tonumber(ARGV[4])
local current = math.floor(now * subWindows / window)
local oldest = current - subWindows
local fields = redis.call('HGETALL', KEYS[1])
local total, newest, live, stale = 0, current, {}, {}
for i = 1, #fields, 2 do
  local slice = tonumber(fields[i])
  if slice < oldest then
    stale[#stale + 1] = fields[i]
  else
    local count = tonumber(fields[i + 1])
    total = total + count
    live[#live + 1] = { slice, count }
    if slice > newest then newest = slice end
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local function releaseOf(slice)
  return math.ceil((slice + subWindows + 1) * window / subWindows)
end
if total < limit then
  redis.call('HINCRBY', KEYS[1], string.format('%d', current), 1)
  -- Kept one slice longer than it counts, for clocks of other instances running slightly behind.
  redis.call('PEXPIRE', KEYS[1], string.format('%d', releaseOf(newest) + math.ceil(window / subWindows) - now))
  return { 1, total + 1, releaseOf(newest) }
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local excess, released = total - limit + 1, 0
for _, entry in ipairs(live) do
  released = released + entry[2]
  if released >= excess then return { 0, total, releaseOf(entry[1]) } end
end
return { 0, total, releaseOf(newest) }
end
local result = check()
redis.call('SET', KEYS[2], cjson.encode(result), 'PX', 60000)
return result
`

const REDIS_KEY_PREFIX = 'carcosa:rate-limit:'
/** Defaults sized for a loaded host, where a Redis round trip of a few hundred ms is slow, not down. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000
export const REDIS_COMMAND_TIMEOUT_MS = 2_000
const RETRY_DELAY_MS = 50
const WARNING_INTERVAL_MS = 30_000

type LimiterRedis = Redis & {
  carcosaRateLimit(
    key: string,
    checkKey: string,
    now: number,
    limit: number,
    windowMs: number,
    subWindows: number,
  ): Promise<[number, number, number]>
}

/**
 * Shares limits between instances through Redis: one EVALSHA per check. A check that fails or
 * times out is sent once more under the same id (counted once either way); when that fails too,
 * the call is answered by `fallback` (this instance's own limits: fail open to per-instance limits
 * rather than refusing everything), and `log` gets a warning at most every 30 s. `close` closes the
 * connection and the fallback.
 */
export function createRedisRateLimiter(options: {
  url: string
  fallback: RateLimiter
  log?: (message: string) => void
  now?: () => number
  commandTimeoutMs?: number
  connectTimeoutMs?: number
}): RateLimiter {
  const { fallback } = options
  const now = options.now ?? Date.now
  const log = options.log ?? ((message: string) => logger.warn(message))
  const connectTimeout = options.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS
  // No offline queue: while Redis is away a check fails at once and falls back, instead of waiting
  // for a reconnection.
  const redis = new Redis(options.url, {
    connectTimeout,
    commandTimeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectionName: 'carcosa-rate-limiter',
  }) as LimiterRedis
  redis.defineCommand('carcosaRateLimit', { numberOfKeys: 2, lua: REDIS_SCRIPT })

  let lastWarningAt = -Infinity
  const warn = (error: unknown) => {
    const time = now()
    if (time - lastWarningAt < WARNING_INTERVAL_MS) return
    lastWarningAt = time
    const reason = error instanceof Error ? error.message : String(error)
    log(`rate limiter: Redis unavailable (${reason}); limits are per instance until it answers again`)
  }
  redis.on('error', warn)

  // Checks during the first connection attempt wait for it (at most the connect timeout), so a
  // freshly started instance counts in Redis from its first request; later outages never wait.
  let firstConnection: Promise<void> | undefined = new Promise<void>((resolve) => {
    const settle = () => {
      clearTimeout(timer)
      redis.off('ready', settle).off('error', settle).off('end', settle)
      firstConnection = undefined
      resolve()
    }
    const timer = setTimeout(settle, connectTimeout)
    timer.unref()
    redis.once('ready', settle).once('error', settle).once('end', settle)
  })

  let closed = false
  return {
    async consume(key, limit, windowMs = RATE_LIMIT_WINDOW_MS) {
      checkArguments(limit, windowMs)
      if (firstConnection) await firstConnection
      if (closed) return fallback.consume(key, limit, windowMs)
      const time = now()
      const checkKey = `${REDIS_KEY_PREFIX}check:${randomUUID()}`
      const attempt = () => redis.carcosaRateLimit(`${REDIS_KEY_PREFIX}${windowMs}:${key}`, checkKey, time, limit, windowMs, SUB_WINDOWS)
      try {
        let answer: [number, number, number]
        try {
          answer = await attempt()
        } catch {
          // Slow is not down: one more try, answered once even if the first attempt ran.
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS))
          if (closed) return fallback.consume(key, limit, windowMs)
          answer = await attempt()
        }
        const [allowed, counted, resetAt] = answer
        return decide(allowed === 1, limit, counted, resetAt, time)
      } catch (error) {
        warn(error)
        return fallback.consume(key, limit, windowMs)
      }
    },
    async close() {
      closed = true
      await redis.quit().catch(() => redis.disconnect())
      await fallback.close()
    },
  }
}

const RATE_LIMITER = 'carcosa.rate-limiter'

/** The process's limiter: Redis when REDIS_URL is set (with the memory limiter as fallback), else memory. Created once, lazily. */
export function getRateLimiter(): RateLimiter {
  return remember(RATE_LIMITER, () => {
    const { REDIS_URL: url, RATE_LIMIT_REDIS_TIMEOUT_MS } = getConfig()
    const memory = createMemoryRateLimiter()
    return url ? createRedisRateLimiter({ url, fallback: memory, commandTimeoutMs: RATE_LIMIT_REDIS_TIMEOUT_MS }) : memory
  })
}

/** Closes the process's limiter (its Redis connection), if one was made. */
export function closeRateLimiter(): Promise<void> {
  return releaseRemembered(RATE_LIMITER, (limiter: RateLimiter) => limiter.close())
}
