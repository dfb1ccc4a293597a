import { z } from 'zod'
import { optionalProjectId } from '../project-scope'
import { limitFormFields, limitsSchema } from './limits'

export const TENANT_STATUS_NAMES = ['active', 'suspended', 'archived'] as const
export const tenantStatusSchema = z.enum(TENANT_STATUS_NAMES, { error: 'Status must be active, suspended or archived' })
const planIdSchema = z.string().min(1).max(64).nullable()

/** A tenant's JSON metadata is bounded: it travels with every tenant answer. */
export const MAX_TENANT_METADATA_BYTES = 16 * 1024

export const tenantSlugSchema = z
  .string({ error: 'Tenant slug is required' })
  .trim()
  .toLowerCase()
  .min(2, 'Tenant slug must be at least 2 characters')
  .max(64, 'Tenant slug must be at most 64 characters')
  // Slugs name object-key segments and mirror ids from the developer's own system, hence `_` too.
  .regex(
    /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/,
    'Tenant slug may contain only lowercase letters, digits, and single hyphens or underscores between them',
  )

export const tenantNameSchema = z
  .string({ error: 'Tenant name is required' })
  .trim()
  .min(1, 'Tenant name is required')
  .max(120, 'Tenant name must be at most 120 characters')

const metadataTooLarge = `Metadata must be at most ${MAX_TENANT_METADATA_BYTES / 1024} KiB of JSON`

/** A JSON object (not an array or a scalar), at most 16 KiB once serialised. */
export const tenantMetadataSchema = z
  .record(z.string(), z.json(), { error: 'Metadata must be a JSON object, e.g. {"plan": "pro"}' })
  // TextEncoder, not Buffer: the dashboard runs this schema in the browser too.
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= MAX_TENANT_METADATA_BYTES, { message: metadataTooLarge })

export const createTenantSchema = z.object({
  projectId: optionalProjectId,
  slug: tenantSlugSchema,
  name: tenantNameSchema,
  metadata: tenantMetadataSchema.optional(),
  status: tenantStatusSchema.optional().describe('active (the default), suspended or archived'),
  planId: planIdSchema.optional().describe('A plan of the same project'),
  limits: limitsSchema.optional().describe("Overrides of the plan's limits; null takes the plan's value"),
})

/** The slug names existing object keys and file paths, so it does not change; the rest may. */
export const updateTenantSchema = z
  .object({
    name: tenantNameSchema.optional(),
    metadata: tenantMetadataSchema.optional(),
    status: tenantStatusSchema.optional().describe('suspended refuses uploads, downloads and transforms; archived is read-only'),
    planId: planIdSchema.optional().describe('A plan of the same project, or null for none'),
    limits: limitsSchema.optional().describe("Overrides of the plan's limits: a limit left out is kept, null removes the override"),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: 'Send at least one of name, metadata, status, planId, limits',
  })

/** `GET /tenants`: exact slug lookup, or a search in names and slugs. */
export const tenantFiltersSchema = z.object({
  slug: z.string().trim().toLowerCase().min(1).max(64).optional().describe('Exactly this slug'),
  search: z.string().trim().min(1).max(120).optional().describe('Part of the name or slug, ignoring case'),
  status: tenantStatusSchema.optional().describe('Only tenants with this status'),
})

/** The dashboard's metadata: JSON text in a textarea, parsed here so a mistake gets a message that says where. */
const metadataTextSchema = z
  .string()
  .max(MAX_TENANT_METADATA_BYTES * 2, metadataTooLarge)
  .optional()
  .transform((text, context) => {
    if (!text?.trim()) return {}
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      context.addIssue({ code: 'custom', message: `Metadata is not valid JSON: ${(error as Error).message}` })
      return z.NEVER
    }
    const parsed = tenantMetadataSchema.safeParse(value)
    if (!parsed.success) {
      for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', message: issue.message })
      return z.NEVER
    }
    return parsed.data
  })

export const createTenantFormSchema = z.object({ slug: tenantSlugSchema, name: tenantNameSchema, metadata: metadataTextSchema })
export const updateTenantFormSchema = z.object({ name: tenantNameSchema, metadata: metadataTextSchema })
export const tenantStatusFormSchema = z.object({ status: tenantStatusSchema })
/** The tenant page's plan form: a plan (or none) and the overrides, empty for the plan's value. */
export const tenantPlanFormSchema = z.object({
  planId: z
    .string()
    .max(64)
    .optional()
    .transform((id) => id || null),
  ...limitFormFields,
})

export type CreateTenantInput = z.output<typeof createTenantSchema>
export type UpdateTenantInput = z.output<typeof updateTenantSchema>
export type TenantFilters = z.output<typeof tenantFiltersSchema>
export type TenantMetadata = z.output<typeof tenantMetadataSchema>
