import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useSearchParams } from '@remix-run/react'
import { signInSchema } from '~/services/accounts/schemas'
import { createSession } from '~/services/accounts/sessions.server'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { PageHeader } from '~/components/layout'
import { authenticateWithPassword } from '~/services/accounts/password-auth.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { requestMeta, safeRedirectPath } from '~/utils/request.server'
import { handleForm } from '~/utils/route-errors.server'
import { commitSessionCookie, requireAnonymous } from '~/services/accounts/session-cookie.server'

export const meta: MetaFunction = () => [{ title: 'Sign in · Carcosa' }]

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAnonymous(request)
  return null
}

export async function action({ request, context }: ActionFunctionArgs) {
  const meta = requestMeta(request, context)
  const formData = await request.clone().formData()
  return handleForm(formData, 'login', signInSchema, async (input) => {
    const user = await authenticateWithPassword(request, meta)
    const { token } = await createSession(user.id, meta)
    return redirectWithFlash(
      safeRedirectPath(input.redirectTo, request.url),
      { kind: 'success', message: `Signed in as ${user.email}.` },
      { 'Set-Cookie': await commitSessionCookie(token) },
    )
  })
}

export default function Login() {
  const [searchParams] = useSearchParams()
  const redirectTo = searchParams.get('redirectTo') ?? ''
  const [form, fields] = useIntentForm('login', signInSchema)
  return (
    <div className="mx-auto max-w-md">
      <PageHeader title="Sign in to Carcosa" />
      <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <IntentForm form={form} intent="login">
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <TextField label="Email" field={fields.email} type="email" autoComplete="email" />
          <TextField label="Password" field={fields.password} type="password" autoComplete="current-password" />
          <SubmitButton>Sign in</SubmitButton>
        </IntentForm>
      </div>
      <p className="mt-4 text-sm text-slate-600">
        New here? <Link to={redirectTo ? `/register?${new URLSearchParams({ redirectTo })}` : '/register'}>Create an account</Link>
      </p>
    </div>
  )
}
