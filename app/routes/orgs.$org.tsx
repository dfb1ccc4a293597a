import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Outlet, useLoaderData } from '@remix-run/react'
import { WorkspaceHeader } from '~/components/workspace-header'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath } from '~/utils/paths'
import { organizationFromParams } from '~/services/workspaces/workspace-params.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.organization.name ?? 'Organization'} · Carcosa` }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  return organizationFromParams(actor, params)
}

export default function OrganizationLayout() {
  const { organization, role } = useLoaderData<typeof loader>()
  const base = organizationPath(organization)
  return (
    <>
      <WorkspaceHeader
        title={organization.name}
        role={role}
        crumbs={[{ label: 'Organizations', to: '/orgs' }]}
        tabs={{
          label: 'Organization',
          items: [
            { to: base, label: 'Teams', end: true },
            { to: `${base}/usage`, label: 'Usage' },
            // The organization's audit log is its owners' and admins' to read.
            ...(role === 'OWNER' || role === 'ADMIN' ? [{ to: `${base}/audit`, label: 'Audit log' }] : []),
            { to: `${base}/members`, label: 'Members' },
            { to: `${base}/settings`, label: 'Settings' },
          ],
        }}
      />
      <Outlet />
    </>
  )
}
