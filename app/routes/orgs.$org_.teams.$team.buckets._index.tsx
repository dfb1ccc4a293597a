import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { IntentForm, SelectField, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { createBucket, listBuckets } from '~/services/buckets/buckets.server'
import { PROVIDERS, PROVIDER_LABELS, createBucketFormSchema } from '~/services/buckets/schemas'
import { DASHBOARD_PAGE } from '~/services/pagination'
import { atLeast } from '~/services/workspaces/access.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { teamPath } from '~/utils/paths'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { teamFromParams } from '~/services/workspaces/workspace-params.server'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, role } = await teamFromParams(actor, params)
  const buckets = await orRouteError(listBuckets(actor, team.id, DASHBOARD_PAGE))
  return { base: `${teamPath(organization, team)}/buckets`, buckets: buckets.items, canCreate: atLeast(role, 'ADMIN') }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team } = await teamFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${teamPath(organization, team)}/buckets`
  if (intent === 'create') {
    return handleForm(formData, intent, createBucketFormSchema, async (input) => {
      const bucket = await createBucket(actor, { ...input, teamId: team.id })
      return redirectWithFlash(`${here}/${bucket.id}`, {
        kind: 'success',
        message: `Bucket ${bucket.name} registered. Test its connection next.`,
      })
    })
  }
  throw redirect(here)
}

export default function TeamBuckets() {
  const { base, buckets, canCreate } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <Card title="Buckets">
        {buckets.length === 0 ? (
          <EmptyState>No buckets yet. Register one below.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {buckets.map((bucket) => (
              <li key={bucket.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <div>
                  <Link to={`${base}/${bucket.id}`} className="font-medium">
                    {bucket.name}
                  </Link>
                  <span className="ml-2 text-sm text-slate-600">
                    {PROVIDER_LABELS[bucket.provider as keyof typeof PROVIDER_LABELS] ?? bucket.provider} · {bucket.bucketName}
                  </span>
                </div>
                <span className="text-xs text-slate-600">
                  {bucket.access === 'OWNER' ? 'Owned by this team' : `Shared with this team: ${bucket.access}`}
                  {bucket.lastTest ? ` · last test ${bucket.lastTest.ok ? 'OK' : 'failed'}` : ' · not tested'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <CreateBucketForm key={buckets.length} canCreate={canCreate} />
    </div>
  )
}

function CreateBucketForm({ canCreate }: { canCreate: boolean }) {
  const [form, fields] = useIntentForm('create', createBucketFormSchema, { provider: 's3-compatible' })
  return (
    <Card title="Register a bucket">
      <IntentForm form={form} intent="create">
        {canCreate ? null : <p className="text-sm text-slate-600">Only team admins and owners can register buckets.</p>}
        <TextField label="Display name" field={fields.name} hint="How the dashboard names this bucket, e.g. Production media." />
        <SelectField
          label="Provider"
          field={fields.provider}
          options={PROVIDERS.map((provider) => ({ value: provider, label: PROVIDER_LABELS[provider] }))}
        />
        <TextField
          label="Bucket name in storage"
          field={fields.bucketName}
          hint="The bucket's own name at the provider; for the local provider, a directory name (lowercase letters, digits, dots, hyphens)."
        />
        <TextField
          label="Region"
          field={fields.region}
          hint="Required for Amazon S3 (e.g. us-east-1); R2 uses auto; others default to us-east-1. Not used by local."
        />
        <TextField
          label="Endpoint"
          field={fields.endpoint}
          placeholder="https://s3.example.com"
          hint="Required for R2 (https://<account>.r2.cloudflarestorage.com) and S3-compatible providers; empty for Amazon S3 and local."
        />
        <SelectField
          label="Path-style addressing"
          field={fields.forcePathStyle}
          options={[
            { value: '', label: "Provider's default (path style for S3-compatible)" },
            { value: 'true', label: 'Yes: https://endpoint/bucket' },
            { value: 'false', label: 'No: https://bucket.endpoint' },
          ]}
        />
        <TextField label="Access key id" field={fields.accessKeyId} autoComplete="off" hint="Needed by every provider except local." />
        <TextField
          label="Secret access key"
          type="password"
          field={fields.secretAccessKey}
          autoComplete="new-password"
          hint="Stored encrypted; never shown again."
        />
        <SubmitButton>Register bucket</SubmitButton>
      </IntentForm>
    </Card>
  )
}
