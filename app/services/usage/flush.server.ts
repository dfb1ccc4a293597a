import { prisma } from '~/utils/db.server'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import { HOUR_MS, splitKey, usageMeter, type PendingUsage, type UsageMeter } from './meter.server'
import { ALL_TENANTS, METRICS } from './metrics'

const DAY_MS = 24 * HOUR_MS

interface Rollup {
  keys: string[][]
  values: number[][]
}

/** Sums counters into rows keyed by `key(...)`; rows are unique, as one INSERT ... ON CONFLICT needs. */
function rollup(activity: Map<string, Float64Array>, keyOf: (projectId: string, tenantKey: string, hour: number) => string[]): Rollup {
  const rows = new Map<string, { key: string[]; values: Float64Array }>()
  for (const [entry, counters] of activity) {
    const [projectId, tenantKey, hour] = splitKey(entry) as [string, string, string]
    for (const tenant of [tenantKey, ALL_TENANTS]) {
      const key = keyOf(projectId, tenant, Number(hour))
      const id = key.join('\u0000')
      const row = rows.get(id)
      if (row) for (let i = 0; i < counters.length; i++) row.values[i]! += counters[i]!
      else rows.set(id, { key, values: Float64Array.from(counters) })
    }
  }
  const keys: string[][] = [[], [], []]
  const values: number[][] = METRICS.map(() => [])
  for (const { key, values: counters } of rows.values()) {
    key.forEach((part, i) => keys[i]!.push(part))
    counters.forEach((value, i) => values[i]!.push(value))
  }
  return { keys, values }
}

const quoted = (name: string) => `"${name}"`

/** `INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE SET x = x + excluded.x`: instances add up. */
function additiveUpsert(table: string, keys: { name: string; type: string }[], metrics: readonly string[]) {
  const columns = [...keys.map((key) => key.name), ...metrics]
  const casts = [...keys.map((key, i) => `$${i + 1}::${key.type}[]`), ...metrics.map((_, i) => `$${keys.length + i + 1}::bigint[]`)]
  const updates = metrics.map((metric) => `${quoted(metric)} = ${quoted(table)}.${quoted(metric)} + excluded.${quoted(metric)}`)
  return (
    `INSERT INTO ${quoted(table)} (${columns.map(quoted).join(', ')}) SELECT * FROM unnest(${casts.join(', ')}) ` +
    `ON CONFLICT (${keys.map((key) => quoted(key.name)).join(', ')}) DO UPDATE SET ${updates.join(', ')}`
  )
}

const HOURLY_SQL = additiveUpsert(
  'UsageHourly',
  [
    { name: 'projectId', type: 'text' },
    { name: 'tenantKey', type: 'text' },
    { name: 'hour', type: 'timestamp(3)' },
  ],
  METRICS,
)
const DAILY_SQL = additiveUpsert(
  'UsageDaily',
  [
    { name: 'projectId', type: 'text' },
    { name: 'tenantKey', type: 'text' },
    { name: 'day', type: 'date' },
  ],
  METRICS,
)
const REQUESTS_SQL = additiveUpsert(
  'UsageRequestsHourly',
  [
    { name: 'projectId', type: 'text' },
    { name: 'hour', type: 'timestamp(3)' },
    { name: 'tier', type: 'text' },
    { name: 'statusClass', type: 'text' },
  ],
  ['requests'],
)

const isoHour = (hour: number) => new Date(hour * HOUR_MS).toISOString()
const isoDay = (hour: number) => new Date(Math.floor((hour * HOUR_MS) / DAY_MS) * DAY_MS).toISOString().slice(0, 10)

/** Writes pending counts in one transaction: all of them or none (then they are put back for the next try). */
async function write(pending: PendingUsage) {
  const hourly = rollup(pending.activity, (projectId, tenantKey, hour) => [projectId, tenantKey, isoHour(hour)])
  const daily = rollup(pending.activity, (projectId, tenantKey, hour) => [projectId, tenantKey, isoDay(hour)])
  const requestColumns: (string | number)[][] = [[], [], [], [], []]
  for (const [key, count] of pending.requests) {
    const [projectId, hour, tier, statusClass] = splitKey(key) as [string, string, string, string]
    ;[projectId, isoHour(Number(hour)), tier, statusClass, count].forEach((value, i) => requestColumns[i]!.push(value))
  }
  const statements = []
  if (hourly.keys[0]!.length > 0) {
    statements.push(prisma.$executeRawUnsafe(HOURLY_SQL, ...hourly.keys, ...hourly.values))
    statements.push(prisma.$executeRawUnsafe(DAILY_SQL, ...daily.keys, ...daily.values))
  }
  if (requestColumns[0]!.length > 0) statements.push(prisma.$executeRawUnsafe(REQUESTS_SQL, ...requestColumns))
  if (statements.length > 0) await prisma.$transaction(statements)
}

let flushing: Promise<void> | undefined

/**
 * Writes what the meter has counted since the last flush. A failed write keeps the counts for the
 * next try (within the meter's bound). Flushes never overlap: a call during one waits for it, then
 * flushes what came since.
 */
export async function flushUsage(meter: UsageMeter = usageMeter()): Promise<void> {
  while (flushing) await flushing
  const pending = meter.take()
  if (meter.dropped > 0) {
    logger.warn(
      { dropped: meter.dropped, maxKeys: meter.maxKeys },
      'usage counts dropped: more distinct project/tenant/hour entries than USAGE_MAX_PENDING_KEYS between flushes',
    )
    meter.dropped = 0
  }
  if (pending.activity.size === 0 && pending.requests.size === 0) return
  flushing = write(pending)
    .catch((error: unknown) => {
      meter.restore(pending)
      throw error
    })
    .finally(() => {
      flushing = undefined
    })
  await flushing
}

/** Flushes every USAGE_FLUSH_SECONDS; the returned stop function flushes one last time (shutdown). */
export function startUsageFlushing(): () => Promise<void> {
  const run = () =>
    flushUsage().catch((error: unknown) => logger.warn({ err: error as Error }, 'usage flush failed; counts kept for the next one'))
  const timer = setInterval(run, getConfig().USAGE_FLUSH_SECONDS * 1000)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await run()
  }
}
