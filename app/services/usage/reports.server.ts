import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { ALL_TENANTS, METRICS, METRIC_LABELS, NO_TENANT, STATUS_CLASSES, zeroTotals, type MetricTotals } from './metrics'
import { COST_BASIS, estimateCost, pricesFor, type BucketPrices, type CostLines } from './prices'
import type { Granularity, GroupBy, UsageQuery } from './schemas'
import { resolveUsageScope, type UsageScope } from './scope.server'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** Hourly rows for hour granularity, daily rows for day granularity (24 times fewer to read). */
const SOURCE: Record<Granularity, { table: string; time: string }> = {
  hour: { table: '"UsageHourly"', time: '"hour"' },
  day: { table: '"UsageDaily"', time: '"day"' },
}

const sums = METRICS.map((metric) => `COALESCE(SUM("${metric}"), 0)::float8 AS "${metric}"`).join(', ')

/** The range as the table's time type: dates for the daily table. */
const bound = (date: Date, granularity: Granularity) => (granularity === 'day' ? date.toISOString().slice(0, 10) : date.toISOString())
const timeCast = (granularity: Granularity) => (granularity === 'day' ? 'date' : 'timestamp(3)')

type Row = MetricTotals & Record<string, unknown>

/** Metric sums grouped by `groupColumn` (or one row) for the scope's projects and tenant key(s). */
function sumRows(
  query: UsageQuery,
  projectIds: string[],
  tenantFilter: { equals: string } | { not: string },
  groupColumn?: string,
): Promise<Row[]> {
  const { table, time } = SOURCE[query.granularity]
  const cast = timeCast(query.granularity)
  const tenantCondition = 'equals' in tenantFilter ? '"tenantKey" = $2' : '"tenantKey" <> $2'
  const select = groupColumn ? `${groupColumn} AS "group", ${sums}` : sums
  const sql =
    `SELECT ${select} FROM ${table} WHERE "projectId" = ANY($1::text[]) AND ${tenantCondition} ` +
    `AND ${time} >= $3::${cast} AND ${time} < $4::${cast}` +
    (groupColumn ? ` GROUP BY ${groupColumn} ORDER BY ${groupColumn}` : '')
  const tenantKey = 'equals' in tenantFilter ? tenantFilter.equals : tenantFilter.not
  return prisma.$queryRawUnsafe<Row[]>(sql, projectIds, tenantKey, bound(query.from, query.granularity), bound(query.to, query.granularity))
}

const totalsOf = (row: Row | undefined): MetricTotals => {
  const totals = zeroTotals()
  if (row) for (const metric of METRICS) totals[metric] = Number(row[metric])
  return totals
}

const scopeTenantKey = (scope: UsageScope) => scope.tenant?.id ?? ALL_TENANTS

interface StorageFigures {
  /** Files and bytes at the latest snapshot in the range. */
  files: number
  bytes: number
  asOf: string | null
  /** Sum of each day's stored bytes over the range (for GB-months). */
  byteDays: number
}

async function storageByProject(scope: UsageScope, query: UsageQuery): Promise<Map<string, StorageFigures>> {
  const from = query.from.toISOString().slice(0, 10)
  // A range ending mid-day still includes that day's snapshot.
  const to = new Date(Math.ceil(query.to.getTime() / DAY_MS) * DAY_MS).toISOString().slice(0, 10)
  const rows = await prisma.$queryRawUnsafe<{ projectId: string; day: Date; files: number; bytes: number; byteDays: number }[]>(
    `WITH latest AS (
       SELECT "projectId", MAX("day") AS "day" FROM "UsageStorageDaily"
       WHERE "projectId" = ANY($1::text[]) AND "tenantKey" = '*' AND "day" >= $3::date AND "day" < $4::date GROUP BY "projectId"),
     spread AS (
       SELECT "projectId", SUM("bytes")::float8 AS "byteDays" FROM "UsageStorageDaily"
       WHERE "projectId" = ANY($1::text[]) AND "tenantKey" = $2 AND "day" >= $3::date AND "day" < $4::date GROUP BY "projectId")
     SELECT l."projectId", l."day", COALESCE(s."files", 0)::float8 AS "files", COALESCE(s."bytes", 0)::float8 AS "bytes", COALESCE(p."byteDays", 0) AS "byteDays"
     FROM latest l
     LEFT JOIN "UsageStorageDaily" s ON s."projectId" = l."projectId" AND s."day" = l."day" AND s."tenantKey" = $2
     LEFT JOIN spread p ON p."projectId" = l."projectId"`,
    scope.projects.map((project) => project.id),
    scopeTenantKey(scope),
    from,
    to,
  )
  return new Map(
    rows.map((row) => [
      row.projectId,
      { files: Number(row.files), bytes: Number(row.bytes), asOf: row.day.toISOString().slice(0, 10), byteDays: Number(row.byteDays) },
    ]),
  )
}

export interface UsageRange {
  from: string
  to: string
  granularity: Granularity
}

