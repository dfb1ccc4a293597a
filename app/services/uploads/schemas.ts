import { z } from 'zod'
import { uploadMetadataSchema, uploadRouteSchema } from './upload-route'

/** S3's own ceiling for one object. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4
/** S3 numbers parts 1..10000. */
export const MAX_PARTS = 10_000
/** Part URLs are signed in batches of at most this many. */
export const MAX_PART_BATCH = 100

const id = z.string().min(1).max(64)

/** `type/subtype`, lowercased, parameters (`; charset=`) dropped. */
export const contentTypeSchema = z
  .string({ error: 'contentType must be a media type such as image/png' })
  .trim()
  .max(255, 'contentType must be at most 255 characters')
  .transform((value) => value.split(';')[0]!.trim().toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'contentType must be a media type such as image/png'))

export const initUploadSchema = z
  .object({
    projectId: id.optional().describe("The project; an API key's own project when omitted"),
    fileName: z
      .string({ error: 'fileName must be text' })
      .min(1, 'fileName is required')
      .max(1024, 'fileName must be at most 1024 characters')
      .describe('The client-side name; sanitised and kept as the file name, never used raw in the object key'),
    contentType: contentTypeSchema,
    size: z
      .number({ error: 'size must be a number of bytes' })
      .int('size must be a whole number of bytes')
      .min(0, 'size cannot be negative')
      .max(MAX_OBJECT_BYTES, `size must be at most ${MAX_OBJECT_BYTES} bytes`),
    tenantId: id.optional().describe('A tenant of the same project to file the upload under'),
    tenantSlug: z.string().min(1).max(64).optional().describe('A tenant of the same project, by its slug (instead of tenantId)'),
    multipart: z
      .boolean({ error: 'multipart must be true or false' })
      .optional()
      .describe('Force a resumable multipart upload; uploads above 100 MiB are multipart anyway'),
    metadata: uploadMetadataSchema
      .optional()
      .describe('JSON stored with the upload (at most 16 KiB) and handed back with its completion callback'),
    callbackUrl: z
      .string()
      .max(2048, 'callbackUrl must be at most 2048 characters')
      .optional()
      .describe(
        'Where Carcosa POSTs a signed `upload.completed` webhook (Standard Webhooks) when the upload landed but nobody reported completion',
      ),
    route: uploadRouteSchema.optional().describe("The file route's limits, enforced here and again at completion"),
  })
  .refine((input) => !(input.tenantId && input.tenantSlug), { message: 'Give tenantId or tenantSlug, not both', path: ['tenantSlug'] })
export type InitUploadInput = z.output<typeof initUploadSchema>

export const partNumberSchema = z.coerce
  .number({ error: 'partNumber must be a number' })
  .int('partNumber must be a whole number')
  .min(1, 'partNumber must be at least 1')
  .max(MAX_PARTS, `partNumber must be at most ${MAX_PARTS}`)

export const signPartsSchema = z.object({
  partNumbers: z
    .array(partNumberSchema, { error: 'partNumbers must be a list of part numbers' })
    .min(1, 'partNumbers needs at least one part number')
    .max(MAX_PART_BATCH, `At most ${MAX_PART_BATCH} part numbers per call`)
    .transform((numbers) => [...new Set(numbers)].sort((a, b) => a - b)),
})

export const partParams = z.object({ id: id.describe('The upload id'), partNumber: partNumberSchema.describe('The part number, 1-based') })

/** What the client reports after PUTting a part: the ETag header the bucket answered, and the byte count. */
export const recordPartSchema = z.object({
  etag: z
    .string({ error: 'etag must be the ETag header of the part' })
    .trim()
    .min(1, 'etag is required')
    .max(200, 'etag must be at most 200 characters'),
  size: z.number({ error: 'size must be a number of bytes' }).int('size must be a whole number of bytes').min(1, 'size must be at least 1 byte'),
})
export type RecordPartInput = z.output<typeof recordPartSchema>

const completedPart = z.object({ partNumber: partNumberSchema, etag: recordPartSchema.shape.etag })

export const completeUploadSchema = z.object({
  uploadId: id,
  parts: z
    .array(completedPart, { error: 'parts must be a list of { partNumber, etag }' })
    .min(1, 'parts needs at least one part')
    .max(MAX_PARTS, `At most ${MAX_PARTS} parts`)
    .optional()
    .describe('Multipart only: every part with its ETag; the recorded parts when omitted'),
})
export type CompleteUploadInput = z.output<typeof completeUploadSchema>

/** Query of the streamed upload (the body is multipart/form-data). */
export const streamUploadQuerySchema = z.object({
  projectId: id.optional().describe("The project; an API key's own project when omitted"),
})

/** The text fields of a streamed upload's form, which must come before the `file` part. */
export const streamUploadFieldsSchema = z.object({
  tenantId: id.optional().describe('A tenant of the same project (send this field before the file part)'),
  size: z.coerce
    .number({ error: 'size must be a number of bytes' })
    .int('size must be a whole number of bytes')
    .min(0, 'size cannot be negative')
    .optional()
    .describe(
      "The file's exact size in bytes (before the file part): lets Carcosa stream it to the bucket in one PUT; a body of another length fails",
    ),
  clientReference: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/, 'clientReference must be 8-64 letters, digits, _ or -')
    .optional()
    .describe(
      "The client's own tag for this upload (before the file part): echoed in the upload's first realtime events, so a page can tell its upload apart before it knows the id",
    ),
  file: z.string().describe('The file itself: one part named `file`, its filename and Content-Type as the client declares them'),
})
