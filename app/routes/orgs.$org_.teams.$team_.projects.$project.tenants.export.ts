import type { LoaderFunctionArgs } from '@remix-run/node'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { exportTenants } from '~/services/tenants/transfer.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { orRouteError } from '~/utils/route-errors.server'

/** The dashboard's export link: the same streamed CSV or JSON as `GET /api/v1/tenants/export`. */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project } = await projectFromParams(actor, params)
  const format = new URL(request.url).searchParams.get('format') === 'csv' ? 'csv' : 'json'
  const stream = await orRouteError(exportTenants(actor, project.id, format))
  return new Response(stream, {
    headers: {
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="${project.slug}-tenants.${format}"`,
      'Cache-Control': 'no-store',
    },
  })
}
