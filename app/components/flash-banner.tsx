import type { Flash } from '~/utils/flash.server'

export function FlashBanner({ flash }: { flash: Flash }) {
  const tone = flash.kind === 'success' ? 'border-green-200 bg-green-50 text-green-900' : 'border-red-200 bg-red-50 text-red-900'
  return (
    <div role="status" className={`mb-6 rounded-md border px-4 py-3 text-sm ${tone}`}>
      <p>{flash.message}</p>
      {flash.secret ? (
        <div className="mt-2">
          <label htmlFor="flash-secret" className="block font-medium">
            {flash.secret.label} (shown once: copy it now)
          </label>
          <input
            id="flash-secret"
            readOnly
            value={flash.secret.value}
            className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs"
          />
        </div>
      ) : null}
    </div>
  )
}
