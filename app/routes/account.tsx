import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, PageHeader } from '~/components/layout'
import { changeEmailSchema, changePasswordSchema, updateProfileSchema } from '~/services/accounts/schemas'
import { listSessions, revokeSession } from '~/services/accounts/sessions.server'
import { changeEmail, changePassword, updateProfile } from '~/services/accounts/users.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { DateTime } from '~/components/date-time'

export const meta: MetaFunction = () => [{ title: 'Account · Carcosa' }]

const revokeSessionSchema = z.object({ sessionId: z.string().min(1) })

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { actor, user, sessionId } = await requireUser(request, context)
  const sessions = await listSessions(actor)
  return { user, sessions: sessions.map((s) => ({ ...s, current: s.id === sessionId })) }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { actor, sessionId } = await requireUser(request, context)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const done = (message: string) => redirectWithFlash('/account', { kind: 'success', message })
  switch (intent.split(':')[0]) {
    case 'profile':
      return handleForm(formData, intent, updateProfileSchema, async (input) => {
        await updateProfile(actor, input)
        return done('Name saved.')
      })
    case 'email':
      return handleForm(formData, intent, changeEmailSchema, async (input) => {
        await changeEmail(actor, input)
        return done(`Email changed to ${input.email}.`)
      })
    case 'password':
      return handleForm(formData, intent, changePasswordSchema, async (input) => {
        await changePassword(actor, input, sessionId)
        return done('Password changed. Your other sessions were signed out.')
      })
    case 'revoke-session':
      return handleForm(formData, intent, revokeSessionSchema, async (input) => {
        await revokeSession(actor, input.sessionId)
        if (input.sessionId === sessionId) throw redirect('/login')
        return done('Session revoked.')
      })
    default:
      throw redirect('/account')
  }
}

export default function Account() {
  const { user, sessions } = useLoaderData<typeof loader>()
  const [profileForm, profileFields] = useIntentForm('profile', updateProfileSchema, { name: user.name })
  const [emailForm, emailFields] = useIntentForm('email', changeEmailSchema, { email: user.email })
  const [passwordForm, passwordFields] = useIntentForm('password', changePasswordSchema)
  return (
    <>
      <PageHeader title="Your account" description={`Signed in as ${user.email}.`} />
      <div className="grid gap-6 md:grid-cols-2">
        <Card title="Profile">
          <IntentForm form={profileForm} intent="profile">
            <TextField label="Name" field={profileFields.name} autoComplete="name" />
            <SubmitButton>Save name</SubmitButton>
          </IntentForm>
        </Card>
        <Card title="Email">
          <IntentForm form={emailForm} intent="email">
            <TextField label="New email" field={emailFields.email} type="email" autoComplete="email" />
            <TextField label="Current password" field={emailFields.currentPassword} type="password" autoComplete="current-password" />
            <SubmitButton>Change email</SubmitButton>
          </IntentForm>
        </Card>
        <Card title="Password">
          <IntentForm form={passwordForm} intent="password">
            <TextField label="Current password" field={passwordFields.currentPassword} type="password" autoComplete="current-password" />
            <TextField
              label="New password"
              field={passwordFields.newPassword}
              type="password"
              autoComplete="new-password"
              hint="At least 8 characters. Other sessions are signed out."
            />
            <TextField label="Repeat new password" field={passwordFields.confirmPassword} type="password" autoComplete="new-password" />
            <SubmitButton>Change password</SubmitButton>
          </IntentForm>
        </Card>
        <Card title="Sessions">
          <ul className="divide-y divide-slate-100 text-sm">
            {sessions.map((session) => (
              <li key={session.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <div>
                  <p className="font-medium">
                    {describeAgent(session.userAgent)} {session.current ? <span className="text-xs text-green-700">(this browser)</span> : null}
                  </p>
                  <p className="text-slate-600">
                    {session.ipAddress ?? 'unknown address'} · last active <DateTime value={session.lastSeenAt} relative />
                  </p>
                </div>
                <Form method="post">
                  <input type="hidden" name="intent" value={`revoke-session:${session.id}`} />
                  <input type="hidden" name="sessionId" value={session.id} />
                  <SubmitButton variant="secondary">{session.current ? 'Sign out this browser' : 'Revoke session'}</SubmitButton>
                </Form>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </>
  )
}

function describeAgent(userAgent: string | null) {
  if (!userAgent) return 'Unknown client'
  const browser = /Firefox\//.test(userAgent)
    ? 'Firefox'
    : /Edg\//.test(userAgent)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser'
  const system = /Windows/.test(userAgent)
    ? 'Windows'
    : /Mac OS/.test(userAgent)
      ? 'macOS'
      : /Android/.test(userAgent)
        ? 'Android'
        : /Linux/.test(userAgent)
          ? 'Linux'
          : /iPhone|iPad/.test(userAgent)
            ? 'iOS'
            : ''
  return system ? `${browser} on ${system}` : browser
}
