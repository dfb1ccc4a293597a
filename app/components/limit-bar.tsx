import { useId } from 'react'

/**
 * One limit and its use, as text and a native <meter> (no JavaScript, read out by screen readers):
 * past 80% it shows as high. Without a limit, the use alone.
 */
export function LimitBar({
  label,
  used,
  limit,
  show,
  note,
}: {
  label: string
  used: number | null
  limit: number | null
  show: (value: number) => string
  note?: string
}) {
  const id = useId()
  const share = limit && used !== null ? Math.round((used / limit) * 100) : null
  const metered = limit !== null && used !== null
  // Only a meter is labelled as a control; without one the text beside the name says it all (no live region).
  const Name = metered ? 'label' : 'span'
  return (
    <div>
      <div className="flex flex-wrap justify-between gap-2 text-sm">
        <Name htmlFor={metered ? id : undefined} className="font-medium text-slate-700">
          {label}
        </Name>
        <span className="text-slate-600">
          {used === null ? '' : show(used)}
          {limit === null
            ? used === null
              ? 'no limit'
              : ' (no limit)'
            : used === null
              ? `at most ${show(limit)}`
              : ` of ${show(limit)} (${share}%)`}
          {note ? <span className="block text-xs text-slate-500">{note}</span> : null}
        </span>
      </div>
      {metered ? (
        <meter
          id={id}
          min={0}
          max={Math.max(limit, 1)}
          value={Math.min(used, limit)}
          low={limit * 0.8}
          high={limit * 0.999}
          optimum={0}
          className="mt-1 h-3 w-full"
        >
          {share}%
        </meter>
      ) : null}
    </div>
  )
}
