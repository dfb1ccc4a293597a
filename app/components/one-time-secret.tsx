import { useEffect, useId, useState } from 'react'

/**
 * A secret shown once (a new API key, an invitation link): selectable text that works without
 * JavaScript, plus a copy button once JavaScript runs, and the warning that it will not come back.
 */
export function OneTimeSecret({
  label,
  value,
  kept = 'Carcosa keeps only a hash of it.',
}: {
  label: string
  value: string
  /** How Carcosa keeps the secret, i.e. why it cannot show it again. */
  kept?: string
}) {
  const id = useId()
  const [canCopy, setCanCopy] = useState(false)
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null)
  // The Clipboard API needs JavaScript and a secure context: without them the button is not offered.
  useEffect(() => setCanCopy(typeof navigator !== 'undefined' && Boolean(navigator.clipboard)), [])
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => setCopied('copied'),
      () => setCopied('failed'),
    )
  return (
    <div className="mt-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950">
      <label htmlFor={`${id}-value`} className="block font-medium">
        {label} (shown once: copy it now)
      </label>
      <div className="mt-1 flex gap-2">
        <input
          id={`${id}-value`}
          readOnly
          value={value}
          aria-describedby={`${id}-note`}
          className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-xs text-slate-900"
        />
        {canCopy ? (
          <button
            type="button"
            onClick={copy}
            className="shrink-0 rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium text-slate-800 hover:bg-slate-50"
          >
            Copy<span className="sr-only"> {label}</span>
          </button>
        ) : null}
      </div>
      <p id={`${id}-note`} className="mt-1 text-xs">
        It will not be shown again: {kept}{' '}
        <span role="status">
          {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copying failed: select the text and copy it.' : ''}
        </span>
      </p>
    </div>
  )
}
