import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { DeleteCard } from '~/components/delete-card'
import { IntentForm, SelectField, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import {
  deleteBucket,
  getBucket,
  listBucketShares,
  revokeBucketShare,
  setBucketPrices,
  shareBucket,
  updateBucket,
  updateBucketShare,
} from '~/services/buckets/buckets.server'
import {
  BUCKET_ACCESS_LEVELS,
  PROVIDER_LABELS,
  SHARE_ACCESS_DESCRIPTIONS,
  rotateCredentialsFormSchema,
  shareBucketSchema,
  updateBucketFormSchema,
  updateShareSchema,
} from '~/services/buckets/schemas'
import { testBucketConnection } from '~/services/buckets/test-connection.server'
import { bucketPricesFormSchema } from '~/services/usage/prices'
import { DASHBOARD_PAGE } from '~/services/pagination'
import { confirmDeletionSchema } from '~/services/workspaces/schemas'
import { listTeams } from '~/services/workspaces/teams.server'
import { notFound } from '~/utils/errors.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { teamPath } from '~/utils/paths'
import { asRouteError, handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { teamFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

const accessOptions = BUCKET_ACCESS_LEVELS.map((level) => ({ value: level, label: SHARE_ACCESS_DESCRIPTIONS[level] }))
const noFields = z.object({})

/** The bucket as this team sees it: its own, or shared with it; anything else is "not found". */
async function bucketForTeam(request: Request, context: LoaderFunctionArgs['context'], params: LoaderFunctionArgs['params']) {
  const { actor } = await requireUser(request, context)
  const { organization, team } = await teamFromParams(actor, params)
  const [bucket, shares] = await orRouteError(Promise.all([getBucket(actor, params.bucket ?? ''), listBucketShares(actor, params.bucket ?? '')]))
  if (bucket.teamId !== team.id && !shares.items.some((share) => share.teamId === team.id)) throw asRouteError(notFound('Bucket'))
  return { actor, organization, team, bucket, shares: shares.items, here: `${teamPath(organization, team)}/buckets/${bucket.id}` }
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor, organization, bucket, shares } = await bucketForTeam(request, context, params)
  const teams = bucket.canManage ? (await orRouteError(listTeams(actor, organization.id, DASHBOARD_PAGE))).items : []
  const shareable = teams
    .filter((t) => t.id !== bucket.teamId && !shares.some((share) => share.teamId === t.id))
    .map((t) => ({ value: t.id, label: t.name }))
  return { bucket, shares, shareable }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor, organization, team, bucket, here } = await bucketForTeam(request, context, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const [kind, target = ''] = intent.split(':')
  switch (kind) {
    case 'test':
      return handleForm(formData, intent, noFields, async () => {
        const result = await testBucketConnection(actor, bucket.id)
        return redirectWithFlash(
          here,
          result.ok
            ? { kind: 'success', message: `Connection OK.${result.reason ? ` ${result.reason}` : ''}` }
            : { kind: 'error', message: `Connection failed: ${result.reason}` },
        )
      })
    case 'update':
      return handleForm(formData, intent, updateBucketFormSchema, async (input) => {
        await updateBucket(actor, bucket.id, input)
        return redirectWithFlash(here, { kind: 'success', message: 'Bucket saved.' })
      })
    case 'rotate':
      return handleForm(formData, intent, rotateCredentialsFormSchema, async (input) => {
        await updateBucket(actor, bucket.id, input)
        return redirectWithFlash(here, { kind: 'success', message: 'Credentials replaced. Test the connection to check them.' })
      })
    case 'prices':
      return handleForm(formData, intent, bucketPricesFormSchema, async (input) => {
        await setBucketPrices(actor, bucket.id, input)
        return redirectWithFlash(here, { kind: 'success', message: 'Prices saved: usage cost estimates now use them.' })
      })
    case 'clear-prices':
      return handleForm(formData, intent, noFields, async () => {
        await setBucketPrices(actor, bucket.id, null)
        return redirectWithFlash(here, { kind: 'success', message: "Prices cleared: estimates use the provider's list prices, if it has any." })
      })
    case 'share':
      return handleForm(formData, intent, shareBucketSchema, async (input) => {
        const share = await shareBucket(actor, bucket.id, input)
        return redirectWithFlash(here, { kind: 'success', message: `Shared with ${share.teamName} (${share.access}).` })
      })
    case 'change-share':
      return handleForm(formData, intent, updateShareSchema, async ({ access }) => {
        const share = await updateBucketShare(actor, bucket.id, target, access)
        return redirectWithFlash(here, { kind: 'success', message: `${share.teamName} now has ${share.access} access.` })
      })
    case 'revoke-share':
      return handleForm(formData, intent, noFields, async () => {
        await revokeBucketShare(actor, bucket.id, target)
        return redirectWithFlash(here, { kind: 'success', message: 'Share revoked.' })
      })
    case 'delete':
      return handleForm(formData, intent, confirmDeletionSchema(bucket.bucketName), async () => {
        await deleteBucket(actor, bucket.id)
        return redirectWithFlash(`${teamPath(organization, team)}/buckets`, { kind: 'success', message: `Bucket ${bucket.name} deleted.` })
      })
    default:
      throw redirect(here)
  }
}

export default function BucketPage() {
  const { bucket, shares, shareable } = useLoaderData<typeof loader>()
  const isLocal = bucket.provider === 'local'
  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link to="..">← All buckets</Link>
      </p>
      <Card title={bucket.name}>
        <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
          <dt className="font-medium text-slate-600">Provider</dt>
          <dd>{PROVIDER_LABELS[bucket.provider as keyof typeof PROVIDER_LABELS] ?? bucket.provider}</dd>
          <dt className="font-medium text-slate-600">Bucket name in storage</dt>
          <dd>{bucket.bucketName}</dd>
          {isLocal ? null : (
            <>
              <dt className="font-medium text-slate-600">Region</dt>
              <dd>{bucket.region}</dd>
              <dt className="font-medium text-slate-600">Endpoint</dt>
              <dd>{bucket.endpoint ?? 'Amazon S3'}</dd>
              <dt className="font-medium text-slate-600">Path-style addressing</dt>
              <dd>{bucket.forcePathStyle ? 'Yes' : 'No'}</dd>
              <dt className="font-medium text-slate-600">Access key id</dt>
              <dd>{bucket.accessKeyId ?? 'None'}</dd>
            </>
          )}
          <dt className="font-medium text-slate-600">Your access</dt>
          <dd>{bucket.access}</dd>
          <dt className="font-medium text-slate-600">Last connection test</dt>
          <dd data-testid="last-test">
            {bucket.lastTest ? (
              <>
                {`${bucket.lastTest.ok ? 'OK' : 'Failed'}${bucket.lastTest.reason ? `: ${bucket.lastTest.reason}` : ''}, `}
                <DateTime value={bucket.lastTest.at} relative />
              </>
            ) : (
              'Never tested'
            )}
          </dd>
        </dl>
        <TestForm />
      </Card>
      <EditForm key={`edit-${bucket.updatedAt}`} bucket={bucket} />
      {isLocal ? null : <RotateForm key={`rotate-${bucket.updatedAt}`} canEdit={bucket.canEdit} />}
      <PricesForm key={`prices-${bucket.updatedAt}`} prices={bucket.prices} canEdit={bucket.canEdit} />
      <Card title="Shares">
        {shares.length === 0 ? (
          <EmptyState>Not shared with other teams.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {shares.map((share) => (
              <li key={share.teamId} className="flex flex-wrap items-end justify-between gap-2 py-2">
                <span className="font-medium">{share.teamName}</span>
                <Form method="post" className="flex items-end gap-2">
                  <input type="hidden" name="intent" value={`change-share:${share.teamId}`} />
                  <label className="text-sm">
                    <span className="sr-only">Access of {share.teamName}</span>
                    <select
                      name="access"
                      defaultValue={share.access}
                      aria-label={`Access of ${share.teamName}`}
                      className="rounded-md border border-slate-300 px-2 py-1 text-sm"
                    >
                      {accessOptions.map((option) => (
                        <option key={option.value} value={option.value}>
                          {option.value}
                        </option>
                      ))}
                    </select>
                  </label>
                  <SubmitButton variant="secondary">Change access of {share.teamName}</SubmitButton>
                </Form>
                <Form method="post">
                  <input type="hidden" name="intent" value={`revoke-share:${share.teamId}`} />
                  <SubmitButton variant="danger">Revoke share of {share.teamName}</SubmitButton>
                </Form>
              </li>
            ))}
          </ul>
        )}
        {bucket.canManage ? (
          <ShareForm key={shares.length} teams={shareable} />
        ) : (
          <p className="mt-2 text-sm text-slate-600">Only admins of the owning team can share this bucket.</p>
        )}
      </Card>
      <DeleteCard
        what="bucket"
        slug={bucket.bucketName}
        allowed={bucket.canManage}
        notice="Deleting removes the bucket's registration from Carcosa, not its objects. Refused while projects or files use it."
        deniedNotice="Only admins and owners of the team that owns this bucket can delete it."
      />
    </div>
  )
}

function TestForm() {
  const [form] = useIntentForm('test', noFields)
  return (
    <IntentForm form={form} intent="test" className="mt-4">
      <SubmitButton variant="secondary">Test connection</SubmitButton>
    </IntentForm>
  )
}

function EditForm({
  bucket,
}: {
  bucket: { name: string; provider: string; region: string; endpoint: string | null; forcePathStyle: boolean; canEdit: boolean }
}) {
  const isLocal = bucket.provider === 'local'
  const [form, fields] = useIntentForm('update', updateBucketFormSchema, {
    name: bucket.name,
    ...(isLocal ? {} : { region: bucket.region, endpoint: bucket.endpoint ?? '', forcePathStyle: String(bucket.forcePathStyle) }),
  })
  return (
    <Card title="Edit bucket">
      <IntentForm form={form} intent="update">
        {bucket.canEdit ? null : (
          <p className="text-sm text-slate-600">Only admins of the owning team, or of a team with ADMIN access, can edit this bucket.</p>
        )}
        <TextField label="Display name" field={fields.name} />
        {isLocal ? null : (
          <>
            <TextField label="Region" field={fields.region} />
            <TextField label="Endpoint" field={fields.endpoint} hint="Empty keeps the current endpoint." />
            <SelectField
              label="Path-style addressing"
              field={fields.forcePathStyle}
              options={[
                { value: 'true', label: 'Yes: https://endpoint/bucket' },
                { value: 'false', label: 'No: https://bucket.endpoint' },
              ]}
            />
          </>
        )}
        <SubmitButton>Save bucket</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function RotateForm({ canEdit }: { canEdit: boolean }) {
  const [form, fields] = useIntentForm('rotate', rotateCredentialsFormSchema)
  return (
    <Card title="Rotate credentials">
      <IntentForm form={form} intent="rotate">
        {canEdit ? null : <p className="text-sm text-slate-600">Your access does not allow changing the credentials.</p>}
        <TextField label="New access key id" field={fields.accessKeyId} autoComplete="off" />
        <TextField
          label="New secret access key"
          type="password"
          field={fields.secretAccessKey}
          autoComplete="new-password"
          hint="Stored encrypted; never shown again."
        />
        <SubmitButton>Replace credentials</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function ShareForm({ teams }: { teams: { value: string; label: string }[] }) {
  const [form, fields] = useIntentForm('share', shareBucketSchema, { access: 'READ_WRITE' })
  if (teams.length === 0) return <p className="mt-2 text-sm text-slate-600">Every other team of the organization already has a share.</p>
  return (
    <IntentForm form={form} intent="share" className="mt-4 space-y-4">
      <SelectField label="Team to share with" field={fields.teamId} options={teams} />
      <SelectField label="Access" field={fields.access} options={accessOptions} />
      <SubmitButton>Share bucket</SubmitButton>
    </IntentForm>
  )
}

const dollars = (value: number) => `$${value}`

function PricesForm({
  prices,
  canEdit,
}: {
  prices: {
    source: 'custom' | 'list'
    name: string
    storagePerGbMonth: number
    writesPerMillion: number
    readsPerMillion: number
    egressPerGb: number
  } | null
  canEdit: boolean
}) {
  const [form, fields] = useIntentForm('prices', bucketPricesFormSchema, {
    storagePerGbMonth: prices ? String(prices.storagePerGbMonth) : '',
    writesPerMillion: prices ? String(prices.writesPerMillion) : '',
    readsPerMillion: prices ? String(prices.readsPerMillion) : '',
    egressPerGb: prices ? String(prices.egressPerGb) : '',
  })
  const [clearForm] = useIntentForm('clear-prices', noFields)
  return (
    <Card title="Prices for cost estimates">
      <p className="text-sm text-slate-600">
        {prices
          ? `Usage pages estimate this bucket's cost with ${prices.source === 'custom' ? 'your own prices' : prices.name}: storage ${dollars(prices.storagePerGbMonth)} per GB-month, writes ${dollars(prices.writesPerMillion)} and reads ${dollars(prices.readsPerMillion)} per million, egress ${dollars(prices.egressPerGb)} per GB.`
          : 'No prices are known for this provider: set what you pay so usage pages can estimate the cost.'}
      </p>
      <IntentForm form={form} intent="prices" className="mt-4 space-y-4">
        {canEdit ? null : (
          <p className="text-sm text-slate-600">Only admins of the owning team, or of a team with ADMIN access, can set prices.</p>
        )}
        <TextField label="Storage, US dollars per GB-month" field={fields.storagePerGbMonth} hint="GB = 2^30 bytes, e.g. 0.023" />
        <TextField label="Writes, US dollars per million" field={fields.writesPerMillion} hint="Uploads and stored transform variants, e.g. 5" />
        <TextField label="Reads, US dollars per million" field={fields.readsPerMillion} hint="Downloads and transform sources read, e.g. 0.4" />
        <TextField label="Egress, US dollars per GB" field={fields.egressPerGb} hint="Bytes downloaded from the bucket, e.g. 0.09" />
        <SubmitButton>Save prices</SubmitButton>
      </IntentForm>
      {prices?.source === 'custom' ? (
        <IntentForm form={clearForm} intent="clear-prices" className="mt-4">
          <SubmitButton>Use list prices instead</SubmitButton>
        </IntentForm>
      ) : null}
    </Card>
  )
}
