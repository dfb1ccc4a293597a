import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useLoaderData, useRouteLoaderData } from '@remix-run/react'
import { ApiKeyRow, type ApiKeyState } from '~/components/api-key-row'
import { OneTimeSecret } from '~/components/one-time-secret'
import type { loader as rootLoader } from '~/root'
import { CheckboxGroupField, IntentForm, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, type PublicApiKey } from '~/services/api-keys/api-keys.server'
import { PERMISSIONS, PERMISSION_DESCRIPTIONS, hasPermission } from '~/services/api-keys/permissions'
import { createApiKeyFormSchema, revokeApiKeySchema } from '~/services/api-keys/schemas'
import { DASHBOARD_PAGE, pageQuerySchema } from '~/services/pagination'
import { notFound } from '~/utils/errors.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'

function stateOf(key: PublicApiKey, now: number): ApiKeyState {
  if (key.revokedAt) return 'revoked'
  return key.expiresAt && key.expiresAt.getTime() <= now ? 'expired' : 'active'
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project, permissions } = await projectFromParams(actor, params)
  const cursor = new URL(request.url).searchParams.get('cursor')
  const page = pageQuerySchema.catch(DASHBOARD_PAGE).parse({ ...DASHBOARD_PAGE, cursor: cursor ?? undefined })
  const keys = await orRouteError(listApiKeys(actor, project.id, page))
  const now = Date.now()
  return {
    keys: keys.items.map((key) => ({ ...key, state: stateOf(key, now) })),
    nextCursor: keys.nextCursor,
    permissionOptions: PERMISSIONS.map((permission) => ({
      value: permission,
      label: permission,
      description: PERMISSION_DESCRIPTIONS[permission],
      // A key never carries more than its creator holds: the service refuses the rest anyway.
      disabled: !hasPermission(permissions, permission),
    })),
    canCreate: hasPermission(permissions, 'api-keys:write'),
    canRevoke: hasPermission(permissions, 'api-keys:delete'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${projectPath(organization, team, project)}/api-keys`
  switch (intent.split(':')[0]) {
    case 'create':
      return handleForm(formData, intent, createApiKeyFormSchema, async (input) => {
        const { apiKey, key } = await createApiKey(actor, { ...input, projectId: project.id })
        return redirectWithFlash(here, {
          kind: 'success',
          message: `API key ${apiKey.name} created. Copy it now: it is not shown again.`,
          secret: { label: 'API key', value: key, forId: apiKey.id },
        })
      })
    case 'revoke':
      return handleForm(formData, intent, revokeApiKeySchema, async ({ apiKeyId }) => {
        // Only this project's keys are revoked from its page.
        if ((await getApiKey(actor, apiKeyId)).projectId !== project.id) throw notFound('API key')
        const revoked = await revokeApiKey(actor, apiKeyId)
        return redirectWithFlash(here, {
          kind: 'success',
          message: `API key ${revoked.name} revoked. Requests with it are refused from now on.`,
        })
      })
    default:
      throw redirect(here)
  }
}

export default function ProjectApiKeys() {
  const { keys, nextCursor, permissionOptions, canCreate, canRevoke } = useLoaderData<typeof loader>()
  // The new key's secret, from the redirect's flash: shown beside its row (or above the list when the row is on another page).
  const secret = useRouteLoaderData<typeof rootLoader>('root')?.flash?.secret
  const newKeySecret = secret?.forId ? secret : null
  const secretRowShown = newKeySecret ? keys.some((apiKey) => apiKey.id === newKeySecret.forId) : false
  return (
    <div className="space-y-6">
      <Card title="API keys">
        <p className="mb-2 text-sm text-slate-600">
          Keys let servers and SDK clients call the <Link to="/docs/api">REST API</Link> for this project only, within their permissions. Send a
          key in the <code>Authorization: Bearer ck_…</code> header.
        </p>
        {newKeySecret && !secretRowShown ? <OneTimeSecret label={newKeySecret.label} value={newKeySecret.value} /> : null}
        {keys.length === 0 ? (
          <EmptyState>No API keys in this project yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {keys.map((apiKey) => (
              <ApiKeyRow
                key={apiKey.id}
                apiKey={apiKey}
                canRevoke={canRevoke}
                secret={newKeySecret?.forId === apiKey.id ? newKeySecret : null}
              />
            ))}
          </ul>
        )}
        {nextCursor ? (
          <p className="mt-3 text-sm">
            <Link to={`?cursor=${encodeURIComponent(nextCursor)}`}>Next page of keys</Link>
          </p>
        ) : null}
      </Card>
      {/* A new key changes the list: the form then starts empty again, as after a reload. */}
      <CreateApiKeyForm key={keys.map((apiKey) => apiKey.id).join()} permissionOptions={permissionOptions} canCreate={canCreate} />
    </div>
  )
}

function CreateApiKeyForm({
  permissionOptions,
  canCreate,
}: {
  permissionOptions: { value: string; label: string; description: string; disabled: boolean }[]
  canCreate: boolean
}) {
  const [form, fields] = useIntentForm('create', createApiKeyFormSchema)
  return (
    <Card title="Create an API key">
      <IntentForm form={form} intent="create">
        {canCreate ? null : <p className="text-sm text-slate-600">Your role cannot create API keys in this project.</p>}
        <TextField label="Key name" field={fields.name} hint="What the key is for, e.g. production uploads." />
        <CheckboxGroupField
          legend="Permissions (only those your role holds can be granted)"
          field={fields.permissions}
          options={permissionOptions}
        />
        <TextField
          label="Expires at"
          type="date"
          field={fields.expiresAt}
          hint="Optional. The key stops working at 00:00 UTC on this day; leave empty for a key that does not expire."
        />
        <SubmitButton>Create API key</SubmitButton>
      </IntentForm>
    </Card>
  )
}
