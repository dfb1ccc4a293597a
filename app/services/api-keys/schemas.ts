import { z } from 'zod'
import { PERMISSIONS, permissionSchema, type Permission } from './permissions'

export const apiKeyNameSchema = z
  .string({ error: 'API key name is required' })
  .trim()
  .min(1, 'API key name is required')
  .max(80, 'API key name must be at most 80 characters')

/** A set of permissions: repeats are dropped, so a key never lists one twice. */
export const apiKeyPermissionsSchema = z
  .array(permissionSchema, { error: 'Choose at least one permission' })
  .min(1, 'Choose at least one permission')
  .max(PERMISSIONS.length, `Choose at most ${PERMISSIONS.length} permissions`)
  .transform((permissions): Permission[] => [...new Set(permissions)])

const inTheFuture = [(date: Date) => date.getTime() > Date.now(), { message: 'Expiry must be in the future' }] as const

export const apiKeyExpiresAtSchema = z.iso
  .datetime({ offset: true, error: 'Expiry must be an ISO 8601 date and time, e.g. 2030-01-01T00:00:00Z' })
  .transform((value) => new Date(value))
  .refine(...inTheFuture)

export const createApiKeySchema = z.object({
  projectId: z.string({ error: 'Project is required' }).min(1, 'Project is required').max(64, 'Project id is too long'),
  name: apiKeyNameSchema,
  permissions: apiKeyPermissionsSchema,
  expiresAt: apiKeyExpiresAtSchema.optional(),
  tenantId: z
    .string()
    .min(1)
    .max(64, 'Tenant id is too long')
    .optional()
    .describe("Bind the key to one tenant of the project: it reaches only that tenant's files, uploads and transforms"),
})

/**
 * The dashboard's form: the project comes from the URL, and a date input gives a day; the key stops
 * working at the start of that day (UTC).
 */
export const createApiKeyFormSchema = createApiKeySchema.omit({ projectId: true }).extend({
  expiresAt: z.iso
    .date({ error: 'Expiry must be a date, e.g. 2030-01-31' })
    .transform((day) => new Date(`${day}T00:00:00Z`))
    .refine(...inTheFuture)
    .optional(),
})

export const revokeApiKeySchema = z.object({ apiKeyId: z.string().min(1) })

export const updateApiKeySchema = z
  .object({ name: apiKeyNameSchema.optional(), permissions: apiKeyPermissionsSchema.optional() })
  .refine((input) => input.name !== undefined || input.permissions !== undefined, {
    message: 'Give a new name, new permissions, or both',
  })

export type CreateApiKeyInput = z.output<typeof createApiKeySchema>
export type UpdateApiKeyInput = z.output<typeof updateApiKeySchema>
