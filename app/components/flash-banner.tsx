import type { Flash } from '~/utils/flash.server'
import { OneTimeSecret } from './one-time-secret'

export function FlashBanner({ flash }: { flash: Flash }) {
  const tone = flash.kind === 'success' ? 'border-green-200 bg-green-50 text-green-900' : 'border-red-200 bg-red-50 text-red-900'
  return (
    // A refusal is announced at once (also without JavaScript, on the page that shows it); success politely.
    <div role={flash.kind === 'success' ? 'status' : 'alert'} className={`mb-6 rounded-md border px-4 py-3 text-sm ${tone}`}>
      <p>{flash.message}</p>
      {/* A secret that belongs to a row (a new API key) is shown by that row instead. */}
      {flash.secret && !flash.secret.forId ? <OneTimeSecret label={flash.secret.label} value={flash.secret.value} /> : null}
    </div>
  )
}
