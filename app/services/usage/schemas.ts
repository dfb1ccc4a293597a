import { z } from 'zod'

const id = z.string().min(1).max(64)
const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
/** Longest range a query may cover, per granularity (bounds the rows a query reads and the points it answers). */
export const MAX_RANGE_DAYS = { hour: 92, day: 732 } as const

const instant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be a date (2026-11-01) or an ISO 8601 date-time' })
  .transform((text) => new Date(text))

export const GRANULARITIES = ['hour', 'day'] as const
export type Granularity = (typeof GRANULARITIES)[number]
export const GROUP_BYS = ['tenant', 'project', 'operation'] as const
export type GroupBy = (typeof GROUP_BYS)[number]

const unitMs = (granularity: Granularity) => (granularity === 'hour' ? HOUR_MS : DAY_MS)

/** Start of the UTC hour or day containing `date`. */
export const floorTo = (date: Date, granularity: Granularity) => new Date(Math.floor(date.getTime() / unitMs(granularity)) * unitMs(granularity))
/** Start of the next UTC hour or day unless `date` already is one. */
export const ceilTo = (date: Date, granularity: Granularity) => new Date(Math.ceil(date.getTime() / unitMs(granularity)) * unitMs(granularity))

/** Query of the three usage operations and the dashboard pages: scope, tenant, range, granularity, grouping. */
export const usageQuerySchema = z
  .object({
    projectId: id.optional().describe("The project; an API key's own project when no scope is named"),
    teamId: id.optional().describe('A team: all its projects (user tokens only)'),
    organizationId: id.optional().describe('An organization: all its projects (user tokens only)'),
    tenantId: id.optional().describe('One tenant of the project (needs projectId, or an API key)'),
    from: instant.optional().describe('Start (inclusive), rounded down to the granularity; default: 30 days (hour: 2 days) before `to`'),
    to: instant.optional().describe('End (exclusive), rounded up to the granularity; default: the end of the current hour or day'),
    granularity: z.enum(GRANULARITIES).default('day').describe('Bucket size of trends, and the rounding of the range'),
    groupBy: z.enum(GROUP_BYS).optional().describe('Breakdown rows: tenant (a project), project, or operation'),
  })
  .superRefine((query, context) => {
    const scopes = [query.projectId, query.teamId, query.organizationId].filter((value) => value !== undefined)
    if (scopes.length > 1) context.addIssue({ code: 'custom', path: ['projectId'], message: 'Name one of projectId, teamId or organizationId' })
    if (query.tenantId && (query.teamId || query.organizationId))
      context.addIssue({
        code: 'custom',
        path: ['tenantId'],
        message: 'A tenant is named with its project (projectId), not a team or organization',
      })
  })
  .transform((query, context) => {
    const to = ceilTo(query.to ?? new Date(), query.granularity)
    const from = floorTo(query.from ?? new Date(to.getTime() - (query.granularity === 'hour' ? 2 : 30) * DAY_MS), query.granularity)
    if (from >= to) {
      context.addIssue({ code: 'custom', path: ['from'], message: 'must be before `to`' })
      return z.NEVER
    }
    const maxDays = MAX_RANGE_DAYS[query.granularity]
    if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
      context.addIssue({
        code: 'custom',
        path: ['from'],
        message: `The range may cover at most ${maxDays} days with granularity=${query.granularity}`,
      })
      return z.NEVER
    }
    return { ...query, from, to }
  })

export type UsageQuery = z.output<typeof usageQuerySchema>
