/**
 * The one way the dashboard writes times: "29 Nov 2026, 02:06 UTC" (UTC, so server and browser
 * render the same text), and relative ("in 59 minutes", "3 hours ago") where nearness matters.
 */
const absolute = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
})
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
]

const asDate = (value: Date | string | number) => (value instanceof Date ? value : new Date(value))

// The same text without Intl's per-call cost (a page of files writes dozens of times): the month
// names come from the formatter itself, and the layout is checked against it once at start; any
// difference (another ICU) keeps Intl for every call.
const MONTHS = Array.from(
  { length: 12 },
  (_, month) => absolute.formatToParts(Date.UTC(2026, month, 15)).find((part) => part.type === 'month')?.value,
)
const twoDigits = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const assembled = (date: Date) =>
  `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}`
const assembledMatchesIntl = [
  Date.UTC(2026, 8, 5, 3, 7),
  Date.UTC(1999, 11, 31, 23, 59, 59),
  Date.UTC(2030, 0, 10, 12, 0),
  Date.UTC(2026, 4, 29, 0, 30),
]
  .map((time) => new Date(time))
  .every((date) => assembled(date) === absolute.format(date))

export function formatDateTime(value: Date | string | number) {
  const date = asDate(value)
  const year = date.getUTCFullYear()
  // Invalid dates (Intl throws) and years outside 1-9999 go to Intl.
  return `${assembledMatchesIntl && year >= 1 && year <= 9999 ? assembled(date) : absolute.format(date)} UTC`
}

/** "in 59 minutes", "3 hours ago", "yesterday": the largest whole unit, seconds only under a minute. */
export function formatRelative(value: Date | string | number, now: Date | number = Date.now()) {
  const seconds = Math.round((asDate(value).getTime() - asDate(now).getTime()) / 1000)
  const [unit, size] = UNITS.find(([, size]) => Math.abs(seconds) >= size) ?? ['second', 1]
  return relative.format(Math.trunc(seconds / size), unit)
}

/** A length of time in words: "1 hour", "90 minutes" stays "1 hour 30 minutes", "45 seconds". */
export function formatDuration(totalSeconds: number) {
  const parts: string[] = []
  let rest = Math.max(0, Math.round(totalSeconds))
  for (const [unit, size] of UNITS.filter(([unit]) => unit !== 'month' && unit !== 'week')) {
    const count = Math.floor(rest / size)
    if (count === 0) continue
    parts.push(`${count} ${unit}${count === 1 ? '' : 's'}`)
    rest -= count * size
    if (parts.length === 2) break
  }
  return parts.length > 0 ? parts.join(' ') : '0 seconds'
}
