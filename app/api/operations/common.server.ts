import { z } from 'zod'
import { slugSchema } from '~/services/workspaces/schemas'

/** `{id}` in a path: any id shape we issue (cuid), bounded. */
export const idParams = z.object({ id: z.string().min(1).max(64).describe('The resource id') })

/** Errors every operation on one resource (`{id}` in its path) can answer besides the common ones. */
export const RESOURCE_ERRORS = [400, 403, 404]
export const WRITE_ERRORS = [400, 403, 404, 409, 413, 415]

/** PUT body of a named resource with a slug: either or both may change. */
export const renameBody = (name: z.ZodString) =>
  z
    .object({ name: name.optional(), slug: slugSchema.optional() })
    .refine((value) => value.name !== undefined || value.slug !== undefined, { message: 'Send name, slug or both' })
