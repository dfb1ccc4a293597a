import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Outlet, useLoaderData } from '@remix-run/react'
import { WorkspaceHeader } from '~/components/workspace-header'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath, teamPath } from '~/utils/paths'
import { teamFromParams } from '~/services/workspaces/workspace-params.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.team.name ?? 'Team'} · Carcosa` }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, role } = await teamFromParams(actor, params)
  return { organization: { name: organization.name, slug: organization.slug }, team, role }
}

export default function TeamLayout() {
  const { organization, team, role } = useLoaderData<typeof loader>()
  const base = teamPath(organization, team)
  return (
    <>
      <WorkspaceHeader
        title={team.name}
        kind="Team"
        role={role}
        crumbs={[
          { label: 'Organizations', to: '/orgs' },
          { label: organization.name, to: organizationPath(organization) },
        ]}
        tabs={{
          label: 'Team',
          items: [
            { to: base, label: 'Projects', end: true },
            { to: `${base}/buckets`, label: 'Buckets' },
            { to: `${base}/usage`, label: 'Usage' },
            { to: `${base}/members`, label: 'Members' },
            { to: `${base}/settings`, label: 'Settings' },
          ],
        }}
      />
      <Outlet />
    </>
  )
}
