import type { Actor } from '~/services/actor'
import { DEFAULT_TIER_LIMITS, getRateLimiter, type RateLimitTier } from '~/utils/rate-limiter.server'
import type { RequestMeta } from '~/utils/request.server'
import type { Operation } from './operation.server'
import { problemResponse } from './problem.server'

/** A key's project may set its own limits (resolved with the key); everyone else has the defaults. */
function limitFor(tier: RateLimitTier, actor: Actor | null): number {
  if (actor?.type !== 'api-key') return DEFAULT_TIER_LIMITS[tier]
  return actor.scope.rateLimitOverrides[tier] ?? DEFAULT_TIER_LIMITS[tier]
}

/**
 * Counts the call against its tier for the caller (API key, user, or IP when anonymous) and returns
 * the X-RateLimit-* headers, plus a 429 problem when the limit is spent.
 */
export async function applyRateLimit(operation: Operation, actor: Actor | null, meta: RequestMeta) {
  const subject =
    actor?.type === 'api-key' ? `key:${actor.apiKeyId}` : actor ? `user:${actor.userId}` : `ip:${meta.ipAddress ?? 'unknown'}`
  const limit = limitFor(operation.tier, actor)
  const decision = await getRateLimiter().consume(`${operation.tier}:${subject}`, limit)
  const headers = new Headers({
    'X-RateLimit-Limit': String(decision.limit),
    'X-RateLimit-Remaining': String(decision.remaining),
    'X-RateLimit-Reset': String(Math.ceil(decision.resetAt / 1000)),
  })
  if (decision.allowed) return { headers }
  headers.set('Retry-After', String(Math.max(1, decision.retryAfterSeconds)))
  const refusal = problemResponse(
    {
      status: 429,
      detail: `The ${operation.tier} rate limit of ${decision.limit} requests per hour is spent; retry in ${decision.retryAfterSeconds} s.`,
    },
    headers,
  )
  return { headers, refusal }
}
