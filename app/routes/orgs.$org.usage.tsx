import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { UsageReport } from '~/components/usage-report'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { usagePage } from '~/services/usage/usage-page.server'
import { organizationFromParams } from '~/services/workspaces/workspace-params.server'
import { orRouteError } from '~/utils/route-errors.server'

export const meta: MetaFunction = () => [{ title: 'Organization usage · Carcosa' }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization } = await organizationFromParams(actor, params)
  const page = await orRouteError(
    usagePage(actor, { organizationId: organization.id }, new URL(request.url).searchParams, { groupBys: ['project', 'operation'] }),
  )
  return { page, name: organization.name }
}

export default function OrganizationUsage() {
  const { page, name } = useLoaderData<typeof loader>()
  return <UsageReport page={page} groupBys={['project', 'operation']} scopeLabel={`organization ${name}`} />
}
