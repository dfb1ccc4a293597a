import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { IntentForm, SelectField, SubmitButton, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { MemberRow } from '~/components/member-row'
import { roleOptions } from '~/components/role-options'
import { teamCapabilities } from '~/services/workspaces/access.server'
import { listOrganizationMembers } from '~/services/workspaces/members.server'
import { addTeamMemberSchema, changeRoleSchema, removeMemberSchema } from '~/services/workspaces/schemas'
import { addTeamMember, changeTeamMemberRole, listTeamMembers, removeTeamMember } from '~/services/workspaces/teams.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { teamPath } from '~/utils/paths'
import { teamFromParams } from '~/services/workspaces/workspace-params.server'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor, user } = await requireUser(request, context)
  const access = await teamFromParams(actor, params)
  const { organization, team } = access
  const members = await listTeamMembers(actor, team.id)
  const inTeam = new Set(members.map((m) => m.user.id))
  const candidates = (await listOrganizationMembers(actor, organization.id))
    .filter((m) => !inTeam.has(m.user.id))
    .map((m) => ({ id: m.user.id, name: m.user.name, email: m.user.email }))
  return { members, candidates, canManage: teamCapabilities(access).canManageMembers, currentUserId: user.id }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team } = await teamFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${teamPath(organization, team)}/members`
  const done = (message: string) => redirectWithFlash(here, { kind: 'success', message })
  switch (intent.split(':')[0]) {
    case 'add':
      return handleForm(formData, intent, addTeamMemberSchema, async ({ userId, role }) => {
        await addTeamMember(actor, team.id, userId, role)
        return done('Member added to the team.')
      })
    case 'change-role':
      return handleForm(formData, intent, changeRoleSchema, async ({ memberId, role }) => {
        await changeTeamMemberRole(actor, team.id, memberId, role)
        return done(`Team role changed to ${role}.`)
      })
    case 'remove':
      return handleForm(formData, intent, removeMemberSchema, async ({ memberId }) => {
        await removeTeamMember(actor, team.id, memberId)
        return done('Member removed from the team.')
      })
    default:
      throw redirect(here)
  }
}

export default function TeamMembers() {
  const { members, candidates, canManage, currentUserId } = useLoaderData<typeof loader>()
  const [addForm, addFields] = useIntentForm('add', addTeamMemberSchema, { role: 'MEMBER' })
  return (
    <div className="space-y-6">
      <Card title="Team members">
        {members.length === 0 ? (
          <EmptyState>Nobody is in this team yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {members.map((member) => (
              <MemberRow key={member.id} member={member} canManage={canManage} isSelf={member.user.id === currentUserId} scope="team" />
            ))}
          </ul>
        )}
      </Card>
      <Card title="Add a member">
        {!canManage ? (
          <p className="text-sm text-slate-600">Only team admins and owners can add members.</p>
        ) : candidates.length === 0 ? (
          <EmptyState>Everyone in the organization is already in this team. Invite people from the organization's Members page.</EmptyState>
        ) : (
          <IntentForm form={addForm} intent="add" className="flex flex-wrap items-end gap-3">
            <SelectField
              label="Organization member"
              field={addFields.userId}
              options={[{ value: '', label: 'Choose a member' }, ...candidates.map((c) => ({ value: c.id, label: `${c.name} (${c.email})` }))]}
            />
            <SelectField label="Team role" field={addFields.role} options={roleOptions} />
            <SubmitButton>Add to team</SubmitButton>
          </IntentForm>
        )}
      </Card>
    </div>
  )
}
