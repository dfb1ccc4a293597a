import { scaleBand, scaleLinear, scaleUtc } from 'd3-scale'
import { line } from 'd3-shape'
import type { UserActor } from '../actor'
import type { MetricTotals } from './metrics'
import { usageBreakdown, usageOverview, usageTrends, type BreakdownItem, type UsageOverview } from './reports.server'
import { usageQuerySchema, type GroupBy } from './schemas'

/** Series of the activity chart: what a person watches over time. */
const SERIES = [
  { key: 'apiRequests', label: 'API requests', color: '#4f46e5' },
  { key: 'uploads', label: 'Uploads', color: '#059669' },
  { key: 'downloads', label: 'Downloads', color: '#d97706' },
  { key: 'transformsAll', label: 'Transforms (renders and cache hits)', color: '#db2777' },
] as const

export const CHART = { width: 720, height: 260, margin: { top: 16, right: 16, bottom: 36, left: 56 } }
const BAR = { width: 720, rowHeight: 28, margin: { top: 8, right: 72, bottom: 8, left: 180 } }

type Scope = { projectId: string } | { teamId: string } | { organizationId: string }

export interface UsagePageForm {
  from: string
  to: string
  granularity: 'hour' | 'day'
  groupBy: GroupBy
}

const transformsAll = (totals: MetricTotals) => totals.transforms + totals.transformCacheHits

/**
 * Everything a Usage page shows, computed on the server: the overview, the activity trend as SVG
 * paths with axis ticks, and the breakdown as bars, each with the rows of its table alternative.
 * Search parameters that do not validate fall back to the defaults, with the errors to show.
 */
export async function usagePage(actor: UserActor, scope: Scope, search: URLSearchParams, options: { groupBys: GroupBy[] }) {
  const raw = Object.fromEntries(
    [...search].filter(([name]) => ['from', 'to', 'granularity', 'groupBy'].includes(name) && search.get(name) !== ''),
  )
  // The form's "to" is a day shown inclusive: the query's end is the next midnight.
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw.to ?? '')) {
    const next = new Date(`${raw.to}T00:00:00Z`)
    if (!Number.isNaN(next.getTime())) raw.to = new Date(next.getTime() + 86_400_000).toISOString().slice(0, 10)
  }
  const parsed = usageQuerySchema.safeParse({ ...raw, ...scope })
  const errors = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`)
  const query = parsed.success ? parsed.data : usageQuerySchema.parse(scope)
  const groupBy = query.groupBy && options.groupBys.includes(query.groupBy) ? query.groupBy : options.groupBys[0]!
  const [overview, trends, breakdown] = await Promise.all([
    usageOverview(actor, query),
    usageTrends(actor, query),
    usageBreakdown(actor, { ...query, groupBy }),
  ])
  const lastDay = new Date(query.to.getTime() - 1)
  const form: UsagePageForm = {
    from: query.from.toISOString().slice(0, 10),
    to: lastDay.toISOString().slice(0, 10),
    granularity: query.granularity,
    groupBy,
  }
  const csvQuery = new URLSearchParams({
    ...Object.fromEntries(Object.entries(scope)),
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    granularity: query.granularity,
  })
  return {
    overview,
    form,
    errors,
    trend: trendChart(trends.points, query.granularity),
    breakdown: breakdownChart(breakdown.items, groupBy),
    csvHref: `/usage.csv?${csvQuery}`,
  }
}

function trendChart(points: (MetricTotals & { start: string })[], granularity: 'hour' | 'day') {
  const { width, height, margin } = CHART
  const times = points.map((point) => new Date(point.start))
  const values = (point: MetricTotals, key: (typeof SERIES)[number]['key']) => (key === 'transformsAll' ? transformsAll(point) : point[key])
  const max = Math.max(1, ...points.flatMap((point) => SERIES.map((series) => values(point, series.key))))
  const x = scaleUtc()
    .domain([times[0] ?? new Date(), times[times.length - 1] ?? new Date()])
    .range([margin.left, width - margin.right])
  const y = scaleLinear()
    .domain([0, max])
    .nice()
    .range([height - margin.bottom, margin.top])
  const series = SERIES.map((definition) => {
    const path = line<MetricTotals & { start: string }>()
      .x((point) => x(new Date(point.start)))
      .y((point) => y(values(point, definition.key)))(points)
    const total = points.reduce((sum, point) => sum + values(point, definition.key), 0)
    return { ...definition, path: path ?? '', total }
  })
  const format =
    granularity === 'hour'
      ? (date: Date) => `${date.toISOString().slice(5, 10)} ${date.toISOString().slice(11, 13)}h`
      : (date: Date) => date.toISOString().slice(0, 10)
  const busiest = points.reduce<{ start: string; value: number } | null>((best, point) => {
    const value = point.apiRequests + point.uploads + point.downloads + transformsAll(point)
    return value > (best?.value ?? 0) ? { start: point.start, value } : best
  }, null)
  return {
    width,
    height,
    series,
    xTicks: x.ticks(6).map((tick) => ({ x: x(tick), label: format(tick) })),
    yTicks: y.ticks(5).map((tick) => ({ y: y(tick), label: tick.toLocaleString('en-US') })),
    plot: { left: margin.left, right: width - margin.right, top: margin.top, bottom: height - margin.bottom },
    busiest: busiest ? { label: format(new Date(busiest.start)), value: busiest.value } : null,
    rows: points.map((point) => ({ label: format(new Date(point.start)), values: SERIES.map((definition) => values(point, definition.key)) })),
  }
}

function breakdownChart(items: BreakdownItem[], groupBy: GroupBy) {
  const rows = items.map((item) => {
    const value = item.totals
      ? item.totals.apiRequests + item.totals.uploads + item.totals.downloads + transformsAll(item.totals)
      : (item.count ?? 0)
    return { key: item.key, label: item.label, value, totals: item.totals, bytes: item.bytes }
  })
  const { width, rowHeight, margin } = BAR
  const height = margin.top + margin.bottom + Math.max(1, rows.length) * rowHeight
  const x = scaleLinear()
    .domain([0, Math.max(1, ...rows.map((row) => row.value))])
    .range([0, width - margin.left - margin.right])
  const y = scaleBand()
    .domain(rows.map((row) => row.key))
    .range([margin.top, height - margin.bottom])
    .padding(0.25)
  return {
    width,
    height,
    left: margin.left,
    groupBy,
    measure: groupBy === 'operation' ? 'count' : 'operations (API requests, uploads, downloads, transforms)',
    bars: rows.map((row) => ({ ...row, y: y(row.key) ?? 0, barHeight: y.bandwidth(), barWidth: x(row.value) })),
  }
}

export type UsagePage = Awaited<ReturnType<typeof usagePage>>
export type { UsageOverview }
