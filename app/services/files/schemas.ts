import { z } from 'zod'
import { pageQuerySchema } from '../pagination'

const idSchema = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .min(1, `${what} is required`)
    .max(64, `${what} is too long`)

/** `image/png`, or a whole family such as `image/*`. */
export const contentTypeFilterSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(255, 'contentType must be at most 255 characters')
  .regex(
    /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/,
    'contentType must be a media type such as image/png, or image/* for a family',
  )

export const fileFiltersSchema = z.object({
  tenantId: idSchema('tenantId').optional().describe("Only this tenant's files"),
  contentType: contentTypeFilterSchema.optional().describe('Exact media type, or `type/*` for a family (e.g. `image/*`)'),
  namePrefix: z
    .string()
    .max(255, 'namePrefix must be at most 255 characters')
    .optional()
    .describe('Names starting with this text, ignoring case'),
})

export const listFilesQuerySchema = pageQuerySchema.extend({
  projectId: idSchema('projectId').optional().describe("The project; an API key's own project when omitted"),
  ...fileFiltersSchema.shape,
})

export const MAX_BULK_DELETE = 100

export const bulkDeleteFilesSchema = z.object({
  ids: z
    .array(idSchema('File id'), { error: 'ids must be a list of file ids' })
    .min(1, 'Give at least one file id')
    .max(MAX_BULK_DELETE, `Give at most ${MAX_BULK_DELETE} file ids`)
    .transform((ids) => [...new Set(ids)]),
})

export const downloadQuerySchema = z.object({
  redirect: z
    .enum(['true', 'false'], { error: 'redirect must be true or false' })
    .default('true')
    .describe('`false` answers `{ url, expiresAt }` as JSON instead of a 302 to the URL'),
})

/** The dashboard's delete: a ticked box, so a stray click (or a form without JavaScript) deletes nothing. */
export const confirmFileDeletionSchema = z.object({
  confirm: z.literal('on', { error: 'Tick the box to confirm that the file should be deleted' }),
})

export type FileFilters = z.output<typeof fileFiltersSchema>
