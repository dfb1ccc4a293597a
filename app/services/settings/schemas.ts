import { z } from 'zod'
import { RATE_LIMIT_TIERS, type RateLimitTier } from '~/utils/rate-limit-tiers'

export const MAX_ALLOWED_ORIGINS = 20

/** An http(s) origin such as `https://app.example.com` or `http://localhost:3000`, stored as the URL's origin. */
export const originSchema = z
  .string({ error: 'Origin must be a string' })
  .trim()
  .max(255, 'Origin must be at most 255 characters')
  .transform((value, ctx) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a URL; write an origin such as https://app.example.com` })
      return z.NEVER
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} must start with http:// or https://` })
      return z.NEVER
    }
    const hasMore = url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')
    if (hasMore || /\/./.test(value.replace(/^https?:\/\//i, ''))) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} must be an origin only: scheme, host and optional port, no path` })
      return z.NEVER
    }
    return url.origin
  })

export const projectSettingsSchema = z.object({
  description: z
    .string({ error: 'Description must be text' })
    .trim()
    .max(500, 'Description must be at most 500 characters')
    .default(''),
  /** Browser origins allowed to upload directly into the project. */
  allowedOrigins: z
    .array(originSchema, { error: 'Allowed origins must be a list of origins' })
    .max(MAX_ALLOWED_ORIGINS, `At most ${MAX_ALLOWED_ORIGINS} allowed origins`)
    .transform((origins) => [...new Set(origins)])
    .default([]),
})

export type ProjectSettings = z.output<typeof projectSettingsSchema>

/**
 * The dashboard's form of the project settings: allowed origins are typed one per line, and an
 * invalid line is reported on the field itself (a textarea has no per-item fields).
 */
export const projectSettingsFormSchema = z.object({
  description: projectSettingsSchema.shape.description,
  allowedOrigins: z
    .string()
    .optional()
    .transform((text, ctx) =>
      (text ?? '')
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean)
        .flatMap((line) => {
          const origin = originSchema.safeParse(line)
          if (origin.success) return [origin.data]
          for (const issue of origin.error.issues) ctx.addIssue({ code: 'custom', message: issue.message })
          return []
        }),
    )
    .pipe(projectSettingsSchema.shape.allowedOrigins.unwrap()),
})

export const THEMES = ['system', 'light', 'dark'] as const

function isTimeZone(name: string) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

export const userSettingsSchema = z.object({
  theme: z.enum(THEMES, { error: 'Theme must be system, light or dark' }).default('system'),
  timezone: z
    .string({ error: 'Time zone must be text' })
    .trim()
    .min(1, { message: 'Time zone is required', abort: true })
    .max(64, { message: 'Time zone must be at most 64 characters', abort: true })
    .refine(isTimeZone, { message: 'Unknown time zone; use an IANA name such as Europe/Paris or UTC' })
    .default('UTC'),
})

export type UserSettings = z.output<typeof userSettingsSchema>

export const MAX_RATE_LIMIT_OVERRIDE = 1_000_000

const requestsPerHour = (tier: RateLimitTier) =>
  z
    .number({ error: `${tier} must be a number of requests per hour` })
    .int(`${tier} must be a whole number of requests per hour`)
    .min(1, `${tier} must be at least 1 request per hour`)
    .max(MAX_RATE_LIMIT_OVERRIDE, `${tier} must be at most ${MAX_RATE_LIMIT_OVERRIDE.toLocaleString('en-US')} requests per hour`)
    .optional()

/** Requests per hour per tier that replace the defaults for one project; an absent tier keeps its default. */
export const rateLimitOverridesSchema = z.strictObject(
  {
    READ: requestsPerHour('READ'),
    STANDARD: requestsPerHour('STANDARD'),
    WRITE: requestsPerHour('WRITE'),
    EXPENSIVE: requestsPerHour('EXPENSIVE'),
    DELETE: requestsPerHour('DELETE'),
    ADMIN: requestsPerHour('ADMIN'),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `Unknown tier ${issue.keys.join(', ')}; valid ones: ${RATE_LIMIT_TIERS.join(', ')}`
        : 'Rate-limit overrides must be an object of tiers and requests per hour',
  },
)

export type RateLimitOverrides = z.output<typeof rateLimitOverridesSchema>

/** The same tiers as a form, which also posts its `intent` (the strict API schema would refuse it). */
export const rateLimitOverridesFormSchema = z.object(rateLimitOverridesSchema.shape)
