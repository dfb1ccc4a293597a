import { OneTimeSecret } from './one-time-secret'
import { revokeApiKeySchema } from '~/services/api-keys/schemas'
import { IntentForm, SubmitButton, useIntentForm } from './forms'
import { DateTime } from '~/components/date-time'

export type ApiKeyState = 'active' | 'expired' | 'revoked'

const STATE_TONES: Record<ApiKeyState, string> = {
  active: 'bg-emerald-100 text-emerald-800',
  expired: 'bg-amber-100 text-amber-800',
  revoked: 'bg-slate-200 text-slate-700',
}

/**
 * One API key: never its secret, only the prefix and last four characters, its permissions and
 * dates, and a revoke button (posts `revoke:<id>`) while it is usable.
 */
export function ApiKeyRow({
  apiKey,
  canRevoke,
  secret,
}: {
  apiKey: {
    id: string
    name: string
    displayKey: string
    permissions: string[]
    createdAt: Date
    lastUsedAt: Date | null
    expiresAt: Date | null
    revokedAt: Date | null
    state: ApiKeyState
  }
  canRevoke: boolean
  /** The key's secret, right after it was created (never again). */
  secret: { label: string; value: string } | null
}) {
  const intent = `revoke:${apiKey.id}`
  const [form] = useIntentForm(intent, revokeApiKeySchema)
  const dates = [
    { label: 'Created', value: <DateTime value={apiKey.createdAt} /> },
    { label: 'Last used', value: apiKey.lastUsedAt ? <DateTime value={apiKey.lastUsedAt} relative /> : 'Never' },
    { label: 'Expires', value: apiKey.expiresAt ? <DateTime value={apiKey.expiresAt} relative /> : 'Never' },
    ...(apiKey.revokedAt ? [{ label: 'Revoked', value: <DateTime value={apiKey.revokedAt} /> }] : []),
  ]
  return (
    <li className="space-y-2 py-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="flex flex-wrap items-center gap-2">
          <span className="font-medium">{apiKey.name}</span>
          <code className="text-sm text-slate-600">{apiKey.displayKey}</code>
          <span className={`rounded-full px-2 py-0.5 text-xs font-semibold ${STATE_TONES[apiKey.state]}`}>
            {apiKey.state.charAt(0).toUpperCase() + apiKey.state.slice(1)}
          </span>
        </p>
        {canRevoke && apiKey.state !== 'revoked' ? (
          <IntentForm form={form} intent={intent} className="flex items-end">
            <input type="hidden" name="apiKeyId" value={apiKey.id} />
            <SubmitButton variant="secondary">
              Revoke<span className="sr-only"> {apiKey.name}</span>
            </SubmitButton>
          </IntentForm>
        ) : null}
      </div>
      <ul aria-label={`Permissions of ${apiKey.name}`} className="flex flex-wrap gap-1">
        {apiKey.permissions.map((permission) => (
          <li key={permission} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700">
            {permission}
          </li>
        ))}
      </ul>
      {secret ? <OneTimeSecret label={secret.label} value={secret.value} /> : null}
      <dl className="flex flex-wrap gap-x-6 gap-y-1 text-xs text-slate-600">
        {dates.map((date) => (
          <div key={date.label} className="flex gap-1">
            <dt>{date.label}</dt>
            <dd className="text-slate-800">{date.value}</dd>
          </div>
        ))}
      </dl>
    </li>
  )
}
