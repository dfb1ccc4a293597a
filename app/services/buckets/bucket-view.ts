import { pricesFor, type BucketPrices } from '../usage/prices'
import type { BucketAccessLevel } from './bucket-access.server'

/** The Bucket columns an answer is made from: never `credentials`. */
export const bucketFields = {
  id: true,
  teamId: true,
  name: true,
  provider: true,
  bucketName: true,
  region: true,
  endpoint: true,
  forcePathStyle: true,
  accessKeyHint: true,
  lastTestedAt: true,
  lastTestOk: true,
  lastTestReason: true,
  prices: true,
  createdAt: true,
  updatedAt: true,
} as const

interface BucketRow {
  id: string
  teamId: string
  name: string
  provider: string
  bucketName: string
  region: string
  endpoint: string | null
  forcePathStyle: boolean
  accessKeyHint: string | null
  lastTestedAt: Date | null
  lastTestOk: boolean | null
  lastTestReason: string | null
  prices: unknown
  createdAt: Date
  updatedAt: Date
}

/** The one JSON shape of a bucket: credentials never, the access key id only masked. */
export interface BucketView extends Omit<BucketRow, 'accessKeyHint' | 'lastTestedAt' | 'lastTestOk' | 'lastTestReason' | 'prices'> {
  /** The prices usage cost estimates use for this bucket: the team's own, the provider's list prices, or none known. */
  prices: ({ source: 'custom' | 'list'; name: string } & BucketPrices) | null
  /** "••••WXYZ": the last four characters of the access key id. */
  accessKeyId: string | null
  hasCredentials: boolean
  lastTest: { at: Date; ok: boolean; reason: string | null } | null
  /** The level of the team the answer is about (its own bucket: OWNER). */
  access: BucketAccessLevel
}

export function toBucketView(row: BucketRow, access: BucketAccessLevel): BucketView {
  const { accessKeyHint, lastTestedAt, lastTestOk, lastTestReason } = row
  return {
    id: row.id,
    teamId: row.teamId,
    name: row.name,
    provider: row.provider,
    bucketName: row.bucketName,
    region: row.region,
    endpoint: row.endpoint,
    forcePathStyle: row.forcePathStyle,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    accessKeyId: accessKeyHint ? `••••${accessKeyHint}` : null,
    hasCredentials: accessKeyHint !== null,
    lastTest: lastTestedAt ? { at: lastTestedAt, ok: lastTestOk ?? false, reason: lastTestReason } : null,
    prices: pricedView(row),
    access,
  }
}

function pricedView(row: Pick<BucketRow, 'provider' | 'prices'>): BucketView['prices'] {
  const priced = pricesFor(row)
  return priced ? { source: priced.source, name: priced.name, ...priced.prices } : null
}
