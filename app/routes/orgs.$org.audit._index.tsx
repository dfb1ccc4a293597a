import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { AuditLogView } from '~/components/audit-log'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { auditPage } from '~/services/audit/audit-page.server'
import { organizationFromParams } from '~/services/workspaces/workspace-params.server'
import { orRouteError } from '~/utils/route-errors.server'

export const meta: MetaFunction = () => [{ title: 'Organization audit log · Carcosa' }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization } = await organizationFromParams(actor, params)
  const page = await orRouteError(auditPage(actor, { organizationId: organization.id }, new URL(request.url).searchParams))
  return { page, name: organization.name }
}

export default function OrganizationAuditLog() {
  const { page, name } = useLoaderData<typeof loader>()
  return <AuditLogView page={page} scopeLabel={`organization ${name}`} projects={page.projects} />
}
