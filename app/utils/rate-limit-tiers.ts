/** The rate-limit tiers of the API conventions (shared by the limiter, the API and the dashboard). */
export const RATE_LIMIT_TIERS = ['READ', 'STANDARD', 'WRITE', 'EXPENSIVE', 'DELETE', 'ADMIN'] as const

export type RateLimitTier = (typeof RATE_LIMIT_TIERS)[number]

/** Requests per RATE_LIMIT_WINDOW_MS (one hour) for each tier. */
export const DEFAULT_TIER_LIMITS: Record<RateLimitTier, number> = {
  READ: 10_000,
  STANDARD: 1_000,
  WRITE: 500,
  EXPENSIVE: 100,
  DELETE: 50,
  ADMIN: 20,
}

export const RATE_LIMIT_WINDOW_MS = 3_600_000
