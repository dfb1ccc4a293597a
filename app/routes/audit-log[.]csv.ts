import type { LoaderFunctionArgs } from '@remix-run/node'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { auditExport } from '~/services/audit/export.server'
import { orRouteError } from '~/utils/route-errors.server'

/** GET /audit-log.csv?organizationId=|projectId=&<filters>: the dashboard's audit log export (streamed). */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  return orRouteError(auditExport(actor, new URL(request.url).searchParams, 'csv'))
}
