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

export const MAX_ALLOWED_CONTENT_TYPES = 50

/** A media type a project accepts: exact (`image/png`) or a whole family (`image/*`). */
export const contentTypePatternSchema = z
  .string({ error: 'A content type must be text' })
  .trim()
  .toLowerCase()
  .max(100, 'A content type must be at most 100 characters')
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/, {
    error: (issue) => `${JSON.stringify(issue.input)} is not a content type; write e.g. image/png or image/*`,
  })

/** What a project accepts at upload: enforced when an upload starts and again when it completes. */
export const uploadRulesSchema = z.object({
  /** Empty means any type. */
  allowedContentTypes: z
    .array(contentTypePatternSchema, { error: 'Allowed content types must be a list of content types' })
    .max(MAX_ALLOWED_CONTENT_TYPES, `At most ${MAX_ALLOWED_CONTENT_TYPES} allowed content types`)
    .transform((types) => [...new Set(types)])
    .default([]),
  /** Bytes; null means only the server's own limit applies. */
  maxFileSize: z
    .number({ error: 'The maximum file size must be a number of bytes' })
    .int('The maximum file size must be a whole number of bytes')
    .min(1, 'The maximum file size must be at least 1 byte')
    .nullable()
    .default(null),
})

export type UploadRules = z.output<typeof uploadRulesSchema>

export const TRANSFORM_ACCESS_MODES = ['signed', 'public'] as const

/** Image transforms: who may request them, and what a URL may ask (ADR 010). */
export const transformSettingsSchema = z.object({
  /** `signed`: signed URLs (or API credentials) only; `public`: also unsigned URLs of public files. */
  access: z.enum(TRANSFORM_ACCESS_MODES, { error: 'Access must be signed or public' }).default('signed'),
  /** URLs may name a preset and nothing else. */
  presetsOnly: z.boolean({ error: 'presetsOnly must be true or false' }).default(false),
  /** Animated sources keep every frame (otherwise the first frame only). */
  allowAnimated: z.boolean({ error: 'allowAnimated must be true or false' }).default(false),
})

export type TransformSettings = z.output<typeof transformSettingsSchema>

export const projectSettingsSchema = z.object({
  description: z.string({ error: 'Description must be text' }).trim().max(500, 'Description must be at most 500 characters').default(''),
  /** Browser origins allowed to upload directly into the project. */
  allowedOrigins: z
    .array(originSchema, { error: 'Allowed origins must be a list of origins' })
    .max(MAX_ALLOWED_ORIGINS, `At most ${MAX_ALLOWED_ORIGINS} allowed origins`)
    .transform((origins) => [...new Set(origins)])
    .default([]),
  /** Upload rules; absent until first saved (then every upload path applies them). */
  uploads: uploadRulesSchema.optional(),
  /** Image transform access; absent means the defaults (signed URLs only). Kept when a save leaves it out. */
  transforms: transformSettingsSchema.optional(),
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
  allowedContentTypes: z
    .string()
    .optional()
    .transform((text) =>
      (text ?? '')
        .split(/[\r\n,]+/)
        .map((line) => line.trim())
        .filter(Boolean),
    )
    .pipe(uploadRulesSchema.shape.allowedContentTypes.unwrap()),
  maxFileSizeMb: z
    .number({ error: 'The maximum file size must be a number of megabytes' })
    .positive('The maximum file size must be more than 0 MB')
    .max(1024 * 1024, 'The maximum file size must be at most 1048576 MB')
    .optional(),
})

const MEGABYTE = 1024 * 1024

/** The settings a saved form stands for: the upload fields go back under `uploads`, sizes in bytes. */
export function projectSettingsFromForm(input: z.output<typeof projectSettingsFormSchema>): ProjectSettings {
  const { allowedContentTypes, maxFileSizeMb, ...rest } = input
  return {
    ...rest,
    uploads: { allowedContentTypes, maxFileSize: maxFileSizeMb === undefined ? null : Math.max(1, Math.round(maxFileSizeMb * MEGABYTE)) },
  }
}

/** The form's starting values for stored upload rules (sizes in megabytes). */
export function uploadRulesFormValues(rules: UploadRules | undefined) {
  return {
    allowedContentTypes: (rules?.allowedContentTypes ?? []).join('\n'),
    maxFileSizeMb: rules?.maxFileSize ? String(Number((rules.maxFileSize / MEGABYTE).toFixed(3))) : '',
  }
}

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
