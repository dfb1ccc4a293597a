import { z } from 'zod'

/** Uploads one realtime token may name; more belong in a project-wide token. */
export const MAX_TOKEN_UPLOADS = 20

const id = (what: string) =>
  z
    .string({ error: `${what} must be text` })
    .min(1, `${what} is required`)
    .max(64, `${what} is too long`)
    .regex(/^[A-Za-z0-9_-]+$/, `${what} is not an id`)

export const createRealtimeTokenSchema = z.object({
  projectId: id('projectId').optional().describe("The project; an API key's own project when omitted"),
  uploadIds: z
    .array(id('Upload id'), { error: 'uploadIds must be a list of upload ids' })
    .min(1, 'uploadIds, when given, names at least one upload')
    .max(MAX_TOKEN_UPLOADS, `uploadIds names at most ${MAX_TOKEN_UPLOADS} uploads`)
    .optional()
    .describe("Restrict the token to these uploads' channels (`upload:<id>`); without it the token also reaches `project:<projectId>`"),
})
export type CreateRealtimeTokenInput = z.output<typeof createRealtimeTokenSchema>

export const realtimeTokenSchema = z.object({
  token: z.string().describe('Send as `?token=` on `wss://.../api/v1/realtime` (or as `Authorization: Bearer`)'),
  projectId: z.string(),
  uploadIds: z.array(z.string()).nullable(),
  expiresAt: z.iso.datetime().describe('The token opens connections until then; an open connection stays open'),
})
