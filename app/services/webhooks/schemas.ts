import { z } from 'zod'
import { eventTypeSchema } from '../events/event-types'
import { optionalProjectId } from '../project-scope'

export const MAX_ENDPOINTS_PER_PROJECT = 20

const urlSchema = z
  .string({ error: 'URL is required' })
  .trim()
  .min(1, 'URL is required')
  .max(2048, 'URL must be at most 2048 characters')
  .describe('Where events are POSTed: http or https, no credentials or fragment')

const descriptionSchema = z.string().trim().max(500, 'Description must be at most 500 characters')

const eventTypesSchema = z
  .array(eventTypeSchema, { error: 'Event types must be a list of known event types' })
  .max(50)
  .transform((types) => [...new Set(types)])
  .describe('Event types to deliver; empty or left out: every type')

export const createWebhookSchema = z.object({
  projectId: optionalProjectId,
  url: urlSchema,
  description: descriptionSchema.default(''),
  eventTypes: eventTypesSchema.default([]),
  enabled: z.boolean().default(true),
})
export type CreateWebhookInput = z.output<typeof createWebhookSchema>

export const updateWebhookSchema = z
  .object({
    url: urlSchema.optional(),
    description: descriptionSchema.optional(),
    eventTypes: eventTypesSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: 'Send at least one of url, description, eventTypes, enabled',
  })
export type UpdateWebhookInput = z.output<typeof updateWebhookSchema>

export const replayWebhookSchema = z.object({
  since: z.iso
    .datetime({ offset: true, error: 'since must be an ISO 8601 date-time, e.g. 2026-11-29T00:00:00Z' })
    .transform((text) => new Date(text))
    .describe('Replays every failed delivery created at or after this time'),
})

export const deliveryStatusSchema = z.enum(['PENDING', 'SUCCEEDED', 'FAILED']).describe('Only deliveries in this state')

/** Dashboard forms: checkboxes send each chosen type; an unticked "enabled" box sends nothing. */
export const webhookFormSchema = z.object({
  url: urlSchema,
  description: descriptionSchema.optional().transform((text) => text ?? ''),
  eventTypes: z
    .union([eventTypeSchema, z.array(eventTypeSchema)])
    .optional()
    .transform((value) => (value === undefined ? [] : Array.isArray(value) ? [...new Set(value)] : [value])),
})

const webhookIdField = z.string({ error: 'Choose an endpoint' }).min(1).max(64)

/** The dashboard's edit form: an unticked "enabled" box sends nothing, so absent means disabled. */
export const webhookEditFormSchema = webhookFormSchema.extend({
  webhookId: webhookIdField,
  enabled: z
    .literal('on')
    .optional()
    .transform((value) => value === 'on'),
})

/** Rotate and send-test buttons name only their endpoint. */
export const webhookIdFormSchema = z.object({ webhookId: webhookIdField })

/** Deleting asks for a ticked box: a form without JavaScript cannot delete on one stray click. */
export const deleteWebhookFormSchema = webhookIdFormSchema.extend({
  confirm: z.literal('on', { error: 'Tick the box to confirm that the endpoint should be deleted' }),
})

export const replayDeliveryFormSchema = webhookIdFormSchema.extend({ deliveryId: z.string().min(1).max(64) })

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/

/** "Replay failed deliveries since": a date-time field (no time zone), read as UTC as the form says. */
export const replayFailedFormSchema = webhookIdFormSchema.extend({
  since: z
    .string({ error: 'Enter a date and time (UTC), e.g. 2026-11-29T06:00' })
    .trim()
    .regex(LOCAL_DATE_TIME, 'Enter a date and time (UTC), e.g. 2026-11-29T06:00')
    .transform((text) => new Date(`${text}Z`))
    .refine((date) => !Number.isNaN(date.getTime()), 'Enter a date and time that exists, e.g. 2026-11-29T06:00'),
})
