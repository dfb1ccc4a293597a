import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data, redirect } from '@remix-run/node'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { SubmitButton } from '~/components/forms'
import { PageHeader } from '~/components/layout'
import { RoleBadge } from '~/components/role-badge'
import { acceptInvitation, declineInvitation, getInvitation } from '~/services/workspaces/invitations.server'
import { AppError } from '~/utils/errors.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { asRouteError, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath } from '~/utils/paths'

// The token in this URL never leaves the site: the app-wide Referrer-Policy is same-origin.
export const meta: MetaFunction = () => [{ title: 'Invitation · Carcosa' }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireUser(request, context)
  const invitation = await orRouteError(getInvitation(params.token ?? ''))
  return {
    organizationName: invitation.organization.name,
    role: invitation.role,
    invitedBy: invitation.invitedBy,
    status: invitation.status,
    expiresAt: invitation.expiresAt,
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const formData = await request.formData()
  const answer = formData.get('intent')
  const token = params.token ?? ''
  try {
    if (answer === 'accept') {
      const organization = await acceptInvitation(actor, token)
      return redirectWithFlash(organizationPath(organization), { kind: 'success', message: `You joined ${organization.name}.` })
    }
    if (answer === 'decline') {
      const organization = await declineInvitation(actor, token)
      return redirectWithFlash('/', { kind: 'success', message: `You declined the invitation to ${organization.name}.` })
    }
  } catch (error) {
    if (error instanceof AppError && error.code === 'CONFLICT') return data({ error: error.message }, { status: 409 })
    throw asRouteError(error)
  }
  throw redirect(`/invitations/${token}`)
}

export default function InvitationPage() {
  const invitation = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  return (
    <div className="mx-auto max-w-lg">
      <PageHeader title={`Join ${invitation.organizationName}`} />
      <div className="space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        {actionData && 'error' in actionData ? (
          <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {actionData.error}
          </p>
        ) : null}
        {invitation.status === 'pending' ? (
          <>
            <p>
              {invitation.invitedBy} invited you to join <strong>{invitation.organizationName}</strong> as <RoleBadge role={invitation.role} />.
            </p>
            <div className="flex gap-3">
              <Form method="post">
                <input type="hidden" name="intent" value="accept" />
                <SubmitButton>Accept invitation</SubmitButton>
              </Form>
              <Form method="post">
                <input type="hidden" name="intent" value="decline" />
                <SubmitButton variant="secondary">Decline invitation</SubmitButton>
              </Form>
            </div>
          </>
        ) : (
          <p>This invitation can no longer be used: it was {invitation.status}.</p>
        )}
      </div>
    </div>
  )
}
