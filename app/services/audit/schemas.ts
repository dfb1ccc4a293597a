import { z } from 'zod'
import { pageQuerySchema } from '../pagination'

const id = z.string().min(1).max(64)
const text = z.string().trim().min(1).max(200)

const instant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be a date (2026-11-01) or an ISO 8601 date-time' })
  .transform((value) => new Date(value))

/** Where audit entries are read from: one project, a team, an organization, or (users) every organization they administer. */
const scopeShape = {
  organizationId: id.optional().describe('An organization: all its entries (its owners and admins; user tokens only)'),
  teamId: id.optional().describe("A team: entries about the team and its projects (the team's admins and owners; user tokens only)"),
  projectId: id.optional().describe("A project: entries about it (needs audit-logs:read); an API key's own project when no scope is named"),
}

const oneScope = (query: { organizationId?: string; teamId?: string; projectId?: string }, context: z.RefinementCtx) => {
  const named = [query.organizationId, query.teamId, query.projectId].filter((value) => value !== undefined)
  if (named.length > 1)
    context.addIssue({ code: 'custom', path: ['organizationId'], message: 'Name one of organizationId, teamId or projectId' })
}

const filterShape = {
  ...scopeShape,
  tenantId: id.optional().describe('Entries about one tenant'),
  actorId: id.optional().describe('Entries made by one user or API key (its id)'),
  actorType: z.enum(['user', 'api-key', 'anonymous']).optional().describe('Entries made by users, API keys, or nobody signed in'),
  action: text.optional().describe('One action, e.g. `file.delete`; ending in `.*`, every action under it (`bucket.*`)'),
  targetType: text.optional().describe('What the entry is about, e.g. `file`, `project`, `api_key`'),
  targetId: id.optional().describe('The id of what the entry is about'),
  from: instant.optional().describe('Entries written at or after this instant'),
  to: instant.optional().describe('Entries written before this instant'),
}

const checkFilter = (
  query: { organizationId?: string; teamId?: string; projectId?: string; from?: Date; to?: Date },
  context: z.RefinementCtx,
) => {
  oneScope(query, context)
  if (query.from && query.to && query.from >= query.to) context.addIssue({ code: 'custom', path: ['from'], message: 'must be before `to`' })
}

/** Filters of the audit log: the dashboard viewer and the exports. */
export const auditFilterSchema = z.object(filterShape).superRefine(checkFilter)
export type AuditFilter = z.output<typeof auditFilterSchema>

/** Blank fields of a GET form are absent filters, not invalid ones. */
export const withoutBlanks = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== ''))

export const auditListQuerySchema = z.object({ ...filterShape, ...pageQuerySchema.shape }).superRefine(checkFilter)
export type AuditListQuery = z.output<typeof auditListQuerySchema>

export const auditVerifyQuerySchema = z.object(scopeShape).superRefine(oneScope)
export type AuditVerifyQuery = z.output<typeof auditVerifyQuerySchema>

export const auditEntryParamsSchema = z.object({ id: id.describe('The audit entry') })

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
