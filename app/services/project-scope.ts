import { z } from 'zod'

/** `projectId` of a project-scoped call: optional for API keys (their own project), required for user tokens. */
export const optionalProjectId = z.string().min(1).max(64).optional().describe("The project; an API key's own project when omitted")
