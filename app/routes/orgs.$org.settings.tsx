import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { DeleteCard } from '~/components/delete-card'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card } from '~/components/layout'
import { organizationCapabilities } from '~/services/workspaces/access.server'
import { deleteOrganization, updateOrganization } from '~/services/workspaces/organizations.server'
import { confirmDeletionSchema, updateOrganizationSchema } from '~/services/workspaces/schemas'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { organizationPath } from '~/utils/paths'
import { organizationFromParams } from '~/services/workspaces/workspace-params.server'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, role } = await organizationFromParams(actor, params)
  return { organization, ...organizationCapabilities(role) }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization } = await organizationFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  if (intent === 'update') {
    return handleForm(formData, intent, updateOrganizationSchema, async (input) => {
      const updated = await updateOrganization(actor, organization.id, input)
      return redirectWithFlash(`${organizationPath(updated)}/settings`, { kind: 'success', message: 'Organization settings saved.' })
    })
  }
  if (intent === 'delete') {
    return handleForm(formData, intent, confirmDeletionSchema(organization.slug), async () => {
      await deleteOrganization(actor, organization.id)
      return redirectWithFlash('/', { kind: 'success', message: `Organization ${organization.name} deleted.` })
    })
  }
  throw redirect(`${organizationPath(organization)}/settings`)
}

export default function OrganizationSettings() {
  const { organization, canEdit, canDelete } = useLoaderData<typeof loader>()
  const [form, fields] = useIntentForm('update', updateOrganizationSchema, { name: organization.name, slug: organization.slug })
  return (
    <div className="space-y-6">
      <Card title="General">
        <IntentForm form={form} intent="update">
          {canEdit ? null : <p className="text-sm text-slate-600">Only admins and owners can change these settings.</p>}
          <TextField label="Organization name" field={fields.name} />
          <TextField
            label="Organization slug"
            field={fields.slug}
            hint="Changing the slug changes the organization's URLs and the storage paths of new files."
          />
          <SubmitButton>Save changes</SubmitButton>
        </IntentForm>
      </Card>
      <DeleteCard
        what="organization"
        slug={organization.slug}
        allowed={canDelete}
        notice="Deleting the organization removes its teams, projects, members and invitations. This cannot be undone."
        deniedNotice="Only an owner can delete this organization."
      />
    </div>
  )
}
