import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useLoaderData, useRouteLoaderData } from '@remix-run/react'
import { DeleteCard } from '~/components/delete-card'
import { IntentForm, SubmitButton, TextAreaField, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { storageTotals } from '~/services/files/files.server'
import { tenantPlanFormSchema, tenantStatusFormSchema, updateTenantFormSchema } from '~/services/tenants/schemas'
import { CheckboxGroupField, SelectField } from '~/components/forms'
import { LimitBar } from '~/components/limit-bar'
import { OneTimeSecret } from '~/components/one-time-secret'
import type { loader as rootLoader } from '~/root'
import { createApiKey, listApiKeys } from '~/services/api-keys/api-keys.server'
import { createApiKeyFormSchema } from '~/services/api-keys/schemas'
import { PERMISSION_DESCRIPTIONS, TENANT_KEY_PERMISSIONS } from '~/services/api-keys/permissions'
import { DASHBOARD_PAGE } from '~/services/pagination'
import { BYTE_LIMITS, LIMIT_LABELS, LIMIT_NAMES, formatLimit, type LimitName, type Limits } from '~/services/tenants/limits'
import { listPlans } from '~/services/tenants/plans.server'
import { transformsThisHour } from '~/services/tenants/quota.server'
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
  const canReadKeys = hasPermission(permissions, 'api-keys:read')
  const [plans, keys, transforms] = await Promise.all([
    orRouteError(listPlans(actor, project.id)),
    canReadKeys ? orRouteError(listApiKeys(actor, project.id, DASHBOARD_PAGE, { tenantId: tenant.id })) : null,
    transformsThisHour(project.id, tenant.id),
  ])
  const now = Date.now()
  return {
    tenant,
    totals,
    transformsThisHour: transforms,
    plans: plans.map(({ id, name }) => ({ id, name })),
    keys: keys?.items.map((key) => ({
      id: key.id,
      name: key.name,
      displayKey: key.displayKey,
      permissions: key.permissions,
      state: key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt.getTime() <= now ? 'expired' : 'active',
    })),
    keyPermissionOptions: TENANT_KEY_PERMISSIONS.map((permission) => ({
      value: permission,
      label: permission,
      description: PERMISSION_DESCRIPTIONS[permission],
      disabled: !hasPermission(permissions, permission),
    })),
    tenantsPath: `${base}/tenants`,
    apiKeysPath: `${base}/api-keys`,
    plansPath: `${base}/plans`,
    filesPath: `${base}/files?tenant=${encodeURIComponent(tenant.id)}`,
    canManage: hasPermission(permissions, 'tenants:manage'),
    canCreateKeys: hasPermission(permissions, 'api-keys:write'),
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
  if (intent === 'status') {
    return handleForm(formData, intent, tenantStatusFormSchema, async ({ status }) => {
      const updated = await updateTenant(actor, tenant.id, { status }, { projectId: project.id })
      return redirectWithFlash(`${tenantsPath}/${tenant.id}`, { kind: 'success', message: `Tenant ${updated.name} is ${updated.status} now.` })
    })
  }
  if (intent === 'plan') {
    return handleForm(formData, intent, tenantPlanFormSchema, async ({ planId, ...limits }) => {
      const updated = await updateTenant(actor, tenant.id, { planId, limits }, { projectId: project.id })
      return redirectWithFlash(`${tenantsPath}/${tenant.id}`, { kind: 'success', message: `Plan and limits of ${updated.name} saved.` })
    })
  }
  if (intent === 'create-key') {
    return handleForm(formData, intent, createApiKeyFormSchema, async (input) => {
      const { apiKey, key } = await createApiKey(actor, { ...input, projectId: project.id, tenantId: tenant.id })
      return redirectWithFlash(`${tenantsPath}/${tenant.id}`, {
        kind: 'success',
        message: `API key ${apiKey.name} created for ${tenant.name}. Copy it now: it is not shown again.`,
        secret: { label: 'API key', value: key, forId: apiKey.id },
      })
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
  const data = useLoaderData<typeof loader>()
  const { tenant, totals, tenantsPath, filesPath, canManage } = data
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
            <dt className="text-slate-500">Status</dt>
            <dd>
              <StatusBadge status={tenant.status} />
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Plan</dt>
            <dd>{tenant.plan?.name ?? 'none'}</dd>
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
      <UsageCard tenant={tenant} transformsThisHour={data.transformsThisHour} />
      <StatusForm key={`status-${tenant.status}`} status={tenant.status} canManage={canManage} />
      <PlanForm
        key={`plan-${new Date(tenant.updatedAt).getTime()}`}
        planId={tenant.plan?.id ?? ''}
        limits={tenant.limits}
        plans={data.plans}
        plansPath={data.plansPath}
        canManage={canManage}
      />
      {data.keys ? (
        <TenantKeys
          keys={data.keys}
          options={data.keyPermissionOptions}
          canCreate={data.canCreateKeys}
          apiKeysPath={data.apiKeysPath}
          tenantName={tenant.name}
        />
      ) : null}
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

const STATUS_TEXT = {
  active: 'Active',
  suspended: 'Suspended: uploads, downloads and transforms are refused',
  archived: 'Archived: read-only',
} as const

function StatusBadge({ status }: { status: keyof typeof STATUS_TEXT }) {
  const tone =
    status === 'active' ? 'bg-green-100 text-green-800' : status === 'suspended' ? 'bg-red-100 text-red-800' : 'bg-slate-200 text-slate-800'
  return <span className={`rounded px-2 py-0.5 text-xs font-medium ${tone}`}>{STATUS_TEXT[status]}</span>
}

function UsageCard({
  tenant,
  transformsThisHour,
}: {
  tenant: {
    effectiveLimits: Limits
    usage: { storedBytes: number; fileCount: number; reservedBytes: number; reservedFiles: number; uploadsThisHour: number }
  }
  transformsThisHour: number
}) {
  const { usage, effectiveLimits } = tenant
  const used: Record<LimitName, number | null> = {
    storedBytes: usage.storedBytes,
    fileCount: usage.fileCount,
    fileSize: null,
    uploadsPerHour: usage.uploadsThisHour,
    transformsPerHour: transformsThisHour,
  }
  const notes: Partial<Record<LimitName, string>> = {
    storedBytes: usage.reservedBytes > 0 ? `${formatBytes(usage.reservedBytes)} more reserved by uploads in progress` : undefined,
    fileCount: usage.reservedFiles > 0 ? `${usage.reservedFiles} more reserved by uploads in progress` : undefined,
    uploadsPerHour: 'This clock hour (UTC)',
    transformsPerHour: 'This clock hour, as metered (a few seconds behind)',
  }
  return (
    <Card title="Usage and limits">
      <div className="space-y-4">
        {LIMIT_NAMES.map((name) => (
          <LimitBar
            key={name}
            label={LIMIT_LABELS[name]}
            used={used[name]}
            limit={effectiveLimits[name]}
            show={(value) => (BYTE_LIMITS.includes(name) ? formatBytes(value) : formatLimit(name, value))}
            note={notes[name]}
          />
        ))}
      </div>
    </Card>
  )
}

function StatusForm({ status, canManage }: { status: string; canManage: boolean }) {
  const [form, fields] = useIntentForm('status', tenantStatusFormSchema, { status })
  return (
    <Card title="Status">
      <IntentForm form={form} intent="status">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot change tenants in this project.</p>}
        <p className="text-sm text-slate-600">
          A suspended tenant&apos;s uploads, downloads and transforms are refused; an archived tenant&apos;s files stay readable but nothing of
          it changes. Each change is audited and sent as a webhook event.
        </p>
        <SelectField
          label="Tenant status"
          field={fields.status}
          options={[
            { value: 'active', label: 'Active' },
            { value: 'suspended', label: 'Suspended' },
            { value: 'archived', label: 'Archived' },
          ]}
        />
        <SubmitButton>Change status</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function PlanForm({
  planId,
  limits,
  plans,
  plansPath,
  canManage,
}: {
  planId: string
  limits: Limits
  plans: { id: string; name: string }[]
  plansPath: string
  canManage: boolean
}) {
  const defaults = Object.fromEntries(LIMIT_NAMES.map((name) => [name, limits[name] === null ? '' : String(limits[name])]))
  const [form, fields] = useIntentForm('plan', tenantPlanFormSchema, { planId, ...defaults })
  return (
    <Card title="Plan and limits">
      <IntentForm form={form} intent="plan">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot change tenants in this project.</p>}
        <SelectField
          label="Plan"
          field={fields.planId}
          options={[{ value: '', label: 'No plan' }, ...plans.map((plan) => ({ value: plan.id, label: plan.name }))]}
        />
        <p className="text-sm text-slate-600">
          Overrides replace the plan&apos;s limit for this tenant; leave one empty to use the plan&apos;s.{' '}
          <Link to={plansPath}>Manage plans</Link>
        </p>
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField label="Stored bytes override" field={fields.storedBytes} hint="e.g. 5 GiB or bytes." />
          <TextField label="Files override" field={fields.fileCount} />
          <TextField label="Largest file override" field={fields.fileSize} hint="e.g. 100 MiB." />
          <TextField label="Uploads per hour override" field={fields.uploadsPerHour} />
          <TextField label="Transforms per hour override" field={fields.transformsPerHour} />
        </div>
        <SubmitButton>Save plan and limits</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function TenantKeys({
  keys,
  options,
  canCreate,
  apiKeysPath,
  tenantName,
}: {
  keys: { id: string; name: string; displayKey: string; permissions: string[]; state: string }[]
  options: { value: string; label: string; description: string; disabled: boolean }[]
  canCreate: boolean
  apiKeysPath: string
  tenantName: string
}) {
  const secret = useRouteLoaderData<typeof rootLoader>('root')?.flash?.secret
  const newKey = secret?.forId && keys.some((key) => key.id === secret.forId) ? secret : null
  const [form, fields] = useIntentForm('create-key', createApiKeyFormSchema)
  return (
    <Card title="Tenant API keys">
      <p className="mb-3 text-sm text-slate-600">
        A tenant key reaches only {tenantName}&apos;s files, uploads and transforms: other tenants&apos; files answer 404, and it cannot create
        tenants or keys. Revoke keys on the <Link to={apiKeysPath}>API keys</Link> page.
      </p>
      {newKey ? <OneTimeSecret label={newKey.label} value={newKey.value} /> : null}
      {keys.length === 0 ? (
        <EmptyState>No keys for this tenant yet.</EmptyState>
      ) : (
        <ul className="mb-4 divide-y divide-slate-100 text-sm">
          {keys.map((key) => (
            <li key={key.id} className="py-2">
              <span className="font-medium">{key.name}</span> <code>{key.displayKey}</code> <span className="text-slate-500">({key.state})</span>
              <span className="block text-xs text-slate-500">{key.permissions.join(', ')}</span>
            </li>
          ))}
        </ul>
      )}
      <IntentForm form={form} intent="create-key">
        {canCreate ? null : <p className="text-sm text-slate-600">Your role cannot create API keys in this project.</p>}
        <TextField label="Key name" field={fields.name} hint="What the key is for, e.g. the tenant's own server." />
        <CheckboxGroupField legend="Permissions" field={fields.permissions} options={options} />
        <SubmitButton>Create tenant key</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function UpdateTenantForm({ name, metadata, canManage }: { name: string; metadata: unknown; canManage: boolean }) {
  const [form, fields] = useIntentForm('update', updateTenantFormSchema, { name, metadata: JSON.stringify(metadata, null, 2) })
  return (
    <Card title="Name and metadata">
      <IntentForm form={form} intent="update">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot change tenants in this project.</p>}
        <TextField label="Tenant name" field={fields.name} />
        <TextAreaField
          label="Metadata (JSON)"
          field={fields.metadata}
          rows={6}
          hint="A JSON object; it replaces the current metadata. Empty means {}."
        />
        <SubmitButton>Save tenant</SubmitButton>
      </IntentForm>
    </Card>
  )
}
