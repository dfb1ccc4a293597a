import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { UsageReport } from '~/components/usage-report'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { usagePage } from '~/services/usage/usage-page.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { orRouteError } from '~/utils/route-errors.server'

export const meta: MetaFunction = () => [{ title: 'Project usage · Carcosa' }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project } = await projectFromParams(actor, params)
  const page = await orRouteError(
    usagePage(actor, { projectId: project.id }, new URL(request.url).searchParams, { groupBys: ['tenant', 'operation'] }),
  )
  return { page, name: project.name }
}

export default function ProjectUsage() {
  const { page, name } = useLoaderData<typeof loader>()
  return <UsageReport page={page} groupBys={['tenant', 'operation']} scopeLabel={`project ${name}`} />
}
