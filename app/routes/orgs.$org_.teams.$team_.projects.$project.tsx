import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Outlet, useLoaderData } from '@remix-run/react'
import { WorkspaceHeader } from '~/components/workspace-header'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath, projectPath, teamPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.project.name ?? 'Project'} · Carcosa` }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project, role } = await projectFromParams(actor, params)
  return {
    organization: { name: organization.name, slug: organization.slug },
    team: { name: team.name, slug: team.slug },
    project: { name: project.name, slug: project.slug },
    role: role ?? 'VIEWER',
  }
}

export default function ProjectLayout() {
  const { organization, team, project, role } = useLoaderData<typeof loader>()
  const base = projectPath(organization, team, project)
  return (
    <>
      <WorkspaceHeader
        title={project.name}
        kind="Project"
        role={role}
        crumbs={[
          { label: 'Organizations', to: '/orgs' },
          { label: organization.name, to: organizationPath(organization) },
          { label: team.name, to: teamPath(organization, team) },
        ]}
        tabs={{
          label: 'Project',
          items: [
            { to: base, label: 'Overview', end: true },
            { to: `${base}/files`, label: 'Files' },
            { to: `${base}/tenants`, label: 'Tenants' },
            { to: `${base}/plans`, label: 'Plans' },
            { to: `${base}/adoption`, label: 'Adoption' },
            { to: `${base}/api-keys`, label: 'API keys' },
            { to: `${base}/transforms`, label: 'Transforms' },
            { to: `${base}/webhooks`, label: 'Webhooks' },
            { to: `${base}/usage`, label: 'Usage' },
            { to: `${base}/audit`, label: 'Audit log' },
            { to: `${base}/settings`, label: 'Settings' },
          ],
        }}
      />
      <Outlet />
    </>
  )
}
