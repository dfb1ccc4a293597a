import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { LIMIT_LABELS, LIMIT_NAMES, formatLimit, type Limits } from '~/services/tenants/limits'
import { planFormSchema } from '~/services/tenants/plan-schemas'
import { createPlan, deletePlan, listPlans, updatePlan } from '~/services/tenants/plans.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { projectPath } from '~/utils/paths'
import { handleForm, orRouteError } from '~/utils/route-errors.server'

export const meta: MetaFunction = () => [{ title: 'Plans · Carcosa' }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project, permissions } = await projectFromParams(actor, params)
  const plans = await orRouteError(listPlans(actor, project.id))
  return { plans, canManage: hasPermission(permissions, 'tenants:manage') }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const here = `${projectPath(organization, team, project)}/plans`
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const [kind, planId = ''] = intent.split(':')
  if (kind === 'create') {
    return handleForm(formData, intent, planFormSchema, async ({ name, ...limits }) => {
      const plan = await createPlan(actor, { projectId: project.id, name, limits })
      return redirectWithFlash(here, { kind: 'success', message: `Plan ${plan.name} created.` })
    })
  }
  if (kind === 'update') {
    return handleForm(formData, intent, planFormSchema, async ({ name, ...limits }) => {
      const plan = await updatePlan(actor, planId, { name, limits }, { projectId: project.id })
      return redirectWithFlash(here, { kind: 'success', message: `Plan ${plan.name} saved; its tenants follow its limits now.` })
    })
  }
  if (kind === 'delete') {
    await orRouteError(deletePlan(actor, planId, { projectId: project.id }))
    return redirectWithFlash(here, { kind: 'success', message: 'Plan deleted; its tenants keep their own overrides.' })
  }
  throw redirect(here)
}

/** A limit as a form shows it: bytes as a whole number (sizes such as `5 GiB` are accepted too). */
const limitDefaults = (limits: Limits) =>
  Object.fromEntries(LIMIT_NAMES.map((name) => [name, limits[name] === null ? '' : String(limits[name])]))

export default function ProjectPlans() {
  const { plans, canManage } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <Card title="Plans">
        <p className="mb-3 text-sm text-slate-600">
          A plan is a set of limits for tenants: stored bytes, files, the largest file, uploads and transforms per hour. Each tenant has a plan
          and may override any of its limits. An empty limit means no limit.
        </p>
        {plans.length === 0 ? (
          <EmptyState>No plans in this project yet.</EmptyState>
        ) : (
          <div className="overflow-x-auto">
            <table className="min-w-full text-left text-sm">
              <caption className="sr-only">Plans and their limits</caption>
              <thead>
                <tr className="border-b border-slate-200">
                  <th scope="col" className="py-2 pr-4">
                    Plan
                  </th>
                  {LIMIT_NAMES.map((name) => (
                    <th key={name} scope="col" className="py-2 pr-4">
                      {LIMIT_LABELS[name]}
                    </th>
                  ))}
                  <th scope="col" className="py-2 pr-4">
                    Tenants
                  </th>
                </tr>
              </thead>
              <tbody>
                {plans.map((plan) => (
                  <tr key={plan.id} className="border-b border-slate-100">
                    <th scope="row" className="py-2 pr-4 font-medium">
                      {plan.name}
                    </th>
                    {LIMIT_NAMES.map((name) => (
                      <td key={name} className="py-2 pr-4">
                        {formatLimit(name, plan.limits[name])}
                      </td>
                    ))}
                    <td className="py-2 pr-4">{plan.tenantCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {canManage ? plans.map((plan) => <EditPlanForm key={`${plan.id}-${new Date(plan.updatedAt).getTime()}`} plan={plan} />) : null}
      <CreatePlanForm key={plans.map((plan) => plan.id).join()} canManage={canManage} />
    </div>
  )
}

function LimitFields({ fields }: { fields: Record<(typeof LIMIT_NAMES)[number], Parameters<typeof TextField>[0]['field']> }) {
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <TextField label="Stored bytes" field={fields.storedBytes} hint="e.g. 5 GiB, 500 MB or bytes; empty for no limit." />
      <TextField label="Files" field={fields.fileCount} hint="How many files; empty for no limit." />
      <TextField label="Largest file" field={fields.fileSize} hint="e.g. 100 MiB; empty for no limit." />
      <TextField label="Uploads per hour" field={fields.uploadsPerHour} hint="Uploads started per clock hour (UTC)." />
      <TextField label="Transforms per hour" field={fields.transformsPerHour} hint="Transform requests in any hour." />
    </div>
  )
}

function CreatePlanForm({ canManage }: { canManage: boolean }) {
  const [form, fields] = useIntentForm('create', planFormSchema)
  return (
    <Card title="Create a plan">
      <IntentForm form={form} intent="create">
        {canManage ? null : <p className="text-sm text-slate-600">Your role cannot create plans in this project.</p>}
        <TextField label="Plan name" field={fields.name} hint="e.g. Free, Pro, Enterprise." />
        <LimitFields fields={fields} />
        <SubmitButton>Create plan</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function EditPlanForm({ plan }: { plan: { id: string; name: string; limits: Limits; tenantCount: number } }) {
  const intent = `update:${plan.id}`
  const [form, fields] = useIntentForm(intent, planFormSchema, { name: plan.name, ...limitDefaults(plan.limits) })
  return (
    <Card title={`Plan ${plan.name}`}>
      <IntentForm form={form} intent={intent}>
        <TextField label="Plan name" field={fields.name} />
        <LimitFields fields={fields} />
        <SubmitButton>Save plan {plan.name}</SubmitButton>
      </IntentForm>
      <Form method="post" className="mt-4">
        <input type="hidden" name="intent" value={`delete:${plan.id}`} />
        <p className="mb-2 text-sm text-slate-600">
          Deleting a plan leaves its {plan.tenantCount} {plan.tenantCount === 1 ? 'tenant' : 'tenants'} without a plan (their own overrides
          stay).
        </p>
        <SubmitButton variant="danger">Delete plan {plan.name}</SubmitButton>
      </Form>
    </Card>
  )
}
