import { z } from 'zod'

/** JSON stored with an upload is bounded: it travels with every callback and claim. */
export const MAX_UPLOAD_METADATA_BYTES = 16 * 1024
/** What an upload's completion callback returned (serverData), kept for duplicate reports. */
export const MAX_CALLBACK_RESULT_BYTES = 64 * 1024

const jsonBytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length

export const uploadMetadataSchema = z
  .record(z.string(), z.json(), { error: 'metadata must be a JSON object' })
  .refine((value) => jsonBytes(value) <= MAX_UPLOAD_METADATA_BYTES, {
    message: `metadata must be at most ${MAX_UPLOAD_METADATA_BYTES / 1024} KiB of JSON`,
  })

export const callbackResultSchema = z
  .json({ error: 'serverData must be JSON' })
  .refine((value) => jsonBytes(value) <= MAX_CALLBACK_RESULT_BYTES, {
    message: `serverData must be at most ${MAX_CALLBACK_RESULT_BYTES / 1024} KiB of JSON`,
  })

/** `image/png`, a family `image/*`, or `*\/*`. */
const typePatternSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(255)
  .regex(
    /^(?:\*\/\*|[a-z0-9][a-z0-9!#$&^_.+-]*\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*))$/,
    'each allowed type must be a media type, a family such as image/*, or */*',
  )

/** The limits of the file route an upload is made for (an SDK route handler's), enforced by Carcosa. */
export const uploadRouteSchema = z.object({
  slug: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'route.slug must be 1-64 letters, digits, _ or -')
    .describe("The route handler's slug"),
  maxFileSize: z
    .number()
    .int('route.maxFileSize must be a whole number of bytes')
    .min(0)
    .optional()
    .describe('Largest file the route accepts, in bytes'),
  allowedTypes: z.array(typePatternSchema).min(1).max(20).optional().describe('Media types or families (image/*) the route accepts'),
})
export type UploadRoute = z.output<typeof uploadRouteSchema>

const typeMatches = (contentType: string, pattern: string) =>
  pattern === '*/*' || (pattern.endsWith('/*') ? contentType.startsWith(pattern.slice(0, -1)) : contentType === pattern)

/** Why an upload breaks its route's limits, or null; the same rule at init and at completion. */
export function routeViolation(
  route: { slug: string | null; maxBytes: number | null; types: string[] },
  upload: { contentType: string; size: number },
): { kind: 'type' | 'size'; message: string } | null {
  if (!route.slug) return null
  if (route.types.length > 0 && !route.types.some((pattern) => typeMatches(upload.contentType, pattern))) {
    return { kind: 'type', message: `The route ${route.slug} does not accept ${upload.contentType} files; allowed: ${route.types.join(', ')}.` }
  }
  if (route.maxBytes !== null && upload.size > route.maxBytes) {
    return {
      kind: 'size',
      message: `The file is ${upload.size} bytes; the route ${route.slug} accepts at most ${route.maxBytes} bytes per file.`,
    }
  }
  return null
}
