import { z } from 'zod'
import { optionalProjectId } from '../project-scope'
import { limitFormFields, limitsSchema } from './limits'

export const planNameSchema = z
  .string({ error: 'Plan name is required' })
  .trim()
  .min(1, 'Plan name is required')
  .max(60, 'Plan name must be at most 60 characters')

export const createPlanSchema = z.object({
  projectId: optionalProjectId,
  name: planNameSchema,
  limits: limitsSchema.optional().describe('Limits left out (or null) are unlimited'),
})

export const updatePlanSchema = z
  .object({ name: planNameSchema.optional(), limits: limitsSchema.optional() })
  .refine((input) => input.name !== undefined || input.limits !== undefined, { message: 'Send name, limits or both' })

/** The plans page's form: limits as typed, empty for none (sizes such as `5 GB`). */
export const planFormSchema = z.object({ name: planNameSchema, ...limitFormFields })

export type CreatePlanInput = z.output<typeof createPlanSchema>
export type UpdatePlanInput = z.output<typeof updatePlanSchema>
