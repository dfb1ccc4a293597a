import { remember } from '@epic-web/remember'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import type { RateLimitTier } from '~/utils/rate-limiter.server'
import { METRICS, NO_TENANT, statusClassOf, type Metric } from './metrics'

export const HOUR_MS = 3_600_000
const SEPARATOR = '\u0000'
const INDEX = Object.fromEntries(METRICS.map((metric, index) => [metric, index])) as Record<Metric, number>

/** Counts taken from a meter for one flush: activity per `project␀tenant␀hour`, API calls per `project␀hour␀tier␀class`. */
export interface PendingUsage {
  activity: Map<string, Float64Array>
  requests: Map<string, number>
}

/**
 * In-memory usage counters of this process (ADR 018): a request adds to a map entry, never to the
 * database; the flush takes the maps and writes additive upserts. The number of distinct entries
 * is bounded: past `maxKeys` new entries are dropped (and counted, and logged at the next flush)
 * rather than growing without limit.
 */
export class UsageMeter {
  private activity = new Map<string, Float64Array>()
  private requests = new Map<string, number>()
  dropped = 0

  constructor(
    readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds `amount` to a metric of a project (and tenant) in the current hour. */
  count(projectId: string, tenantId: string | null | undefined, metric: Metric, amount = 1) {
    const key = projectId + SEPARATOR + (tenantId ?? NO_TENANT) + SEPARATOR + Math.floor(this.now() / HOUR_MS)
    let counters = this.activity.get(key)
    if (!counters) {
      if (this.size() >= this.maxKeys) {
        this.dropped++
        return
      }
      counters = new Float64Array(METRICS.length)
      this.activity.set(key, counters)
    }
    counters[INDEX[metric]]! += amount
  }

  /** One API call of a project's key: counted by tier and status class; a 429 is also a rate-limit refusal. */
  countApiCall(projectId: string, tier: RateLimitTier, status: number) {
    const hour = Math.floor(this.now() / HOUR_MS)
    const key = projectId + SEPARATOR + hour + SEPARATOR + tier + SEPARATOR + statusClassOf(status)
    const current = this.requests.get(key)
    if (current === undefined && this.size() >= this.maxKeys) {
      this.dropped++
      return
    }
    this.requests.set(key, (current ?? 0) + 1)
    this.count(projectId, NO_TENANT, 'apiRequests')
    if (status === 429) this.count(projectId, NO_TENANT, 'rateLimited')
  }

  size() {
    return this.activity.size + this.requests.size
  }

  /** Takes everything counted so far; counting goes on into fresh maps. */
  take(): PendingUsage {
    const taken = { activity: this.activity, requests: this.requests }
    this.activity = new Map()
    this.requests = new Map()
    return taken
  }

  /** Puts back counts whose flush failed, within the same bound (what does not fit is dropped and counted). */
  restore(pending: PendingUsage) {
    for (const [key, counters] of pending.activity) {
      const current = this.activity.get(key)
      if (current) for (let i = 0; i < counters.length; i++) current[i]! += counters[i]!
      else if (this.size() < this.maxKeys) this.activity.set(key, counters)
      else this.dropped++
    }
    for (const [key, requests] of pending.requests) {
      const current = this.requests.get(key)
      if (current !== undefined) this.requests.set(key, current + requests)
      else if (this.size() < this.maxKeys) this.requests.set(key, requests)
      else this.dropped++
    }
  }
}

export const splitKey = (key: string) => key.split(SEPARATOR)

/** The process's meter, shared by the host (transform fast path) and the Remix build. */
export function usageMeter(): UsageMeter {
  return remember('carcosa.usage-meter', () => new UsageMeter(getConfig().USAGE_MAX_PENDING_KEYS))
}

/** Metering must never fail the request it counts. */
function safely(count: (meter: UsageMeter) => void) {
  try {
    count(usageMeter())
  } catch (error) {
    logger.warn({ err: error as Error }, 'usage metering failed')
  }
}

export const meterUpload = (projectId: string, tenantId: string | null, bytes: number) =>
  safely((meter) => {
    meter.count(projectId, tenantId, 'uploads')
    meter.count(projectId, tenantId, 'uploadBytes', bytes)
  })

export const meterDownload = (projectId: string, tenantId: string | null, bytes: number) =>
  safely((meter) => {
    meter.count(projectId, tenantId, 'downloads')
    meter.count(projectId, tenantId, 'downloadBytes', bytes)
  })

/** A transform answered: rendered now (with its render time) or from a cache; `bytes` sent (0 for a 304). */
export const meterTransform = (projectId: string, tenantId: string | null, answer: { rendered: boolean; bytes: number; renderMs?: number }) =>
  safely((meter) => {
    if (answer.rendered) {
      meter.count(projectId, tenantId, 'transforms')
      meter.count(projectId, tenantId, 'transformMs', Math.round(answer.renderMs ?? 0))
    } else {
      meter.count(projectId, tenantId, 'transformCacheHits')
    }
    if (answer.bytes > 0) meter.count(projectId, tenantId, 'transformBytes', answer.bytes)
  })

export const meterTransformRefusal = (projectId: string) => safely((meter) => meter.count(projectId, NO_TENANT, 'rateLimited'))

export const meterApiCall = (projectId: string, tier: RateLimitTier, status: number) =>
  safely((meter) => meter.countApiCall(projectId, tier, status))
