import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { DeleteCard } from '~/components/delete-card'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { storageTotals } from '~/services/files/files.server'
import { deleteProject, updateProject } from '~/services/workspaces/projects.server'
import { confirmDeletionSchema, updateProjectSchema } from '~/services/workspaces/schemas'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { formatBytes } from '~/utils/sizes'
import { projectPath, teamPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project, permissions } = await projectFromParams(actor, params)
  return {
    storagePrefix: `${organization.slug}/${team.slug}/${project.slug}/`,
    project,
    storage: hasPermission(permissions, 'files:read') ? await storageTotals(actor, project.id) : null,
    canEdit: hasPermission(permissions, 'projects:write'),
    canDelete: hasPermission(permissions, 'projects:delete'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  if (intent === 'update') {
    return handleForm(formData, intent, updateProjectSchema, async (input) => {
      const updated = await updateProject(actor, project.id, input)
      return redirectWithFlash(projectPath(organization, team, updated), { kind: 'success', message: 'Project settings saved.' })
    })
  }
  if (intent === 'delete') {
    return handleForm(formData, intent, confirmDeletionSchema(project.slug), async () => {
      await deleteProject(actor, project.id)
      return redirectWithFlash(teamPath(organization, team), { kind: 'success', message: `Project ${project.name} deleted.` })
    })
  }
  throw redirect(projectPath(organization, team, project))
}

export default function ProjectOverview() {
  const { storagePrefix, project, storage, canEdit, canDelete } = useLoaderData<typeof loader>()
  const [form, fields] = useIntentForm('update', updateProjectSchema, { name: project.name, slug: project.slug })
  return (
    <div className="space-y-6">
      <Card title="Overview">
        <dl className="grid grid-cols-1 gap-3 text-sm sm:grid-cols-3">
          <div>
            <dt className="text-slate-500">Project ID</dt>
            <dd>
              <code>{project.id}</code>
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Storage path prefix</dt>
            <dd>
              <code>{storagePrefix}</code>
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Created</dt>
            <dd>
              <DateTime value={project.createdAt} />
            </dd>
          </div>
          {storage ? (
            <div>
              <dt className="text-slate-500">Storage used</dt>
              <dd>
                {formatBytes(storage.bytes)} in {storage.fileCount} {storage.fileCount === 1 ? 'file' : 'files'}
              </dd>
            </div>
          ) : null}
        </dl>
      </Card>
      <Card title="Name and URL">
        <IntentForm form={form} intent="update">
          {canEdit ? null : <p className="text-sm text-slate-600">Viewers cannot change this project.</p>}
          <TextField label="Project name" field={fields.name} />
          <TextField label="Project slug" field={fields.slug} hint="Changing the slug changes the project's URLs." />
          <SubmitButton>Save changes</SubmitButton>
        </IntentForm>
      </Card>
      <DeleteCard
        what="project"
        slug={project.slug}
        allowed={canDelete}
        notice="Deleting the project removes it from Carcosa. This cannot be undone."
        deniedNotice="Only team admins and owners can delete this project."
      />
    </div>
  )
}
