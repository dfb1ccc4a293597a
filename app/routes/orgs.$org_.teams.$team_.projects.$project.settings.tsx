import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { IntentForm, SubmitButton, TextAreaField, TextField, useIntentForm } from '~/components/forms'
import { Card } from '~/components/layout'
import { ProjectBucketForm } from '~/components/project-bucket-form'
import { listWritableBuckets } from '~/services/buckets/buckets.server'
import { projectBucketFormSchema } from '~/services/buckets/schemas'
import { hasPermission } from '~/services/api-keys/permissions'
import {
  MAX_ALLOWED_ORIGINS,
  projectSettingsFormSchema,
  projectSettingsFromForm,
  rateLimitOverridesFormSchema,
  uploadRulesFormValues,
  type ProjectSettings,
  type RateLimitOverrides,
} from '~/services/settings/schemas'
import { getProjectSettings, getRateLimitOverrides, updateProjectSettings, updateRateLimitOverrides } from '~/services/settings/settings.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { DEFAULT_TIER_LIMITS, RATE_LIMIT_TIERS, type RateLimitTier } from '~/utils/rate-limit-tiers'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { updateProject } from '~/services/workspaces/projects.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project, permissions } = await projectFromParams(actor, params)
  const [settings, overrides, buckets] = await orRouteError(
    Promise.all([getProjectSettings(actor, project.id), getRateLimitOverrides(actor, project.id), listWritableBuckets(actor, project.teamId)]),
  )
  return {
    bucketId: project.bucketId,
    buckets: buckets.map(({ id, name, bucketName, access }) => ({ id, name, bucketName, access })),
    settings,
    overrides,
    defaults: DEFAULT_TIER_LIMITS,
    canEdit: hasPermission(permissions, 'projects:write'),
    canChangeLimits: hasPermission(permissions, 'admin'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${projectPath(organization, team, project)}/settings`
  if (intent === 'settings') {
    return handleForm(formData, intent, projectSettingsFormSchema, async (input) => {
      await updateProjectSettings(actor, project.id, projectSettingsFromForm(input))
      return redirectWithFlash(here, { kind: 'success', message: 'Settings saved.' })
    })
  }
  if (intent === 'bucket') {
    return handleForm(formData, intent, projectBucketFormSchema, async ({ bucketId }) => {
      await updateProject(actor, project.id, { bucketId })
      return redirectWithFlash(here, { kind: 'success', message: 'Storage bucket saved.' })
    })
  }
  if (intent === 'rate-limits') {
    return handleForm(formData, intent, rateLimitOverridesFormSchema, async (input) => {
      await updateRateLimitOverrides(actor, project.id, input)
      return redirectWithFlash(here, { kind: 'success', message: 'Rate limits saved.' })
    })
  }
  throw redirect(here)
}

export default function ProjectSettings() {
  const { bucketId, buckets, settings, overrides, defaults, canEdit, canChangeLimits } = useLoaderData<typeof loader>()
  // Keyed by what is stored: after a save the form starts over from the saved values, as a reload would.
  return (
    <div className="space-y-6">
      <SettingsForm key={JSON.stringify(settings)} settings={settings} canEdit={canEdit} />
      <ProjectBucketForm key={bucketId ?? ''} bucketId={bucketId} buckets={buckets} canEdit={canEdit} />
      <RateLimitsForm key={JSON.stringify(overrides)} overrides={overrides} defaults={defaults} canChange={canChangeLimits} />
    </div>
  )
}

function SettingsForm({ settings, canEdit }: { settings: ProjectSettings; canEdit: boolean }) {
  const [form, fields] = useIntentForm('settings', projectSettingsFormSchema, {
    description: settings.description,
    allowedOrigins: settings.allowedOrigins.join('\n'),
    ...uploadRulesFormValues(settings.uploads),
  })
  return (
    <Card title="Project settings">
      <IntentForm form={form} intent="settings">
        {canEdit ? null : <p className="text-sm text-slate-600">Viewers cannot change this project.</p>}
        <TextAreaField label="Description" field={fields.description} hint="For your team; at most 500 characters." />
        <TextAreaField
          label="Allowed origins"
          field={fields.allowedOrigins}
          rows={4}
          hint={`Browser origins that may upload directly into this project, one per line, e.g. https://app.example.com (at most ${MAX_ALLOWED_ORIGINS}).`}
        />
        <TextAreaField
          label="Allowed upload content types"
          field={fields.allowedContentTypes}
          rows={3}
          hint="One per line, exact (image/png) or a family (image/*). Empty accepts any type."
        />
        <TextField
          label="Maximum file size (MB)"
          type="number"
          field={fields.maxFileSizeMb}
          hint="Empty: only the server's own limit applies. Checked when an upload starts and when it completes."
        />
        <SubmitButton>Save settings</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function RateLimitsForm({
  overrides,
  defaults,
  canChange,
}: {
  overrides: RateLimitOverrides
  defaults: Record<RateLimitTier, number>
  canChange: boolean
}) {
  const [form, fields] = useIntentForm(
    'rate-limits',
    rateLimitOverridesFormSchema,
    Object.fromEntries(Object.entries(overrides).map(([tier, limit]) => [tier, String(limit)])),
  )
  return (
    <Card title="Rate limits">
      <IntentForm form={form} intent="rate-limits">
        <p className="text-sm text-slate-600">
          Requests per hour for this project&apos;s API keys in each tier. Leave a field empty to keep the default.
        </p>
        {canChange ? null : <p className="text-sm font-medium text-slate-700">Only project admins can change rate limits.</p>}
        <div className="grid gap-4 sm:grid-cols-2">
          {RATE_LIMIT_TIERS.map((tier) => (
            <TextField
              key={tier}
              label={`${tier} requests per hour`}
              type="number"
              field={fields[tier]}
              placeholder={String(defaults[tier])}
              hint={`Default ${defaults[tier].toLocaleString('en-US')}`}
            />
          ))}
        </div>
        <SubmitButton>Save rate limits</SubmitButton>
      </IntentForm>
    </Card>
  )
}
