import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState, PageHeader } from '~/components/layout'
import { RoleBadge } from '~/components/role-badge'
import { createOrganization, listOrganizations } from '~/services/workspaces/organizations.server'
import { createOrganizationSchema } from '~/services/workspaces/schemas'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath } from '~/utils/paths'
import { DASHBOARD_PAGE, byName } from '~/services/pagination'

export const meta: MetaFunction = () => [{ title: 'Organizations · Carcosa' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  return { organizations: byName((await listOrganizations(actor, DASHBOARD_PAGE)).items) }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  return handleForm(await request.formData(), 'create-organization', createOrganizationSchema, async (input) => {
    const organization = await createOrganization(actor, input)
    return redirectWithFlash(organizationPath(organization), { kind: 'success', message: `Organization ${organization.name} created.` })
  })
}

export default function Organizations() {
  const { organizations } = useLoaderData<typeof loader>()
  const [form, fields] = useIntentForm('create-organization', createOrganizationSchema)
  return (
    <>
      <PageHeader title="Organizations" description="Every organization has its own teams, projects, members and buckets." />
      <div className="grid gap-6 md:grid-cols-2">
        <Card title="Your organizations">
          {organizations.length === 0 ? (
            <EmptyState>You are not in any organization yet.</EmptyState>
          ) : (
            <ul className="divide-y divide-slate-100">
              {organizations.map((organization) => (
                <li key={organization.id} className="flex items-center justify-between py-2">
                  <Link to={organizationPath(organization)} className="font-medium">
                    {organization.name}
                  </Link>
                  <RoleBadge role={organization.role} />
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Create an organization">
          <IntentForm form={form} intent="create-organization">
            <TextField label="Organization name" field={fields.name} />
            <TextField label="Organization slug (optional)" field={fields.slug} hint="Derived from the name when empty." />
            <SubmitButton>Create organization</SubmitButton>
          </IntentForm>
        </Card>
      </div>
    </>
  )
}