export interface ScopeView {
  kind: UsageScope['kind']
  id: string
  name: string
  tenant: UsageScope['tenant']
  projectCount: number
}

export interface PricesUsed extends BucketPrices {
  projectId: string
  projectName: string
  source: 'custom' | 'list'
  name: string
}

export interface CostEstimate extends CostLines {
  currency: 'USD'
  estimate: true
  basis: string
  /** The prices each project's figures were multiplied by. */
  prices: PricesUsed[]
  /** Projects left out: no bucket, or a provider without list prices and no prices of the team's own. */
  unpriced: { projectId: string; projectName: string; reason: string }[]
}

export interface UsageOverview {
  scope: ScopeView
  range: UsageRange
  totals: MetricTotals
  storage: { files: number; bytes: number; asOf: string | null }
  requests: { byStatusClass: Record<(typeof STATUS_CLASSES)[number], number>; byTier: Record<string, number> }
  cost: CostEstimate
}

const scopeView = (scope: UsageScope): ScopeView => ({
  kind: scope.kind,
  id: scope.id,
  name: scope.name,
  tenant: scope.tenant,
  projectCount: scope.projects.length,
})
const rangeView = (query: UsageQuery): UsageRange => ({
  from: query.from.toISOString(),
  to: query.to.toISOString(),
  granularity: query.granularity,
})

async function requestRows(scope: UsageScope, query: UsageQuery) {
  // API calls belong to a project's keys, not to a tenant.
  if (scope.tenant) return []
  return prisma.$queryRawUnsafe<{ tier: string; statusClass: string; requests: number }[]>(
    `SELECT "tier", "statusClass", SUM("requests")::float8 AS "requests" FROM "UsageRequestsHourly"
     WHERE "projectId" = ANY($1::text[]) AND "hour" >= $2::timestamp(3) AND "hour" < $3::timestamp(3)
     GROUP BY "tier", "statusClass" ORDER BY "tier", "statusClass"`,
    scope.projects.map((project) => project.id),
    query.from.toISOString(),
    query.to.toISOString(),
  )
}

/** Totals over the range, stored files and bytes, API calls by status class and tier, and a cost estimate. */
export async function usageOverview(actor: Actor, query: UsageQuery): Promise<UsageOverview> {
  const scope = await resolveUsageScope(actor, query)
  const projectIds = scope.projects.map((project) => project.id)
  const [perProject, storage, requests] = await Promise.all([
    sumRows(query, projectIds, { equals: scopeTenantKey(scope) }, '"projectId"'),
    storageByProject(scope, query),
    requestRows(scope, query),
  ])
  const byProject = new Map(perProject.map((row) => [row.group as string, totalsOf(row)]))
  const totals = zeroTotals()
  for (const projectTotals of byProject.values()) for (const metric of METRICS) totals[metric] += projectTotals[metric]

  const byStatusClass = Object.fromEntries(STATUS_CLASSES.map((statusClass) => [statusClass, 0])) as UsageOverview['requests']['byStatusClass']
  const byTier: Record<string, number> = {}
  for (const row of requests) {
    byStatusClass[row.statusClass as keyof typeof byStatusClass] += Number(row.requests)
    byTier[row.tier] = (byTier[row.tier] ?? 0) + Number(row.requests)
  }

  let asOf: string | null = null
  let files = 0
  let bytes = 0
  for (const figures of storage.values()) {
    files += figures.files
    bytes += figures.bytes
    if (figures.asOf && (!asOf || figures.asOf > asOf)) asOf = figures.asOf
  }
  return {
    scope: scopeView(scope),
    range: rangeView(query),
    totals,
    storage: { files, bytes, asOf },
    requests: { byStatusClass, byTier },
    cost: costOf(scope, byProject, storage),
  }
}

function costOf(scope: UsageScope, byProject: Map<string, MetricTotals>, storage: Map<string, StorageFigures>): CostEstimate {
  const cost: CostEstimate = {
    currency: 'USD',
    estimate: true,
    basis: COST_BASIS,
    storage: 0,
    writes: 0,
    reads: 0,
    egress: 0,
    total: 0,
    prices: [],
    unpriced: [],
  }
  for (const project of scope.projects) {
    const priced = pricesFor(project.bucket)
    if (!priced) {
      const reason = project.bucket ? `no list prices for ${project.bucket.provider} buckets: set the bucket's prices` : 'no bucket chosen'
      cost.unpriced.push({ projectId: project.id, projectName: project.name, reason })
      continue
    }
    const totals = byProject.get(project.id) ?? zeroTotals()
    const lines = estimateCost({ ...totals, storedByteDays: storage.get(project.id)?.byteDays ?? 0 }, priced.prices)
    for (const line of ['storage', 'writes', 'reads', 'egress', 'total'] as const)
      cost[line] = Math.round((cost[line] + lines[line]) * 10_000) / 10_000
    cost.prices.push({ projectId: project.id, projectName: project.name, source: priced.source, name: priced.name, ...priced.prices })
  }
  return cost
}

