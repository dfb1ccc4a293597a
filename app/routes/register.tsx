import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { registerSchema } from '~/services/accounts/schemas'
import { createSession } from '~/services/accounts/sessions.server'
import { registerUser } from '~/services/accounts/users.server'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { PageHeader } from '~/components/layout'
import { redirectWithFlash } from '~/utils/flash.server'
import { requestMeta, safeRedirectPath } from '~/utils/request.server'
import { handleForm } from '~/utils/route-errors.server'
import { commitSessionCookie, requireAnonymous } from '~/services/accounts/session-cookie.server'

const registerFormSchema = registerSchema.extend({ redirectTo: z.string().optional() })

export const meta: MetaFunction = () => [{ title: 'Create your account · Carcosa' }]

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAnonymous(request)
  return null
}

export async function action({ request, context }: ActionFunctionArgs) {
  const meta = requestMeta(request, context)
  return handleForm(await request.formData(), 'register', registerFormSchema, async ({ redirectTo, ...input }) => {
    const user = await registerUser(input, meta)
    const { token } = await createSession(user.id, meta)
    return redirectWithFlash(
      safeRedirectPath(redirectTo, request.url, '/onboarding'),
      { kind: 'success', message: `Welcome to Carcosa, ${user.name}.` },
      { 'Set-Cookie': await commitSessionCookie(token) },
    )
  })
}

export default function Register() {
  const [searchParams] = useSearchParams()
  const redirectTo = searchParams.get('redirectTo') ?? ''
  const [form, fields] = useIntentForm('register', registerFormSchema)
  return (
    <div className="mx-auto max-w-md">
      <PageHeader title="Create your account" description="Carcosa keeps your media in your own buckets." />
      <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <IntentForm form={form} intent="register">
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <TextField label="Name" field={fields.name} autoComplete="name" />
          <TextField label="Email" field={fields.email} type="email" autoComplete="email" />
          <TextField label="Password" field={fields.password} type="password" autoComplete="new-password" hint="At least 8 characters." />
          <SubmitButton>Create account</SubmitButton>
        </IntentForm>
      </div>
      <p className="mt-4 text-sm text-slate-600">
        Already have an account? <Link to={redirectTo ? `/login?${new URLSearchParams({ redirectTo })}` : '/login'}>Sign in</Link>
      </p>
    </div>
  )
}
