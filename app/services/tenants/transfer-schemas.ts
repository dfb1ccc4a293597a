import { z } from 'zod'
import { optionalProjectId } from '../project-scope'
import { planNameSchema } from './plan-schemas'
import { tenantMetadataSchema, tenantNameSchema, tenantSlugSchema, tenantStatusSchema } from './schemas'

/** Rows one import may carry: the whole import is one transaction. */
export const MAX_IMPORT_ROWS = 1000
/** Bytes of an import body (JSON or CSV). */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024

/** The columns of an export, and of a CSV import (others are ignored, so an export imports again). */
export const TRANSFER_COLUMNS = ['slug', 'name', 'status', 'plan', 'metadata', 'fileCount', 'storedBytes', 'createdAt'] as const

/**
 * One tenant to create or update, by slug. A field left out keeps the tenant's value (or the
 * default for a new one); `plan` names a plan of the project, empty or null for none.
 */
export const importRowSchema = z.object({
  slug: tenantSlugSchema,
  name: tenantNameSchema,
  status: tenantStatusSchema.optional(),
  plan: z
    .union([planNameSchema, z.literal(''), z.null()])
    .optional()
    .transform((plan) => (plan === '' ? null : plan)),
  metadata: tenantMetadataSchema.optional(),
})

const booleanish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((text) => text === 'true' || text === '1')])

export const importTenantsSchema = z
  .object({
    projectId: optionalProjectId,
    dryRun: booleanish.optional().default(false).describe('Report what would change without changing anything'),
    tenants: z
      .array(z.unknown())
      .max(MAX_IMPORT_ROWS, `At most ${MAX_IMPORT_ROWS} tenants per import`)
      .optional()
      .describe('Rows {slug, name, status?, plan?, metadata?}'),
    csv: z
      .string()
      .max(MAX_IMPORT_BYTES)
      .optional()
      .describe(`CSV with a header row naming ${TRANSFER_COLUMNS.slice(0, 5).join(', ')} (slug and name required)`),
  })
  .refine((input) => (input.tenants === undefined) !== (input.csv === undefined), { message: 'Send either tenants (JSON rows) or csv' })

export const exportTenantsQuerySchema = z.object({
  projectId: optionalProjectId,
  format: z.enum(['csv', 'json']).default('json').describe('csv or json (the default)'),
})

export type ImportRow = z.output<typeof importRowSchema>
export type ImportTenantsInput = z.output<typeof importTenantsSchema>

/** The dashboard's import form: CSV or JSON text pasted (or typed), previewed as a dry run first. */
export const importTenantsFormSchema = z
  .object({
    format: z.enum(['csv', 'json'], { error: 'Choose CSV or JSON' }),
    data: z
      .string({ error: 'Paste the tenants to import' })
      .min(1, 'Paste the tenants to import')
      .max(MAX_IMPORT_BYTES, `At most ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`),
    dryRun: z
      .string()
      .optional()
      .transform((value) => value === 'true'),
  })
  .transform((input, context) => {
    if (input.format === 'csv') return { dryRun: input.dryRun, csv: input.data }
    let parsed: unknown
    try {
      parsed = JSON.parse(input.data)
    } catch (error) {
      context.addIssue({ code: 'custom', path: ['data'], message: `This is not valid JSON: ${(error as Error).message}` })
      return z.NEVER
    }
    const rows = Array.isArray(parsed) ? parsed : (parsed as { tenants?: unknown } | null)?.tenants
    if (!Array.isArray(rows)) {
      context.addIssue({ code: 'custom', path: ['data'], message: 'JSON must be an array of tenants, or {"tenants": [...]}' })
      return z.NEVER
    }
    if (rows.length > MAX_IMPORT_ROWS) {
      context.addIssue({ code: 'custom', path: ['data'], message: `At most ${MAX_IMPORT_ROWS} tenants per import` })
      return z.NEVER
    }
    return { dryRun: input.dryRun, tenants: rows as unknown[] }
  })
