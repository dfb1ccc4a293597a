import { usageBreakdown, usageOverview, usageTrends } from '~/services/usage/reports.server'
import { usageQuerySchema } from '~/services/usage/schemas'
import { defineOperation } from '../operation.server'

const common = {
  method: 'GET',
  tag: 'Usage',
  auth: 'any',
  permission: 'usage:read',
  tier: 'EXPENSIVE',
  query: usageQuerySchema,
  status: 200,
  errors: [400, 403, 404] as number[],
} as const

export const usageOperations = [
  defineOperation({
    ...common,
    id: 'usageOverview',
    path: '/api/v1/usage/overview',
    summary:
      'Usage totals of a project, team or organization over a range, stored bytes, API calls by status, and a cost estimate with the prices used',
    handler: ({ actor, query }) => usageOverview(actor, query),
  }),
  defineOperation({
    ...common,
    id: 'usageBreakdown',
    path: '/api/v1/usage/breakdown',
    summary: 'Usage over a range grouped by tenant, project or operation (groupBy)',
    handler: ({ actor, query }) => usageBreakdown(actor, query),
  }),
  defineOperation({
    ...common,
    id: 'usageTrends',
    path: '/api/v1/usage/trends',
    summary: 'Usage per hour or day over a range (granularity), zeros included',
    handler: ({ actor, query }) => usageTrends(actor, query),
  }),
]
