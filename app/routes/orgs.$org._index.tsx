import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { organizationCapabilities } from '~/services/workspaces/access.server'
import { createTeamSchema } from '~/services/workspaces/schemas'
import { createTeam, listTeams } from '~/services/workspaces/teams.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { teamPath } from '~/utils/paths'
import { organizationFromParams } from '~/services/workspaces/workspace-params.server'
import { DASHBOARD_PAGE, byName } from '~/services/pagination'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, role } = await organizationFromParams(actor, params)
  return {
    organization,
    canCreate: organizationCapabilities(role).canCreateTeams,
    teams: byName((await listTeams(actor, organization.id, DASHBOARD_PAGE)).items),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization } = await organizationFromParams(actor, params)
  return handleForm(await request.formData(), 'create-team', createTeamSchema, async (input) => {
    const team = await createTeam(actor, organization.id, input)
    return redirectWithFlash(teamPath(organization, team), { kind: 'success', message: `Team ${team.name} created.` })
  })
}

export default function OrganizationTeams() {
  const { organization, teams, canCreate } = useLoaderData<typeof loader>()
  const [form, fields] = useIntentForm('create-team', createTeamSchema)
  return (
    <div className="grid gap-6 md:grid-cols-2">
      <Card title="Teams">
        {teams.length === 0 ? (
          <EmptyState>No teams yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {teams.map((team) => (
              <li key={team.id} className="flex items-center justify-between py-2">
                <Link to={teamPath(organization, team)} className="font-medium">
                  {team.name}
                </Link>
                <span className="text-xs text-slate-500">
                  {team._count.projects} project{team._count.projects === 1 ? '' : 's'} · {team._count.members} member
                  {team._count.members === 1 ? '' : 's'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Create a team">
        {canCreate ? (
          <IntentForm form={form} intent="create-team">
            <TextField label="Team name" field={fields.name} />
            <TextField label="Team slug (optional)" field={fields.slug} hint="Derived from the name when empty." />
            <SubmitButton>Create team</SubmitButton>
          </IntentForm>
        ) : (
          <p className="text-sm text-slate-600">Viewers cannot create teams.</p>
        )}
      </Card>
    </div>
  )
}
