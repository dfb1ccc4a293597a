import { z } from 'zod'
import { optionalProjectId } from '../project-scope'
import { tenantSlugSchema } from '../tenants/schemas'

/** Objects a preview reads at most (its counts say when it stopped early). */
export const MAX_PREVIEW_OBJECTS = 20_000
export const DEFAULT_PREVIEW_OBJECTS = 5_000
/** Entries of an explicit prefix-to-tenant map. */
export const MAX_TENANT_MAP_ENTRIES = 500

const keyPrefix = z.string({ error: 'prefix must be text' }).max(1024, 'prefix must be at most 1024 characters')

const endsInSlash = (value: string) => value === '' || value.endsWith('/')

export const tenantMapEntrySchema = z.object({
  prefix: keyPrefix
    .min(1, 'Each map entry needs a prefix')
    .refine(endsInSlash, 'A map prefix must end with /')
    .describe('Objects whose key starts with this go to the tenant'),
  tenant: tenantSlugSchema.describe("The tenant's slug"),
})

const optionsShape = z.object({
  prefix: keyPrefix
    .refine(endsInSlash, 'prefix must be empty (the whole bucket) or end with /')
    .default('')
    .describe('Scan only keys under this prefix (empty: the whole bucket)'),
  rule: z
    .enum(['first-segment', 'prefix-map'], { error: 'rule must be first-segment or prefix-map' })
    .default('first-segment')
    .describe(
      "first-segment: the key's first path segment after the prefix is the tenant's slug; prefix-map: tenantMap decides (longest prefix wins)",
    ),
  tenantMap: z.array(tenantMapEntrySchema).max(MAX_TENANT_MAP_ENTRIES, `tenantMap has at most ${MAX_TENANT_MAP_ENTRIES} entries`).default([]),
  unmatched: z
    .enum(['project', 'skip'], { error: 'unmatched must be project or skip' })
    .default('skip')
    .describe('What happens to objects no tenant matches: adopted as project files without a tenant, or left alone'),
  createTenants: z
    .boolean({ error: 'createTenants must be true or false' })
    .default(false)
    .describe('Create the tenants the rule names that do not exist yet (needs tenants:manage); otherwise their objects count as unmatched'),
  mode: z
    .enum(['in-place', 'copy'], { error: 'mode must be in-place or copy' })
    .default('in-place')
    .describe(
      "in-place: register each object where it is; copy: server-side copy into Carcosa's key layout, original kept until the copy is verified",
    ),
  deleteOriginals: z
    .boolean({ error: 'deleteOriginals must be true or false' })
    .default(false)
    .describe('copy only: delete each original once its copy is verified and registered (needs files:delete)'),
})

function checkOptions(value: z.output<typeof optionsShape>, context: z.RefinementCtx) {
  if (value.rule === 'prefix-map' && value.tenantMap.length === 0) {
    context.addIssue({ code: 'custom', path: ['tenantMap'], message: 'The prefix-map rule needs at least one prefix and tenant' })
  }
  for (const [index, entry] of value.tenantMap.entries()) {
    if (!entry.prefix.startsWith(value.prefix)) {
      context.addIssue({
        code: 'custom',
        path: ['tenantMap', index, 'prefix'],
        message: `A map prefix must lie under the scanned prefix "${value.prefix}"`,
      })
    }
  }
  if (value.deleteOriginals && value.mode !== 'copy') {
    context.addIssue({ code: 'custom', path: ['deleteOriginals'], message: 'Originals can only be deleted when adopting by copy' })
  }
}

/** How a run finds, classifies and adopts the objects (stored with the run). */
export const adoptionOptionsSchema = optionsShape.superRefine(checkOptions)

export type AdoptionOptions = z.output<typeof adoptionOptionsSchema>

export const startAdoptionSchema = optionsShape.extend({ projectId: optionalProjectId }).superRefine(checkOptions)

export const previewAdoptionSchema = optionsShape
  .extend({
    projectId: optionalProjectId,
    limit: z
      .number({ error: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(MAX_PREVIEW_OBJECTS, `limit must be at most ${MAX_PREVIEW_OBJECTS}`)
      .default(DEFAULT_PREVIEW_OBJECTS)
      .describe('Objects to read at most'),
  })
  .superRefine(checkOptions)

export const adoptionItemsQuerySchema = z.object({
  status: z
    .enum(['adopted', 'already-adopted', 'skipped', 'failed'], { error: 'status must be adopted, already-adopted, skipped or failed' })
    .optional(),
})

// ---------------------------------------------------------------------------------------------
// The dashboard's form: the same options as text fields, checkboxes and a "prefix = slug" textarea.

const checkbox = z.preprocess((value) => value === 'on' || value === 'true', z.boolean())

/** `customers/acme/ = acme`, one per line; blank lines ignored. */
export function parseTenantMap(text: string): Array<{ prefix: string; tenant: string }> {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.lastIndexOf('=')
      return at < 0 ? { prefix: line, tenant: '' } : { prefix: line.slice(0, at).trim(), tenant: line.slice(at + 1).trim() }
    })
}

export const adoptionFormSchema = z
  .object({
    prefix: z.string().max(1024).optional(),
    rule: z.string().optional(),
    tenantMap: z
      .string()
      .max(64 * 1024, 'The map is too long')
      .optional(),
    unmatched: z.string().optional(),
    createTenants: checkbox.optional(),
    mode: z.string().optional(),
    deleteOriginals: checkbox.optional(),
  })
  // Unknown choices go through as given: the options schema names what is wrong with them.
  .transform((form): z.input<typeof adoptionOptionsSchema> => ({
    prefix: form.prefix?.trim() ?? '',
    rule: (form.rule || undefined) as AdoptionOptions['rule'] | undefined,
    tenantMap: form.rule === 'prefix-map' ? parseTenantMap(form.tenantMap ?? '') : [],
    unmatched: (form.unmatched || undefined) as AdoptionOptions['unmatched'] | undefined,
    createTenants: form.createTenants ?? false,
    mode: (form.mode || undefined) as AdoptionOptions['mode'] | undefined,
    deleteOriginals: form.deleteOriginals ?? false,
  }))
  .pipe(adoptionOptionsSchema)

export const runIdFormSchema = z.object({ runId: z.string().min(1).max(64) })
