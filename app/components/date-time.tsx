import { formatDateTime, formatRelative } from '~/utils/dates'

/**
 * A time as the dashboard shows it: absolute, or relative with the absolute time beside it. The
 * relative words depend on the clock, so the browser keeps the server's text when it hydrates.
 */
export function DateTime({ value, relative = false }: { value: Date | string; relative?: boolean }) {
  const date = new Date(value)
  const text = relative ? `${formatRelative(date)} (${formatDateTime(date)})` : formatDateTime(date)
  return (
    <time dateTime={date.toISOString()} suppressHydrationWarning>
      {text}
    </time>
  )
}
