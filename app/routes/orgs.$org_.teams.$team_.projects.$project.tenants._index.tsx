import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextAreaField, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { DASHBOARD_PAGE, pageQuerySchema } from '~/services/pagination'
import { createTenantFormSchema } from '~/services/tenants/schemas'
import { createTenant, listTenants } from '~/services/tenants/tenants.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project, permissions } = await projectFromParams(actor, params)
  const cursor = new URL(request.url).searchParams.get('cursor')
  const page = pageQuerySchema.catch(DASHBOARD_PAGE).parse({ ...DASHBOARD_PAGE, cursor: cursor || undefined })
  const tenants = await orRouteError(listTenants(actor, project.id, page))
  const base = projectPath(organization, team, project)
  return {
    tenantsPath: `${base}/tenants`,
    filesPath: `${base}/files`,
    tenants: tenants.items.map(({ id, slug, name, createdAt }) => ({ id, slug, name, createdAt })),
    nextCursor: tenants.nextCursor,
    isFirstPage: !page.cursor,
    canManage: hasPermission(permissions, 'tenants:manage'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const here = `${projectPath(organization, team, project)}/tenants`
  if (formData.get('intent') !== 'create') throw redirect(here)
  return handleForm(formData, 'create', createTenantFormSchema, async (input) => {
    const tenant = await createTenant(actor, { ...input, projectId: project.id })
    return redirectWithFlash(here, { kind: 'success', message: `Tenant ${tenant.name} created.` })
  })
}

export default function ProjectTenants() {
  const { tenantsPath, filesPath, tenants, nextCursor, isFirstPage, canManage } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <Card title="Tenants">
        <p className="mb-3 text-sm text-slate-600">
          Tenants are your own customers: uploads and files can be scoped to one, and API listings filtered by it.
        </p>
        {tenants.length === 0 ? (
          <EmptyState>No tenants in this project yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {tenants.map((tenant) => (
              <li key={tenant.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
                <p>
                  <Link to={`${tenantsPath}/${tenant.id}`} className="font-medium">
                    {tenant.name}
                  </Link>{' '}
                  <code className="text-sm text-slate-600">{tenant.slug}</code>
                  <span className="block text-xs text-slate-500">Created <DateTime value={tenant.createdAt} /></span>
                </p>
                <Link to={`${filesPath}?tenant=${encodeURIComponent(tenant.id)}`} className="text-sm">
                  Files<span className="sr-only"> of {tenant.name}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
        {nextCursor || !isFirstPage ? (
          <nav aria-label="Pages of tenants" className="mt-3 flex gap-4 text-sm">
            {isFirstPage ? null : <Link to={tenantsPath}>First page</Link>}
            {nextCursor ? <Link to={`?cursor=${encodeURIComponent(nextCursor)}`}>Next page</Link> : null}
          </nav>
        ) : null}
      </Card>
      {/* A new tenant changes the list: the form then starts empty again. */}
      <CreateTenantForm key={tenants.map((tenant) => tenant.id).join()} canManage={canManage} />
    </div>
  )
}

function CreateTenantForm({ canManage }: { canManage: boolean }) {
  const [form, fields] = useIntentForm('create', createTenantFormSchema)
  return (
    <Card title="Create a tenant">
      <IntentForm form={form} intent="create">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot create tenants in this project.</p>}
        <TextField label="Tenant name" field={fields.name} hint="For people, e.g. Acme Corporation." />
        <TextField
          label="Tenant slug"
          field={fields.slug}
          hint="Unique in this project and fixed once created: lowercase letters, digits, - and _ (e.g. your own customer id)."
        />
        <TextAreaField label="Metadata (JSON)" field={fields.metadata} rows={4} hint='Optional. A JSON object, e.g. {"plan": "pro"}; at most 16 KiB.' />
        <SubmitButton>Create tenant</SubmitButton>
      </IntentForm>
    </Card>
  )
}
