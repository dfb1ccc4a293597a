/** The counters metered per project, tenant and hour; columns of UsageHourly and UsageDaily, in this order. */
export const METRICS = [
  'uploads',
  'uploadBytes',
  'downloads',
  'downloadBytes',
  'transforms',
  'transformCacheHits',
  'transformBytes',
  'transformMs',
  'apiRequests',
  'rateLimited',
] as const

export type Metric = (typeof METRICS)[number]

export type MetricTotals = Record<Metric, number>

export const METRIC_LABELS: Record<Metric, string> = {
  uploads: 'Uploads',
  uploadBytes: 'Uploaded bytes',
  downloads: 'Downloads',
  downloadBytes: 'Downloaded bytes',
  transforms: 'Transform renders',
  transformCacheHits: 'Transform cache hits',
  transformBytes: 'Transform output bytes',
  transformMs: 'Render time (ms)',
  apiRequests: 'API requests',
  rateLimited: 'Rate-limit refusals',
}

export const BYTE_METRICS: ReadonlySet<Metric> = new Set(['uploadBytes', 'downloadBytes', 'transformBytes'])

export const zeroTotals = (): MetricTotals => Object.fromEntries(METRICS.map((metric) => [metric, 0])) as MetricTotals

/** Status classes of metered API calls. */
export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const
export type StatusClass = (typeof STATUS_CLASSES)[number]

export const statusClassOf = (status: number): StatusClass => (status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx')

/** tenantKey of activity without a tenant, and of a project's total over all tenants. */
export const NO_TENANT = ''
export const ALL_TENANTS = '*'
