import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { IntentForm, SelectField, SubmitButton, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { MemberRow } from '~/components/member-row'
import { RoleBadge } from '~/components/role-badge'
import { roleOptions } from '~/components/role-options'
import { organizationCapabilities } from '~/services/workspaces/access.server'
import { createInvitation, listPendingInvitations, revokeInvitation } from '~/services/workspaces/invitations.server'
import { changeMemberRole, listOrganizationMembers, removeMember } from '~/services/workspaces/members.server'
import { changeRoleSchema, createInvitationSchema, removeMemberSchema } from '~/services/workspaces/schemas'
import { getConfig } from '~/utils/config.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath } from '~/utils/paths'
import { organizationFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

const revokeInvitationSchema = z.object({ invitationId: z.string().min(1) })

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor, user } = await requireUser(request, context)
  const { organization, role } = await organizationFromParams(actor, params)
  const canManage = organizationCapabilities(role).canManageMembers
  return {
    organization,
    role,
    canManage,
    currentUserId: user.id,
    members: await listOrganizationMembers(actor, organization.id),
    invitations: canManage ? await listPendingInvitations(actor, organization.id) : [],
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization } = await organizationFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${organizationPath(organization)}/members`
  const done = (message: string) => redirectWithFlash(here, { kind: 'success', message })

  switch (intent.split(':')[0]) {
    case 'invite':
      return handleForm(formData, intent, createInvitationSchema, async ({ role }) => {
        const { token } = await createInvitation(actor, organization.id, role)
        const origin = getConfig().APP_URL ?? new URL(request.url).origin
        return redirectWithFlash(here, {
          kind: 'success',
          message: `Invitation created for the ${role} role. Send this link to the person you invite; it works once and expires in 7 days.`,
          secret: { label: 'Invitation link', value: `${origin}/invitations/${token}` },
        })
      })
    case 'change-role':
      return handleForm(formData, intent, changeRoleSchema, async ({ memberId, role }) => {
        await changeMemberRole(actor, organization.id, memberId, role)
        return done(`Role changed to ${role}.`)
      })
    case 'remove':
      return handleForm(formData, intent, removeMemberSchema, async ({ memberId }) => {
        const members = await listOrganizationMembers(actor, organization.id)
        const leaving = members.find((m) => m.id === memberId)?.user.id === actor.userId
        await removeMember(actor, organization.id, memberId)
        return leaving ? redirectWithFlash('/orgs', { kind: 'success', message: `You left ${organization.name}.` }) : done('Member removed.')
      })
    case 'revoke-invitation':
      return handleForm(formData, intent, revokeInvitationSchema, async ({ invitationId }) => {
        await revokeInvitation(actor, organization.id, invitationId)
        return done('Invitation revoked.')
      })
    default:
      throw redirect(here)
  }
}

export default function OrganizationMembers() {
  const { members, invitations, canManage, currentUserId } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <Card title="Members">
        <ul className="divide-y divide-slate-100">
          {members.map((member) => (
            <MemberRow key={member.id} member={member} canManage={canManage} isSelf={member.user.id === currentUserId} scope="organization" />
          ))}
        </ul>
      </Card>
      <Card title="Invitations">
        {canManage ? (
          <div className="space-y-4">
            <InviteForm />
            {invitations.length === 0 ? (
              <EmptyState>No pending invitations.</EmptyState>
            ) : (
              <ul className="divide-y divide-slate-100">
                {invitations.map((invitation) => (
                  <li key={invitation.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                    <span>
                      <RoleBadge role={invitation.role} /> invited by {invitation.createdBy.name}, expires{' '}
                      <DateTime value={invitation.expiresAt} relative />
                    </span>
                    <Form method="post">
                      <input type="hidden" name="intent" value={`revoke-invitation:${invitation.id}`} />
                      <input type="hidden" name="invitationId" value={invitation.id} />
                      <SubmitButton variant="secondary">Revoke invitation</SubmitButton>
                    </Form>
                  </li>
                ))}
              </ul>
            )}
          </div>
        ) : (
          <p className="text-sm text-slate-600">Only admins and owners can invite people.</p>
        )}
      </Card>
    </div>
  )
}

function InviteForm() {
  const [form, fields] = useIntentForm('invite', createInvitationSchema, { role: 'MEMBER' })
  return (
    <IntentForm form={form} intent="invite" className="flex flex-wrap items-end gap-3">
      <div className="min-w-64">
        <SelectField label="Role for the invited person" field={fields.role} options={roleOptions} />
      </div>
      <SubmitButton>Create invitation link</SubmitButton>
    </IntentForm>
  )
}
