import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { signOut } from '~/services/accounts/sessions.server'
import { clearSessionCookie, getOptionalUser, requireUser } from '~/services/accounts/session-cookie.server'

export async function loader() {
  return redirect('/')
}

export async function action({ request, context }: ActionFunctionArgs) {
  if (await getOptionalUser(request)) {
    const { actor, sessionId } = await requireUser(request, context)
    await signOut(actor, sessionId)
  }
  return redirect('/login', { headers: { 'Set-Cookie': await clearSessionCookie() } })
}
