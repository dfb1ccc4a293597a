import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { DeleteCard } from '~/components/delete-card'
import { IntentForm, SubmitButton, TextAreaField, TextField, useIntentForm } from '~/components/forms'
import { Card } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { storageTotals } from '~/services/files/files.server'
import { updateTenantFormSchema } from '~/services/tenants/schemas'
import { deleteTenant, getTenant, updateTenant } from '~/services/tenants/tenants.server'
import { confirmDeletionSchema } from '~/services/workspaces/schemas'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { formatBytes } from '~/utils/sizes'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.tenant.name ?? 'Tenant'} · Carcosa` }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project, permissions } = await projectFromParams(actor, params)
  const tenant = await orRouteError(getTenant(actor, params.tenantId ?? '', { projectId: project.id }))
  const canReadFiles = hasPermission(permissions, 'files:read')
  const totals = canReadFiles ? await orRouteError(storageTotals(actor, project.id, { tenantId: tenant.id })) : null
  const base = projectPath(organization, team, project)
  return {
    tenant,
    totals,
    tenantsPath: `${base}/tenants`,
    filesPath: `${base}/files?tenant=${encodeURIComponent(tenant.id)}`,
    canManage: hasPermission(permissions, 'tenants:manage'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const tenant = await orRouteError(getTenant(actor, params.tenantId ?? '', { projectId: project.id }))
  const tenantsPath = `${projectPath(organization, team, project)}/tenants`
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  if (intent === 'update') {
    return handleForm(formData, intent, updateTenantFormSchema, async (input) => {
      const updated = await updateTenant(actor, tenant.id, input, { projectId: project.id })
      return redirectWithFlash(`${tenantsPath}/${tenant.id}`, { kind: 'success', message: `Tenant ${updated.name} saved.` })
    })
  }
  if (intent === 'delete') {
    return handleForm(formData, intent, confirmDeletionSchema(tenant.slug), async () => {
      await deleteTenant(actor, tenant.id, { projectId: project.id })
      return redirectWithFlash(tenantsPath, { kind: 'success', message: `Tenant ${tenant.name} deleted.` })
    })
  }
  throw redirect(`${tenantsPath}/${tenant.id}`)
}

export default function TenantPage() {
  const { tenant, totals, tenantsPath, filesPath, canManage } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link to={tenantsPath}>← All tenants</Link>
      </p>
      <Card title={`Tenant ${tenant.name}`}>
        <dl className="grid grid-cols-1 gap-3 text-sm sm:grid-cols-3">
          <div>
            <dt className="text-slate-500">Slug</dt>
            <dd>
              <code>{tenant.slug}</code>
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Tenant ID</dt>
            <dd>
              <code>{tenant.id}</code>
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Created</dt>
            <dd>
              <DateTime value={tenant.createdAt} />
            </dd>
          </div>
          {totals ? (
            <div>
              <dt className="text-slate-500">Storage</dt>
              <dd>
                {formatBytes(totals.bytes)} in {totals.fileCount} {totals.fileCount === 1 ? 'file' : 'files'}
              </dd>
            </div>
          ) : null}
        </dl>
        <p className="mt-4 text-sm">
          <Link to={filesPath}>Files of {tenant.name}</Link>
        </p>
      </Card>
      {/* A saved change starts the form over from the stored values, as after a reload. */}
      <UpdateTenantForm key={new Date(tenant.updatedAt).getTime()} name={tenant.name} metadata={tenant.metadata} canManage={canManage} />
      <DeleteCard
        what="tenant"
        slug={tenant.slug}
        allowed={canManage}
        notice="A tenant can be deleted once it has no files and no uploads in progress."
        deniedNotice="Your role cannot delete tenants in this project."
      />
    </div>
  )
}

function UpdateTenantForm({ name, metadata, canManage }: { name: string; metadata: unknown; canManage: boolean }) {
  const [form, fields] = useIntentForm('update', updateTenantFormSchema, { name, metadata: JSON.stringify(metadata, null, 2) })
  return (
    <Card title="Name and metadata">
      <IntentForm form={form} intent="update">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot change tenants in this project.</p>}
        <TextField label="Tenant name" field={fields.name} />
        <TextAreaField label="Metadata (JSON)" field={fields.metadata} rows={6} hint="A JSON object; it replaces the current metadata. Empty means {}." />
        <SubmitButton>Save tenant</SubmitButton>
      </IntentForm>
    </Card>
  )
}
