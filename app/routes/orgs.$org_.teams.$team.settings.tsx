import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { DeleteCard } from '~/components/delete-card'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card } from '~/components/layout'
import { confirmDeletionSchema, updateTeamSchema } from '~/services/workspaces/schemas'
import { teamCapabilities } from '~/services/workspaces/access.server'
import { deleteTeam, updateTeam } from '~/services/workspaces/teams.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath, teamPath } from '~/utils/paths'
import { teamFromParams } from '~/services/workspaces/workspace-params.server'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const access = await teamFromParams(actor, params)
  const { canEdit, canDelete } = teamCapabilities(access)
  return { team: access.team, canEdit, canDelete }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team } = await teamFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  if (intent === 'update') {
    return handleForm(formData, intent, updateTeamSchema, async (input) => {
      const updated = await updateTeam(actor, team.id, input)
      return redirectWithFlash(`${teamPath(organization, updated)}/settings`, { kind: 'success', message: 'Team settings saved.' })
    })
  }
  if (intent === 'delete') {
    return handleForm(formData, intent, confirmDeletionSchema(team.slug), async () => {
      await deleteTeam(actor, team.id)
      return redirectWithFlash(organizationPath(organization), { kind: 'success', message: `Team ${team.name} deleted.` })
    })
  }
  throw redirect(`${teamPath(organization, team)}/settings`)
}

export default function TeamSettings() {
  const { team, canEdit, canDelete } = useLoaderData<typeof loader>()
  const [form, fields] = useIntentForm('update', updateTeamSchema, { name: team.name, slug: team.slug })
  return (
    <div className="space-y-6">
      <Card title="General">
        <IntentForm form={form} intent="update">
          {canEdit ? null : <p className="text-sm text-slate-600">Only team admins and owners can change these settings.</p>}
          <TextField label="Team name" field={fields.name} />
          <TextField label="Team slug" field={fields.slug} hint="Changing the slug changes the team's URLs." />
          <SubmitButton>Save changes</SubmitButton>
        </IntentForm>
      </Card>
      <DeleteCard
        what="team"
        slug={team.slug}
        allowed={canDelete}
        notice="Deleting the team removes its projects. This cannot be undone."
        deniedNotice="Only a team owner or an organization owner or admin can delete this team."
      />
    </div>
  )
}
