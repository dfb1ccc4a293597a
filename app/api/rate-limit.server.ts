import type { Actor } from '~/services/actor'
import { DEFAULT_TIER_LIMITS, getRateLimiter, type RateLimitTier } from '~/utils/rate-limiter.server'
import type { RequestMeta } from '~/utils/request.server'
import type { Operation } from './operation.server'
import { problemAnswer, type TextAnswer } from './problem.server'

/** A key's project may set its own limits (resolved with the key); everyone else has the defaults. */
function limitFor(tier: RateLimitTier, actor: Actor | null): number {
  if (actor?.type !== 'api-key') return DEFAULT_TIER_LIMITS[tier]
  return actor.scope.rateLimitOverrides[tier] ?? DEFAULT_TIER_LIMITS[tier]
}

/**
 * Counts the call against its tier for the caller (API key, user, or IP when anonymous) and returns
 * the X-RateLimit-* headers (lower case, as `Headers` gives them), plus a 429 problem when the limit is spent.
 */
export async function applyRateLimit(
  operation: Operation,
  actor: Actor | null,
  meta: RequestMeta,
): Promise<{ headers: Record<string, string>; refusal?: TextAnswer }> {
  const subject = actor?.type === 'api-key' ? `key:${actor.apiKeyId}` : actor ? `user:${actor.userId}` : `ip:${meta.ipAddress ?? 'unknown'}`
  const limit = limitFor(operation.tier, actor)
  const decision = await getRateLimiter().consume(`${operation.tier}:${subject}`, limit)
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(decision.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(Math.ceil(decision.resetAt / 1000)),
  }
  if (decision.allowed) return { headers }
  headers['retry-after'] = String(Math.max(1, decision.retryAfterSeconds))
  const refusal = problemAnswer(
    {
      status: 429,
      detail: `The ${operation.tier} rate limit of ${decision.limit} requests per hour is spent; retry in ${decision.retryAfterSeconds} s.`,
    },
    headers,
  )
  return { headers, refusal }
}