export interface BreakdownItem {
  key: string
  label: string
  /** Count of the operation (operation grouping) or null. */
  totals: MetricTotals | null
  count: number | null
  bytes: number | null
}

export interface UsageBreakdown {
  scope: ScopeView
  range: UsageRange
  groupBy: GroupBy
  items: BreakdownItem[]
}

/** The range's totals per tenant (of a project), per project, or per operation (file operations and API calls by tier and status). */
export async function usageBreakdown(actor: Actor, query: UsageQuery): Promise<UsageBreakdown> {
  const scope = await resolveUsageScope(actor, query)
  const groupBy: GroupBy = query.groupBy ?? (scope.kind === 'project' ? 'tenant' : 'project')
  const projectIds = scope.projects.map((project) => project.id)
  const base = { scope: scopeView(scope), range: rangeView(query), groupBy }
  if (groupBy === 'tenant') {
    if (scope.kind !== 'project')
      throw new AppError('VALIDATION', 'groupBy=tenant needs one project (projectId)', {
        fieldErrors: { groupBy: ['tenant grouping needs projectId'] },
      })
    if (scope.tenant)
      throw new AppError('VALIDATION', 'groupBy=tenant cannot be combined with tenantId', { fieldErrors: { groupBy: ['not with tenantId'] } })
    const rows = await sumRows(query, projectIds, { not: ALL_TENANTS }, '"tenantKey"')
    const tenants = await prisma.tenant.findMany({
      where: { projectId: scope.id, id: { in: rows.map((row) => row.group as string) } },
      select: { id: true, name: true },
    })
    const names = new Map(tenants.map((tenant) => [tenant.id, tenant.name]))
    const items = rows.map((row) => {
      const key = row.group as string
      const label = key === NO_TENANT ? 'No tenant' : (names.get(key) ?? `Deleted tenant ${key}`)
      return { key, label, totals: totalsOf(row), count: null, bytes: null }
    })
    return { ...base, items: items.sort(byActivity) }
  }
  if (groupBy === 'project') {
    const rows = await sumRows(query, projectIds, { equals: scopeTenantKey(scope) }, '"projectId"')
    const found = new Map(rows.map((row) => [row.group as string, totalsOf(row)]))
    const items = scope.projects.map((project) => ({
      key: project.id,
      label: project.name,
      totals: found.get(project.id) ?? zeroTotals(),
      count: null,
      bytes: null,
    }))
    return { ...base, items: items.sort(byActivity) }
  }
  const [[row], requests] = await Promise.all([sumRows(query, projectIds, { equals: scopeTenantKey(scope) }), requestRows(scope, query)])
  const totals = totalsOf(row)
  const operation = (key: string, label: string, count: number, bytes: number | null): BreakdownItem => ({
    key,
    label,
    totals: null,
    count,
    bytes,
  })
  const items = [
    operation('uploads', 'Uploads', totals.uploads, totals.uploadBytes),
    operation('downloads', 'Downloads', totals.downloads, totals.downloadBytes),
    operation('transforms', 'Transform renders', totals.transforms, null),
    operation('transformCacheHits', 'Transform cache hits', totals.transformCacheHits, null),
    ...requests.map((request) =>
      operation(`api:${request.tier}:${request.statusClass}`, `API ${request.tier} ${request.statusClass}`, Number(request.requests), null),
    ),
    operation('rateLimited', METRIC_LABELS.rateLimited, totals.rateLimited, null),
  ]
  return { ...base, items }
}

const activityOf = (item: BreakdownItem) =>
  item.totals
    ? item.totals.uploads + item.totals.downloads + item.totals.transforms + item.totals.transformCacheHits + item.totals.apiRequests
    : 0
const byActivity = (a: BreakdownItem, b: BreakdownItem) => activityOf(b) - activityOf(a) || a.label.localeCompare(b.label)

export interface TrendPoint extends MetricTotals {
  start: string
}

export interface UsageTrends {
  scope: ScopeView
  range: UsageRange
  points: TrendPoint[]
}

/** One point per hour or day of the range (zeros where nothing happened). */
export async function usageTrends(actor: Actor, query: UsageQuery): Promise<UsageTrends> {
  const scope = await resolveUsageScope(actor, query)
  const { time } = SOURCE[query.granularity]
  const rows = await sumRows(
    query,
    scope.projects.map((project) => project.id),
    { equals: scopeTenantKey(scope) },
    time,
  )
  const found = new Map(rows.map((row) => [new Date(row.group as string | Date).getTime(), totalsOf(row)]))
  const step = query.granularity === 'hour' ? HOUR_MS : DAY_MS
  const points: TrendPoint[] = []
  for (let at = query.from.getTime(); at < query.to.getTime(); at += step)
    points.push({ start: new Date(at).toISOString(), ...(found.get(at) ?? zeroTotals()) })
  return { scope: scopeView(scope), range: rangeView(query), points }
}
