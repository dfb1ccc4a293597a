import { z } from 'zod'
import { formatBytes } from '~/utils/sizes'

/**
 * The five limits a plan sets and a tenant may override (ADR 025). Null is unlimited. Byte limits
 * are whole bytes; the hourly ones count per clock hour (UTC).
 */
export const LIMIT_NAMES = ['storedBytes', 'fileCount', 'fileSize', 'uploadsPerHour', 'transformsPerHour'] as const
export type LimitName = (typeof LIMIT_NAMES)[number]
export type Limits = Record<LimitName, number | null>

export const NO_LIMITS: Limits = { storedBytes: null, fileCount: null, fileSize: null, uploadsPerHour: null, transformsPerHour: null }

/** The column of Plan and Tenant (its override) that holds each limit. */
export const LIMIT_COLUMNS = {
  storedBytes: 'maxStoredBytes',
  fileCount: 'maxFiles',
  fileSize: 'maxFileBytes',
  uploadsPerHour: 'maxUploadsPerHour',
  transformsPerHour: 'maxTransformsPerHour',
} as const satisfies Record<LimitName, string>

export const LIMIT_LABELS: Record<LimitName, string> = {
  storedBytes: 'Stored bytes',
  fileCount: 'Files',
  fileSize: 'Largest file',
  uploadsPerHour: 'Uploads per hour',
  transformsPerHour: 'Transforms per hour',
}

/** Limits measured in bytes (shown with units). */
export const BYTE_LIMITS: readonly LimitName[] = ['storedBytes', 'fileSize']

interface LimitColumns {
  maxStoredBytes: bigint | null
  maxFiles: number | null
  maxFileBytes: bigint | null
  maxUploadsPerHour: number | null
  maxTransformsPerHour: number | null
}

const toNumber = (value: bigint | number | null | undefined) => (value === null || value === undefined ? null : Number(value))

/** Limits from a row's columns (a plan's, a tenant's overrides, or an already-combined row). */
export function limitsOfRow(row: { [K in keyof LimitColumns]?: bigint | number | null }): Limits {
  return {
    storedBytes: toNumber(row.maxStoredBytes),
    fileCount: toNumber(row.maxFiles),
    fileSize: toNumber(row.maxFileBytes),
    uploadsPerHour: toNumber(row.maxUploadsPerHour),
    transformsPerHour: toNumber(row.maxTransformsPerHour),
  }
}

/** A tenant's limits: each override where it has one, else its plan's. */
export function effectiveLimits(plan: Limits | null, overrides: Limits): Limits {
  const result = { ...NO_LIMITS }
  for (const name of LIMIT_NAMES) result[name] = overrides[name] ?? plan?.[name] ?? null
  return result
}

/** Row columns for a write: `undefined` leaves a limit as it is, null clears it. */
export function limitColumns(limits: Partial<Limits>): Partial<LimitColumns> {
  const bytes = (value: number | null | undefined) => (value === undefined ? undefined : value === null ? null : BigInt(value))
  const data: Partial<LimitColumns> = {
    maxStoredBytes: bytes(limits.storedBytes),
    maxFiles: limits.fileCount,
    maxFileBytes: bytes(limits.fileSize),
    maxUploadsPerHour: limits.uploadsPerHour,
    maxTransformsPerHour: limits.transformsPerHour,
  }
  for (const key of Object.keys(data) as Array<keyof LimitColumns>) if (data[key] === undefined) delete data[key]
  return data
}

/**
 * SQL select list of a tenant's effective limits, for a statement that joins the tenant as `tn` and
 * its plan as `pl`.
 */
export const EFFECTIVE_LIMIT_COLUMNS = Object.values(LIMIT_COLUMNS)
  .map((column) => `COALESCE(tn."${column}", pl."${column}") AS "${column}"`)
  .join(', ')

const limitValue = z
  .number({ error: 'A limit is a whole number, or null for no limit' })
  .int('A limit is a whole number')
  .min(0, 'A limit cannot be negative')
  .max(Number.MAX_SAFE_INTEGER, 'That limit is too large')
  .nullable()

/** Limits in API bodies: a field left out is kept, null removes the limit. */
export const limitsSchema = z
  .object({
    storedBytes: limitValue.optional().describe('Bytes the tenant may store'),
    fileCount: limitValue.optional().describe('Files the tenant may have'),
    fileSize: limitValue.optional().describe('Bytes of the largest file'),
    uploadsPerHour: limitValue.optional().describe('Upload starts per clock hour (UTC)'),
    transformsPerHour: limitValue.optional().describe('Transform requests per clock hour (UTC)'),
  })
  .strict()

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}

/**
 * A limit typed in a form: empty for none, a whole number, or for byte limits a size such as
 * `500 MB` or `2 GiB`.
 */
export const limitTextSchema = (name: LimitName) =>
  z
    .string()
    .max(40)
    .optional()
    .transform((text, context) => {
      const trimmed = text?.trim().toLowerCase() ?? ''
      if (!trimmed) return null
      const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(trimmed)
      const unit = match ? UNITS[match[2]!] : undefined
      const bytes = BYTE_LIMITS.includes(name)
      if (!match || unit === undefined || (!bytes && match[2])) {
        context.addIssue({
          code: 'custom',
          message: bytes ? 'Enter a size such as 500 MB or 2 GiB, or leave it empty' : 'Enter a whole number, or leave it empty',
        })
        return z.NEVER
      }
      const value = Math.round(Number(match[1]) * unit)
      if (!Number.isSafeInteger(value)) {
        context.addIssue({ code: 'custom', message: 'That limit is too large' })
        return z.NEVER
      }
      return value
    })

/** The five limit fields of a dashboard form. */
export const limitFormFields = {
  storedBytes: limitTextSchema('storedBytes'),
  fileCount: limitTextSchema('fileCount'),
  fileSize: limitTextSchema('fileSize'),
  uploadsPerHour: limitTextSchema('uploadsPerHour'),
  transformsPerHour: limitTextSchema('transformsPerHour'),
}

/** A limit's value as shown (a size for byte limits), or `none`. */
export function formatLimit(name: LimitName, value: number | null): string {
  if (value === null) return 'no limit'
  return BYTE_LIMITS.includes(name) ? formatBytes(value) : value.toLocaleString('en-US')
}
