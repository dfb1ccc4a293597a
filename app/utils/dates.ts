/** A timestamp as people read it in the dashboard, in UTC so server and browser render the same text. */
export function formatDateTime(value: Date) {
  return `${value.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
