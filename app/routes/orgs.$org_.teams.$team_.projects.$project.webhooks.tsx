import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useActionData, useLoaderData, useRouteLoaderData } from '@remix-run/react'
import { DateTime } from '~/components/date-time'
import { CheckboxGroupField, ConfirmCheckbox, IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { OneTimeSecret } from '~/components/one-time-secret'
import type { loader as rootLoader } from '~/root'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { hasPermission } from '~/services/api-keys/permissions'
import { EVENT_DATA, SUBSCRIBABLE_EVENT_TYPES } from '~/services/events/event-types'
import { DASHBOARD_PAGE, pageQuerySchema } from '~/services/pagination'
import {
  MAX_ENDPOINTS_PER_PROJECT,
  deleteWebhookFormSchema,
  replayDeliveryFormSchema,
  replayFailedFormSchema,
  webhookEditFormSchema,
  webhookFormSchema,
  webhookIdFormSchema,
} from '~/services/webhooks/schemas'
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  replayDelivery,
  replayFailedDeliveries,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
} from '~/services/webhooks/webhooks.server'
import { listUploadCallbackAttempts } from '~/services/uploads/callback-attempts.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { projectPath } from '~/utils/paths'
import { handleForm, orRouteError, type FormReply } from '~/utils/route-errors.server'

/** How much of an answer's body the log shows (Carcosa keeps the first 1 KiB). */
const RESPONSE_PREVIEW_CHARS = 200
const SECRET_KEPT = 'Carcosa keeps it encrypted and never returns it.'
const CALLBACK_PAGE = { limit: 20 }

// The form schema accepts one type or several (one ticked box posts a single value): a collection either way.
const asCollection = (field: unknown) => field as Parameters<typeof CheckboxGroupField>[0]['field']

