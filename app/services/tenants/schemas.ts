import { z } from 'zod'
import { optionalProjectId } from '../project-scope'

/** A tenant's JSON metadata is bounded: it travels with every tenant answer. */
export const MAX_TENANT_METADATA_BYTES = 16 * 1024

export const tenantSlugSchema = z
  .string({ error: 'Tenant slug is required' })
  .trim()
  .toLowerCase()
  .min(2, 'Tenant slug must be at least 2 characters')
  .max(64, 'Tenant slug must be at most 64 characters')
  // Slugs name object-key segments and mirror ids from the developer's own system, hence `_` too.
  .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, 'Tenant slug may contain only lowercase letters, digits, and single hyphens or underscores between them')

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
})

/** The slug names existing object keys and file paths, so it does not change; name and metadata do. */
export const updateTenantSchema = z
  .object({ name: tenantNameSchema.optional(), metadata: tenantMetadataSchema.optional() })
  .refine((input) => input.name !== undefined || input.metadata !== undefined, { message: 'Send name, metadata or both' })

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

export type CreateTenantInput = z.output<typeof createTenantSchema>
export type UpdateTenantInput = z.output<typeof updateTenantSchema>
export type TenantMetadata = z.output<typeof tenantMetadataSchema>
