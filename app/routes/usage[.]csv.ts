import type { LoaderFunctionArgs } from '@remix-run/node'
import { stringify } from 'csv-stringify/sync'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { METRICS } from '~/services/usage/metrics'
import { usageTrends } from '~/services/usage/reports.server'
import { usageQuerySchema } from '~/services/usage/schemas'
import { orRouteError } from '~/utils/route-errors.server'

/**
 * GET /usage.csv?projectId=|teamId=|organizationId=&from=&to=&granularity=: the Usage pages' trend
 * as CSV (one row per hour or day, one column per metric), for the signed-in user's own scopes.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const parsed = usageQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('\n')
    return new Response(`The usage download's parameters did not validate:\n${problems}\n`, {
      status: 400,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    })
  }
  const trends = await orRouteError(usageTrends(actor, parsed.data))
  const csv = stringify(trends.points, { header: true, columns: ['start', ...METRICS] })
  const name = `carcosa-usage-${trends.scope.kind}-${trends.range.from.slice(0, 10)}-${trends.range.to.slice(0, 10)}.csv`
  return new Response(csv, {
    headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' },
  })
}