const EVENT_OPTIONS = SUBSCRIBABLE_EVENT_TYPES.map((type) => ({ value: type, label: type, description: EVENT_DATA[type].description }))

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project, permissions } = await projectFromParams(actor, params)
  const search = new URL(request.url).searchParams
  const webhooks = await orRouteError(listWebhooks(actor, project.id, { ...DASHBOARD_PAGE, limit: MAX_ENDPOINTS_PER_PROJECT }))
  // `?endpoint=<id>` opens that endpoint's delivery log; one of another project answers 404.
  const endpointId = search.get('endpoint')
  const selected = endpointId ? webhooks.items.find((webhook) => webhook.id === endpointId) : undefined
  const page = pageQuerySchema.catch(DASHBOARD_PAGE).parse({ ...DASHBOARD_PAGE, cursor: search.get('cursor') ?? undefined })
  const deliveries = endpointId ? await orRouteError(listDeliveries(actor, endpointId, page, { projectId: project.id })) : null
  // `?callbacks=<cursor>` pages the upload callback log.
  const callbackPage = pageQuerySchema.catch(CALLBACK_PAGE).parse({ ...CALLBACK_PAGE, cursor: search.get('callbacks') ?? undefined })
  const callbacks = await orRouteError(listUploadCallbackAttempts(actor, project.id, callbackPage))
  return {
    webhooks: webhooks.items,
    log: selected && deliveries ? { endpoint: { id: selected.id, url: selected.url, enabled: selected.enabled }, ...deliveries } : null,
    callbacks,
    canWrite: hasPermission(permissions, 'projects:write'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${projectPath(organization, team, project)}/webhooks`
  const logOf = (webhookId: string) => `${here}?endpoint=${encodeURIComponent(webhookId)}#delivery-log`
  // Every call names this project: an endpoint of another one is "not found" here.
  const own = { projectId: project.id }
  switch (intent.split(':')[0]) {
    case 'create':
      return handleForm(formData, intent, webhookFormSchema, async (input) => {
        const { webhook, secret } = await createWebhook(actor, { ...input, enabled: true, projectId: project.id })
        return redirectWithFlash(here, {
          kind: 'success',
          message: `Webhook endpoint ${webhook.url} added. Copy its signing secret now: it is not shown again.`,
          secret: { label: 'Signing secret', value: secret, forId: webhook.id },
        })
      })
    case 'update':
      return handleForm(formData, intent, webhookEditFormSchema, async ({ webhookId, ...input }) => {
        const webhook = await updateWebhook(actor, webhookId, input, own)
        return redirectWithFlash(here, {
          kind: 'success',
          message: `Webhook endpoint ${webhook.url} saved${webhook.enabled ? '' : ' (disabled)'}.`,
        })
      })
    case 'rotate':
      return handleForm(formData, intent, webhookIdFormSchema, async ({ webhookId }) => {
        const { webhook, secret } = await rotateWebhookSecret(actor, webhookId, own)
        return redirectWithFlash(here, {
          kind: 'success',
          message: `Signing secret of ${webhook.url} rotated. The previous one also signs until the rotation window ends.`,
          secret: { label: 'Signing secret', value: secret, forId: webhook.id },
        })
      })
    case 'test':
      return handleForm(formData, intent, webhookIdFormSchema, async ({ webhookId }) => {
        await sendTestEvent(actor, webhookId, own)
        return redirectWithFlash(logOf(webhookId), {
          kind: 'success',
          message: 'Test event queued: it appears in the delivery log below once sent.',
        })
      })
    case 'delete':
      return handleForm(formData, intent, deleteWebhookFormSchema, async ({ webhookId }) => {
        await deleteWebhook(actor, webhookId, own)
        return redirectWithFlash(here, { kind: 'success', message: 'Webhook endpoint deleted with its delivery log.' })
      })
    case 'replay':
      return handleForm(formData, intent, replayDeliveryFormSchema, async ({ webhookId, deliveryId }) => {
        await replayDelivery(actor, deliveryId, { ...own, endpointId: webhookId })
        return redirectWithFlash(logOf(webhookId), { kind: 'success', message: 'Delivery queued again with the same webhook-id.' })
      })
    case 'replay-failed':
      return handleForm(formData, intent, replayFailedFormSchema, async ({ webhookId, since }) => {
        const { replayed } = await replayFailedDeliveries(actor, webhookId, since, own)
        const message =
          replayed === 0
            ? `No failed deliveries since ${since.toISOString()}: nothing to replay.`
            : `${replayed} failed deliver${replayed === 1 ? 'y' : 'ies'} since ${since.toISOString()} queued again, each with its webhook-id.`
        return redirectWithFlash(logOf(webhookId), { kind: 'success', message })
      })
    default:
      throw redirect(here)
  }
}

type Webhook = ReturnType<typeof useLoaderData<typeof loader>>['webhooks'][number]

export default function ProjectWebhooks() {
  const { webhooks, log, callbacks, canWrite } = useLoaderData<typeof loader>()
  // The new or rotated secret, from the redirect's flash: shown beside its endpoint.
  const secret = useRouteLoaderData<typeof rootLoader>('root')?.flash?.secret
  const newSecret = secret?.forId ? secret : null
  const secretRowShown = newSecret ? webhooks.some((webhook) => webhook.id === newSecret.forId) : false
  return (
    <div className="space-y-6">
      <Card title="Webhooks">
        <p className="mb-2 text-sm text-slate-600">
          Carcosa POSTs this project&apos;s events to each enabled endpoint, signed as <Link to="/docs/webhooks">Standard Webhooks</Link>. At
          most {MAX_ENDPOINTS_PER_PROJECT} endpoints per project.
        </p>
        {canWrite ? null : <p className="text-sm text-slate-600">Your role can read the endpoints and their logs, not change them.</p>}
        {newSecret && !secretRowShown ? <OneTimeSecret label={newSecret.label} value={newSecret.value} kept={SECRET_KEPT} /> : null}
        {webhooks.length === 0 ? (
          <EmptyState>No webhook endpoints in this project yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {webhooks.map((webhook) => (
              <WebhookRow
                key={`${webhook.id}:${String(webhook.updatedAt)}`}
                webhook={webhook}
                canWrite={canWrite}
                secret={newSecret?.forId === webhook.id ? newSecret : null}
              />
            ))}
          </ul>
        )}
      </Card>
      {log ? <DeliveryLog log={log} canWrite={canWrite} /> : null}
      <UploadCallbackLog callbacks={callbacks} />
      {/* A new endpoint changes the list: the form then starts empty again, as after a reload. */}
      <CreateWebhookForm key={webhooks.map((webhook) => webhook.id).join()} canWrite={canWrite} />
    </div>
  )
}

function WebhookRow({ webhook, canWrite, secret }: { webhook: Webhook; canWrite: boolean; secret: { label: string; value: string } | null }) {
  const name = webhook.description || webhook.url
  // A refused edit or delete comes back with the section open, so its messages are seen (also without JavaScript).
  const actionData = useActionData<FormReply>()
  const refused = Boolean(actionData && 'intent' in actionData && [`update:${webhook.id}`, `delete:${webhook.id}`].includes(actionData.intent))
  return (
    <li className="space-y-3 py-4">
      <div className="flex flex-wrap items-center gap-2">
        <code className="break-all text-sm font-medium">{webhook.url}</code>
        <span
          className={`rounded-full px-2 py-0.5 text-xs font-semibold ${webhook.enabled ? 'bg-emerald-100 text-emerald-800' : 'bg-slate-200 text-slate-700'}`}
        >
          {webhook.enabled ? 'Enabled' : 'Disabled'}
        </span>
      </div>
      {webhook.description ? <p className="text-sm text-slate-700">{webhook.description}</p> : null}
      {webhook.disabledReason ? (
        <p className="text-sm text-red-800">
          <strong>Disabled by Carcosa:</strong> {webhook.disabledReason}
        </p>
      ) : null}
      {webhook.failingSince ? (
        <p className="text-sm text-amber-900">
          Every attempt has failed since <DateTime value={webhook.failingSince} />.
        </p>
      ) : null}
      <p className="text-sm text-slate-600">
        Events:{' '}
        {webhook.eventTypes.length === 0
          ? 'every type'
          : webhook.eventTypes.map((type) => (
              <code key={type} className="mr-1">
                {type}
              </code>
            ))}
        {webhook.previousSecretExpiresAt ? (
          <>
            {' '}
            · The previous secret also signs until <DateTime value={webhook.previousSecretExpiresAt} />.
          </>
        ) : null}
      </p>
      {secret ? <OneTimeSecret label={secret.label} value={secret.value} kept={SECRET_KEPT} /> : null}
      <p className="text-sm">
        <Link to={`?endpoint=${encodeURIComponent(webhook.id)}#delivery-log`}>
          Delivery log<span className="sr-only"> of {name}</span>
        </Link>
      </p>
      {canWrite ? (
        <>
          <div className="flex flex-wrap gap-2">
            <ButtonForm intent={`test:${webhook.id}`} webhookId={webhook.id} label={`Send test event`} name={name} />
            <ButtonForm intent={`rotate:${webhook.id}`} webhookId={webhook.id} label={`Rotate signing secret`} name={name} />
          </div>
          <details open={refused || undefined} className="rounded-md border border-slate-200 p-3">
            <summary className="cursor-pointer text-sm font-medium">
              Edit or delete<span className="sr-only"> {name}</span>
            </summary>
            <div className="mt-3 space-y-6">
              <EditWebhookForm webhook={webhook} />
              <DeleteWebhookForm webhook={webhook} name={name} />
            </div>
          </details>
        </>
      ) : null}
    </li>
  )
}

/** A one-button form (test, rotate) with its refusal (e.g. 409 for a disabled endpoint) announced beside it. */
function ButtonForm({ intent, webhookId, label, name }: { intent: string; webhookId: string; label: string; name: string }) {
  const [form] = useIntentForm(intent, webhookIdFormSchema)
  return (
    <IntentForm form={form} intent={intent} className="space-y-2">
      <input type="hidden" name="webhookId" value={webhookId} />
      <SubmitButton variant="secondary">
        {label}
        <span className="sr-only"> to {name}</span>
      </SubmitButton>
    </IntentForm>
  )
}

function EditWebhookForm({ webhook }: { webhook: Webhook }) {
  const intent = `update:${webhook.id}`
  const [form, fields] = useIntentForm(intent, webhookEditFormSchema, {
    url: webhook.url,
    description: webhook.description,
    eventTypes: webhook.eventTypes as never,
    enabled: webhook.enabled ? 'on' : '',
  })
  return (
    <IntentForm form={form} intent={intent}>
      <input type="hidden" name="webhookId" value={webhook.id} />
      <TextField label="Endpoint URL" field={fields.url} />
      <TextField label="Description" field={fields.description} />
      <CheckboxGroupField legend="Events (none ticked: every type)" field={asCollection(fields.eventTypes)} options={EVENT_OPTIONS} />
      <div className="flex items-center gap-2">
        <input
          type="checkbox"
          id={fields.enabled.id}
          name={fields.enabled.name}
          value="on"
          defaultChecked={webhook.enabled}
          className="h-4 w-4 rounded border-slate-300"
        />
        <label htmlFor={fields.enabled.id} className="text-sm text-slate-800">
          Enabled (deliver events to this endpoint)
        </label>
      </div>
      <SubmitButton>Save endpoint</SubmitButton>
    </IntentForm>
  )
}

function DeleteWebhookForm({ webhook, name }: { webhook: Webhook; name: string }) {
  const intent = `delete:${webhook.id}`
  const [form, fields] = useIntentForm(intent, deleteWebhookFormSchema)
  return (
    <IntentForm form={form} intent={intent}>
      <input type="hidden" name="webhookId" value={webhook.id} />
      <p className="text-sm text-slate-700">Deleting removes the endpoint and its delivery log. This cannot be undone.</p>
      <ConfirmCheckbox field={fields.confirm}>Yes, delete the endpoint {name} permanently</ConfirmCheckbox>
      <SubmitButton variant="danger">Delete endpoint</SubmitButton>
    </IntentForm>
  )
}

type Log = NonNullable<ReturnType<typeof useLoaderData<typeof loader>>['log']>

const STATUS_LABELS = { PENDING: 'Pending', SUCCEEDED: 'Succeeded', FAILED: 'Failed' } as const

function DeliveryLog({ log, canWrite }: { log: Log; canWrite: boolean }) {
  return (
    <section id="delivery-log" aria-labelledby="delivery-log-title" className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <h2 id="delivery-log-title" className="mb-3 text-lg font-semibold">
        Delivery log of <code className="break-all">{log.endpoint.url}</code>
      </h2>
      <p className="mb-3 text-sm text-slate-600">
        Newest first; each delivery shows its latest attempt. The page shows new attempts when reloaded.{' '}
        <Link to={`?endpoint=${encodeURIComponent(log.endpoint.id)}#delivery-log`}>Reload the log</Link>
      </p>
      {log.items.length === 0 ? (
        <EmptyState>No deliveries to this endpoint yet.</EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">Deliveries to {log.endpoint.url}</caption>
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">
                  Time
                </th>
                <th scope="col" className="py-2 pr-3">
                  Event
                </th>
                <th scope="col" className="py-2 pr-3">
                  Delivery
                </th>
                <th scope="col" className="py-2 pr-3">
                  HTTP status
                </th>
                <th scope="col" className="py-2 pr-3">
                  Latency
                </th>
                <th scope="col" className="py-2 pr-3">
                  Response (first bytes)
                </th>
                {canWrite ? (
                  <th scope="col" className="py-2">
                    Replay
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {log.items.map((delivery) => {
                const attempt = delivery.attempts[0]
                return (
                  <tr key={delivery.id} className="align-top">
                    <td className="py-2 pr-3">
                      <DateTime value={attempt?.attemptedAt ?? delivery.createdAt} />
                    </td>
                    <td className="py-2 pr-3">
                      <code>{delivery.eventType}</code>
                    </td>
                    <td className="py-2 pr-3">
                      {STATUS_LABELS[delivery.status]}, {delivery.attemptCount} attempt{delivery.attemptCount === 1 ? '' : 's'}
                    </td>
                    <td className="py-2 pr-3">{attempt ? (attempt.statusCode ?? attempt.error ?? 'No answer') : 'Not sent yet'}</td>
                    <td className="py-2 pr-3">{attempt ? `${attempt.latencyMs} ms` : ''}</td>
                    <td className="py-2 pr-3">
                      {attempt?.responseBody ? (
                        <code className="break-all text-xs">{attempt.responseBody.slice(0, RESPONSE_PREVIEW_CHARS)}</code>
                      ) : (
                        ''
                      )}
                    </td>
                    {canWrite ? (
                      <td className="py-2">
                        {delivery.status === 'PENDING' ? (
                          'Being attempted'
                        ) : (
                          <ReplayForm webhookId={log.endpoint.id} deliveryId={delivery.id} eventType={delivery.eventType} />
                        )}
                      </td>
                    ) : null}
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {log.nextCursor ? (
        <p className="mt-3 text-sm">
          <Link to={`?endpoint=${encodeURIComponent(log.endpoint.id)}&cursor=${encodeURIComponent(log.nextCursor)}#delivery-log`}>
            Older deliveries
          </Link>
        </p>
      ) : null}
      {canWrite ? <ReplayFailedForm webhookId={log.endpoint.id} url={log.endpoint.url} /> : null}
    </section>
  )
}

/** Sends again every failed delivery created since a time (what an endpoint missed while it was down). */
function ReplayFailedForm({ webhookId, url }: { webhookId: string; url: string }) {
  const intent = `replay-failed:${webhookId}`
  const [form, fields] = useIntentForm(intent, replayFailedFormSchema)
  return (
    <div className="mt-6 border-t border-slate-100 pt-4">
      <h3 className="mb-2 text-base font-semibold">Replay failed deliveries</h3>
      <IntentForm form={form} intent={intent}>
        <input type="hidden" name="webhookId" value={webhookId} />
        <TextField
          label="Failed since (UTC)"
          type="datetime-local"
          field={fields.since}
          hint="Every delivery to this endpoint that failed and was created at or after this time is sent again, with its own webhook-id (at most 1,000)."
        />
        <SubmitButton variant="secondary">
          Replay failed deliveries<span className="sr-only"> to {url}</span>
        </SubmitButton>
      </IntentForm>
    </div>
  )
}

type Callbacks = ReturnType<typeof useLoaderData<typeof loader>>['callbacks']

/** Reconciled SDK uploads' signed `upload.completed` callbacks: every attempt, newest first. */
function UploadCallbackLog({ callbacks }: { callbacks: Callbacks }) {
  return (
    <section
      id="upload-callbacks"
      aria-labelledby="upload-callbacks-title"
      className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm"
    >
      <h2 id="upload-callbacks-title" className="mb-3 text-lg font-semibold">
        Upload callbacks
      </h2>
      <p className="mb-3 text-sm text-slate-600">
        When an SDK upload&apos;s client goes away after its bytes landed, Carcosa completes it and POSTs a signed <code>upload.completed</code>{' '}
        to the route handler&apos;s callback URL, retrying failures. Every attempt, newest first.
      </p>
      {callbacks.items.length === 0 ? (
        <EmptyState>No upload callbacks sent in this project yet.</EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <table className="min-w-full text-left text-sm">
            <caption className="sr-only">Upload callback attempts</caption>
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">
                  Time
                </th>
                <th scope="col" className="py-2 pr-3">
                  Upload
                </th>
                <th scope="col" className="py-2 pr-3">
                  Callback URL
                </th>
                <th scope="col" className="py-2 pr-3">
                  HTTP status
                </th>
                <th scope="col" className="py-2 pr-3">
                  Latency
                </th>
                <th scope="col" className="py-2 pr-3">
                  Response (first bytes)
                </th>
                <th scope="col" className="py-2">
                  Callback
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {callbacks.items.map((attempt) => (
                <tr key={attempt.id} className="align-top">
                  <td className="py-2 pr-3">
                    <DateTime value={attempt.attemptedAt} />
                  </td>
                  <td className="py-2 pr-3">
                    <code className="break-all">{attempt.path}</code>
                    {attempt.routeSlug ? <span className="block text-xs text-slate-600">route {attempt.routeSlug}</span> : null}
                  </td>
                  <td className="py-2 pr-3">
                    <code className="break-all text-xs">{attempt.callbackUrl}</code>
                  </td>
                  <td className="py-2 pr-3">{attempt.statusCode ?? attempt.error ?? 'No answer'}</td>
                  <td className="py-2 pr-3">{attempt.latencyMs} ms</td>
                  <td className="py-2 pr-3">
                    {attempt.responseBody ? (
                      <code className="break-all text-xs">{attempt.responseBody.slice(0, RESPONSE_PREVIEW_CHARS)}</code>
                    ) : (
                      ''
                    )}
                  </td>
                  <td className="py-2">{attempt.callbackSettled ? 'Settled' : 'Not settled'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {callbacks.nextCursor ? (
        <p className="mt-3 text-sm">
          <Link to={`?callbacks=${encodeURIComponent(callbacks.nextCursor)}#upload-callbacks`}>Older callback attempts</Link>
        </p>
      ) : null}
    </section>
  )
}

function ReplayForm({ webhookId, deliveryId, eventType }: { webhookId: string; deliveryId: string; eventType: string }) {
  const intent = `replay:${deliveryId}`
  const [form] = useIntentForm(intent, replayDeliveryFormSchema)
  return (
    <IntentForm form={form} intent={intent} className="space-y-1">
      <input type="hidden" name="webhookId" value={webhookId} />
      <input type="hidden" name="deliveryId" value={deliveryId} />
      <SubmitButton variant="secondary">
        Replay
        <span className="sr-only">
          {' '}
          {eventType} delivery {deliveryId}
        </span>
      </SubmitButton>
    </IntentForm>
  )
}

function CreateWebhookForm({ canWrite }: { canWrite: boolean }) {
  const [form, fields] = useIntentForm('create', webhookFormSchema)
  return (
    <Card title="Add a webhook endpoint">
      <IntentForm form={form} intent="create">
        {canWrite ? null : <p className="text-sm text-slate-600">Your role cannot add webhook endpoints in this project.</p>}
        <TextField label="URL" field={fields.url} hint="Where events are POSTed: http or https, e.g. https://example.com/hooks/carcosa." />
        <TextField label="Description (optional)" field={fields.description} />
        <CheckboxGroupField legend="Events (none ticked: every type)" field={asCollection(fields.eventTypes)} options={EVENT_OPTIONS} />
        <SubmitButton>Add endpoint</SubmitButton>
      </IntentForm>
    </Card>
  )
}
