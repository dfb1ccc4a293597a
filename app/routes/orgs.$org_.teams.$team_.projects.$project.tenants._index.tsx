import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { IntentForm, SelectField, SubmitButton, TextAreaField, TextField, useIntentForm } from '~/components/forms'
import { importTenantsFormSchema } from '~/services/tenants/transfer-schemas'
import { importTenants, type ImportReport } from '~/services/tenants/transfer.server'
import { formatBytes } from '~/utils/sizes'
import { data } from '@remix-run/node'
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
  const url = new URL(request.url)
  const cursor = url.searchParams.get('cursor')
  const search = url.searchParams.get('q')?.trim().slice(0, 120) || undefined
  const page = pageQuerySchema.catch(DASHBOARD_PAGE).parse({ ...DASHBOARD_PAGE, cursor: cursor || undefined })
  const tenants = await orRouteError(listTenants(actor, project.id, page, { search }))
  const base = projectPath(organization, team, project)
  return {
    tenantsPath: `${base}/tenants`,
    filesPath: `${base}/files`,
    search: search ?? '',
    tenants: tenants.items.map(({ id, slug, name, createdAt, status, plan, usage }) => ({
      id,
      slug,
      name,
      createdAt,
      status,
      plan: plan?.name ?? null,
      fileCount: usage.fileCount,
      storedBytes: usage.storedBytes,
    })),
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
  if (formData.get('intent') === 'import') {
    return handleForm(formData, 'import', importTenantsFormSchema, async (input) => {
      const report = await importTenants(actor, project.id, input)
      if (report.dryRun) return data({ intent: 'import-preview', report })
      return redirectWithFlash(here, {
        kind: 'success',
        message: `Import done: ${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged.`,
      })
    })
  }
  if (formData.get('intent') !== 'create') throw redirect(here)
  return handleForm(formData, 'create', createTenantFormSchema, async (input) => {
    const tenant = await createTenant(actor, { ...input, projectId: project.id })
    return redirectWithFlash(here, { kind: 'success', message: `Tenant ${tenant.name} created.` })
  })
}

export default function ProjectTenants() {
  const { tenantsPath, filesPath, tenants, nextCursor, isFirstPage, canManage, search } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <Card title="Tenants">
        <p className="mb-3 text-sm text-slate-600">
          Tenants are your own customers: uploads and files can be scoped to one, and API listings filtered by it.
        </p>
        <Form method="get" role="search" className="mb-4 flex flex-wrap items-end gap-2">
          <div>
            <label htmlFor="tenant-search" className="block text-sm font-medium text-slate-700">
              Search tenants
            </label>
            <input
              id="tenant-search"
              name="q"
              type="search"
              defaultValue={search}
              placeholder="Name or slug"
              className="mt-1 rounded-md border border-slate-300 px-3 py-2 text-sm"
            />
          </div>
          <button
            type="submit"
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-800 hover:bg-slate-50"
          >
            Search
          </button>
          {search ? (
            <Link to={tenantsPath} className="text-sm">
              Show all
            </Link>
          ) : null}
        </Form>
        {tenants.length === 0 ? (
          <EmptyState>{search ? `No tenant's name or slug contains “${search}”.` : 'No tenants in this project yet.'}</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {tenants.map((tenant) => (
              <li key={tenant.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
                <p>
                  <Link to={`${tenantsPath}/${tenant.id}`} className="font-medium">
                    {tenant.name}
                  </Link>{' '}
                  <code className="text-sm text-slate-600">{tenant.slug}</code>
                  {tenant.status === 'active' ? null : (
                    <span className="ml-2 rounded bg-slate-200 px-2 py-0.5 text-xs text-slate-800">{tenant.status}</span>
                  )}
                  <span className="block text-xs text-slate-500">
                    {tenant.fileCount} {tenant.fileCount === 1 ? 'file' : 'files'}, {formatBytes(tenant.storedBytes)}
                    {tenant.plan ? ` · plan ${tenant.plan}` : ''} · created <DateTime value={tenant.createdAt} />
                  </span>
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
            {nextCursor ? (
              <Link to={`?cursor=${encodeURIComponent(nextCursor)}${search ? `&q=${encodeURIComponent(search)}` : ''}`}>Next page</Link>
            ) : null}
          </nav>
        ) : null}
      </Card>
      {/* A new tenant changes the list: the form then starts empty again. */}
      <CreateTenantForm key={tenants.map((tenant) => tenant.id).join()} canManage={canManage} />
      <ImportForm canManage={canManage} />
      <Card title="Export tenants">
        <p className="mb-2 text-sm text-slate-600">
          Every tenant of this project with its status, plan, metadata, files and bytes. An export imports again as it is.
        </p>
        <p className="flex gap-4 text-sm">
          <a href={`${tenantsPath}/export?format=csv`} download>
            Download CSV
          </a>
          <a href={`${tenantsPath}/export?format=json`} download>
            Download JSON
          </a>
        </p>
      </Card>
    </div>
  )
}

function ImportForm({ canManage }: { canManage: boolean }) {
  const [form, fields] = useIntentForm('import', importTenantsFormSchema, { format: 'csv' })
  const actionData = useActionData<{ intent: string; report?: ImportReport }>()
  const report = actionData?.intent === 'import-preview' ? actionData.report : undefined
  return (
    <Card title="Import tenants">
      <IntentForm form={form} intent="import">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot import tenants into this project.</p>}
        <p className="text-sm text-slate-600">
          Tenants are matched by slug: new slugs are created, existing ones updated. Either everything is imported or nothing. CSV needs a header
          row with <code>slug</code> and <code>name</code>, and may have <code>status</code>, <code>plan</code> (a plan&apos;s name) and{' '}
          <code>metadata</code> (JSON); JSON is an array of the same fields.
        </p>
        <SelectField
          label="Format"
          field={fields.format}
          options={[
            { value: 'csv', label: 'CSV' },
            { value: 'json', label: 'JSON' },
          ]}
        />
        <TextAreaField label="Tenants to import" field={fields.data} rows={8} hint="Paste the CSV or JSON here (at most 1,000 tenants)." />
        <div className="flex flex-wrap gap-3">
          <SubmitButton variant="secondary" name="dryRun" value="true">
            Preview changes
          </SubmitButton>
          <SubmitButton>Import</SubmitButton>
        </div>
      </IntentForm>
      {report ? (
        <section aria-labelledby="import-preview-title" className="mt-4 rounded-md border border-slate-200 p-3">
          <h3 id="import-preview-title" className="text-sm font-semibold">
            Preview: {report.created} to create, {report.updated} to update, {report.unchanged} unchanged (nothing imported yet)
          </h3>
          <ul className="mt-2 text-sm">
            {report.tenants.map((change) => (
              <li key={change.slug}>
                <code>{change.slug}</code>: {change.action}
                {change.action === 'update' ? ` (${change.fields.join(', ')})` : ''}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </Card>
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
        <TextAreaField
          label="Metadata (JSON)"
          field={fields.metadata}
          rows={4}
          hint='Optional. A JSON object, e.g. {"plan": "pro"}; at most 16 KiB.'
        />
        <SubmitButton>Create tenant</SubmitButton>
      </IntentForm>
    </Card>
  )
}
