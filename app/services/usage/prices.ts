import { z } from 'zod'

/** What a bucket costs, in US dollars: storage per GB-month, requests per million, egress per GB (GB = 2^30 bytes). */
export const bucketPricesSchema = z.object({
  storagePerGbMonth: z.number().min(0).max(1000),
  writesPerMillion: z.number().min(0).max(100_000),
  readsPerMillion: z.number().min(0).max(100_000),
  egressPerGb: z.number().min(0).max(1000),
})
export type BucketPrices = z.output<typeof bucketPricesSchema>

const typedPrice = (what: string, max: number) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} is required`)
    .transform(Number)
    .pipe(
      z
        .number({ error: `${what} must be a number` })
        .min(0, `${what} cannot be negative`)
        .max(max, `${what} is at most ${max}`),
    )

/** The bucket page's prices form: the same four prices, typed as text. */
export const bucketPricesFormSchema = z.object({
  storagePerGbMonth: typedPrice('Storage price', 1000),
  writesPerMillion: typedPrice('Write price', 100_000),
  readsPerMillion: typedPrice('Read price', 100_000),
  egressPerGb: typedPrice('Egress price', 1000),
})

/** Published list prices (USD) of the providers that have one; S3-compatible and local buckets need a team's own prices. */
export const LIST_PRICES: Partial<Record<string, BucketPrices & { name: string }>> = {
  s3: { name: 'AWS S3 Standard, us-east-1 list prices', storagePerGbMonth: 0.023, writesPerMillion: 5, readsPerMillion: 0.4, egressPerGb: 0.09 },
  r2: { name: 'Cloudflare R2 Standard list prices', storagePerGbMonth: 0.015, writesPerMillion: 4.5, readsPerMillion: 0.36, egressPerGb: 0 },
}

export const GIB = 1024 ** 3
const DAYS_PER_MONTH = 30

/** How each line is counted, stated with every estimate. */
export const COST_BASIS =
  'Estimate. Storage: daily snapshots of stored bytes in the range, as GB-months (30 days). Writes: uploads and rendered transform variants stored. Reads: downloads and transform sources read. Egress: downloaded bytes (served by the bucket). GB = 2^30 bytes; free tiers, taxes and minimums are not included.'

export interface CostInput {
  /** Sum over the range's days of the bytes stored that day. */
  storedByteDays: number
  uploads: number
  downloads: number
  downloadBytes: number
  transforms: number
}

export interface CostLines {
  storage: number
  writes: number
  reads: number
  egress: number
  total: number
}

const rounded = (value: number) => Math.round(value * 10_000) / 10_000

export function estimateCost(input: CostInput, prices: BucketPrices): CostLines {
  const storage = (input.storedByteDays / GIB / DAYS_PER_MONTH) * prices.storagePerGbMonth
  const writes = ((input.uploads + input.transforms) / 1e6) * prices.writesPerMillion
  const reads = ((input.downloads + input.transforms) / 1e6) * prices.readsPerMillion
  const egress = (input.downloadBytes / GIB) * prices.egressPerGb
  return {
    storage: rounded(storage),
    writes: rounded(writes),
    reads: rounded(reads),
    egress: rounded(egress),
    total: rounded(storage + writes + reads + egress),
  }
}

/** The prices an estimate uses for a bucket: the team's own when set, else the provider's list prices, else none. */
export function pricesFor(
  bucket: { provider: string; prices: unknown } | null,
): { source: 'custom' | 'list'; name: string; prices: BucketPrices } | null {
  if (!bucket) return null
  const custom = bucketPricesSchema.safeParse(bucket.prices)
  if (custom.success) return { source: 'custom', name: "The team's own prices for this bucket", prices: custom.data }
  const list = LIST_PRICES[bucket.provider]
  if (!list) return null
  const { name, ...prices } = list
  return { source: 'list', name, prices }
}
