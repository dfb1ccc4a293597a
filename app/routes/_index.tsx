import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { listOrganizations } from '~/services/workspaces/organizations.server'
import { getOptionalUser, requireUser } from '~/services/accounts/session-cookie.server'
import { DASHBOARD_PAGE } from '~/services/pagination'

/** Home: sign-in for visitors, onboarding for a new account, else the first organization. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  if (!(await getOptionalUser(request))) return redirect('/login')
  const { actor } = await requireUser(request, context)
  const { items: organizations } = await listOrganizations(actor, DASHBOARD_PAGE)
  const first = organizations[0]
  return redirect(first ? `/orgs/${first.slug}` : '/onboarding')
}
