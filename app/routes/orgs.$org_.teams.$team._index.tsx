import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { teamCapabilities } from '~/services/workspaces/access.server'
import { createProject, listProjects } from '~/services/workspaces/projects.server'
import { createProjectSchema } from '~/services/workspaces/schemas'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectPath } from '~/utils/paths'
import { teamFromParams } from '~/services/workspaces/workspace-params.server'
import { DASHBOARD_PAGE, byName } from '~/services/pagination'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const access = await teamFromParams(actor, params)
  const { organization, team } = access
  return {
    organization,
    team,
    canCreate: teamCapabilities(access).canCreateProjects,
    projects: byName((await listProjects(actor, team.id, DASHBOARD_PAGE)).items),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team } = await teamFromParams(actor, params)
  return handleForm(await request.formData(), 'create-project', createProjectSchema, async (input) => {
    const project = await createProject(actor, team.id, input)
    return redirectWithFlash(projectPath(organization, team, project), { kind: 'success', message: `Project ${project.name} created.` })
  })
}

export default function TeamProjects() {
  const { organization, team, projects, canCreate } = useLoaderData<typeof loader>()
  const [form, fields] = useIntentForm('create-project', createProjectSchema)
  return (
    <div className="grid gap-6 md:grid-cols-2">
      <Card title="Projects">
        {projects.length === 0 ? (
          <EmptyState>No projects in this team yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {projects.map((project) => (
              <li key={project.id} className="flex items-center justify-between py-2">
                <Link to={projectPath(organization, team, project)} className="font-medium">
                  {project.name}
                </Link>
                <code className="text-xs text-slate-500">{project.slug}</code>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Create a project">
        {canCreate ? (
          <IntentForm form={form} intent="create-project">
            <TextField label="Project name" field={fields.name} />
            <TextField label="Project slug (optional)" field={fields.slug} hint="Derived from the name when empty." />
            <SubmitButton>Create project</SubmitButton>
          </IntentForm>
        ) : (
          <p className="text-sm text-slate-600">Your role in this team only lets you view its projects.</p>
        )}
      </Card>
    </div>
  )
}
