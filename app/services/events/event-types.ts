import { z } from 'zod'

/**
 * Every domain event Carcosa announces, with the shape of its `data`. The same schemas document the
 * webhooks in the OpenAPI document; payloads stay small (ids and names, never file bytes or secrets).
 */
const projectId = z.string().describe('The project the event belongs to')

const fileData = z.object({
  id: z.string(),
  tenantId: z.string().nullable(),
  path: z.string(),
  name: z.string(),
  size: z.number().int().describe('Bytes'),
  contentType: z.string(),
  createdAt: z.string().describe('ISO 8601'),
})

const tenantData = z.object({ id: z.string(), slug: z.string(), name: z.string(), metadata: z.record(z.string(), z.unknown()) })

const adoptionCounts = z
  .object({
    scanned: z.number().int(),
    adopted: z.number().int(),
    adoptedBytes: z.number().int(),
    alreadyAdopted: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
  })
  .describe('Objects seen and what became of them')

const tenantStatusData = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended', 'archived']),
  previousStatus: z.enum(['active', 'suspended', 'archived']),
})

const quotaData = {
  limit: z.enum(['storedBytes', 'fileCount', 'fileSize', 'uploadsPerHour', 'transformsPerHour']).describe('The limit crossed'),
  value: z.number().int().describe("The limit's value"),
  current: z.number().int().describe('The use when it was crossed'),
}

export const EVENT_DATA = {
  'file.uploaded': z
    .object({ projectId, uploadId: z.string().nullable(), file: fileData })
    .describe('A file passed the completion checks and is visible.'),
  'file.deleted': z
    .object({ projectId, fileId: z.string(), tenantId: z.string().nullable(), path: z.string() })
    .describe('A file and its object were deleted.'),
  'upload.failed': z
    .object({ projectId, uploadId: z.string(), tenantId: z.string().nullable(), path: z.string(), reason: z.string() })
    .describe('An upload was refused at completion, aborted, or broke off; its object is removed.'),
  'upload.expired': z
    .object({ projectId, uploadId: z.string(), tenantId: z.string().nullable(), path: z.string() })
    .describe('A pending upload was not completed in time and was swept.'),
  'tenant.created': z.object({ projectId, tenant: tenantData }).describe('A tenant was created.'),
  'tenant.updated': z.object({ projectId, tenant: tenantData }).describe('A tenant was renamed or its metadata replaced.'),
  'tenant.deleted': z.object({ projectId, tenantId: z.string(), slug: z.string() }).describe('A tenant was deleted.'),
  'tenant.suspended': z
    .object({ projectId, tenant: tenantStatusData })
    .describe('A tenant was suspended: its uploads, downloads and transforms are refused.'),
  'tenant.archived': z
    .object({ projectId, tenant: tenantStatusData })
    .describe('A tenant was archived: its files stay readable, nothing of it changes.'),
  'tenant.activated': z.object({ projectId, tenant: tenantStatusData }).describe('A suspended or archived tenant is active again.'),
  'quota.warning': z
    .object({ projectId, tenantId: z.string(), slug: z.string(), ...quotaData })
    .describe("A tenant's use of a limit reached 80% (sent once per crossing)."),
  'quota.exceeded': z
    .object({ projectId, tenantId: z.string(), slug: z.string(), ...quotaData })
    .describe("A tenant's use of a limit reached 100% (sent once per crossing)."),
  'api_key.created': z
    .object({
      projectId,
      apiKey: z.object({
        id: z.string(),
        name: z.string(),
        displayKey: z.string(),
        permissions: z.array(z.string()),
        expiresAt: z.string().nullable(),
      }),
    })
    .describe('An API key was created (its secret is never sent).'),
  'api_key.revoked': z.object({ projectId, apiKeyId: z.string(), name: z.string() }).describe('An API key was revoked or deleted.'),
  'bucket.updated': z
    .object({
      projectId,
      bucket: z.object({ id: z.string(), name: z.string(), provider: z.string(), bucketName: z.string() }),
      credentialsRotated: z.boolean(),
    })
    .describe('The bucket a project stores its files in was changed (sent to each project using it).'),
  'adoption.started': z
    .object({ projectId, runId: z.string(), prefix: z.string(), mode: z.enum(['in-place', 'copy']) })
    .describe('An adoption of existing bucket objects started (docs/adoption.md).'),
  'adoption.completed': z
    .object({ projectId, runId: z.string(), counts: adoptionCounts })
    .describe('An adoption run went through every object under its prefix.'),
  'adoption.failed': z
    .object({ projectId, runId: z.string(), reason: z.string(), counts: adoptionCounts })
    .describe('An adoption run stopped (its bucket unreachable, its starter without access); it can be resumed.'),
  'adoption.cancelled': z
    .object({ projectId, runId: z.string(), counts: adoptionCounts })
    .describe('An adoption run was cancelled; what it adopted stays.'),
  'webhook.test': z
    .object({ projectId, endpointId: z.string(), message: z.string() })
    .describe('Sent by "send test event" to one endpoint only.'),
} as const

export type EventType = keyof typeof EVENT_DATA
export type EventData<T extends EventType> = z.input<(typeof EVENT_DATA)[T]>

export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[]
/** The types an endpoint can subscribe to (the test event goes to the endpoint it is sent to). */
export const SUBSCRIBABLE_EVENT_TYPES = EVENT_TYPES.filter((type) => type !== 'webhook.test')

export const eventTypeSchema = z.enum(SUBSCRIBABLE_EVENT_TYPES as [EventType, ...EventType[]])

/** What a webhook body and a live-channel message carry: `{type, timestamp, data}` (Standard Webhooks' payload form). */
export interface EventMessage<T extends EventType = EventType> {
  type: T
  timestamp: string
  data: EventData<T>
}

export function eventMessageSchema(type: EventType) {
  return z.object({ type: z.literal(type), timestamp: z.string().describe('ISO 8601 time of the change'), data: EVENT_DATA[type] })
}
