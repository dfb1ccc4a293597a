import { CarcosaError } from '../errors.js'
import { guessContentType, patternOf, typeMatches, type FileRouteKey } from '../file-types.js'
import { formatFileSize, parseFileSize } from '../size.js'
import type { RouteConfigEntry } from '../types.js'
import type { FileRouteConfig, FileRouteLimits, UploadFileInfo } from './types.js'

const KB = 1024
const MB = 1024 * KB

/** Sizes a kind allows when the route does not say. */
const DEFAULT_MAX_SIZE: Record<string, number> = { image: 4 * MB, video: 16 * MB, audio: 8 * MB, pdf: 4 * MB, text: 64 * KB, blob: 8 * MB }

export interface ResolvedLimit {
  key: string
  pattern: string
  maxFileSize: number
  maxFileCount: number
  minFileCount: number
}

export function resolveLimits(config: FileRouteConfig<never>): ResolvedLimit[] {
  return Object.entries(config)
    .filter(([key]) => key !== 'tenant')
    .map(([key, value]) => {
      const limits = (value ?? {}) as FileRouteLimits
      const maxFileCount = limits.maxFileCount ?? 1
      const minFileCount = limits.minFileCount ?? 1
      if (!Number.isInteger(maxFileCount) || maxFileCount < 1) throw new TypeError(`${key}: maxFileCount must be a whole number of at least 1`)
      if (!Number.isInteger(minFileCount) || minFileCount < 0 || minFileCount > maxFileCount) {
        throw new TypeError(`${key}: minFileCount must be a whole number between 0 and maxFileCount`)
      }
      return {
        key,
        pattern: patternOf(key as FileRouteKey),
        maxFileSize: limits.maxFileSize === undefined ? (DEFAULT_MAX_SIZE[key] ?? 8 * MB) : parseFileSize(limits.maxFileSize),
        maxFileCount,
        minFileCount,
      }
    })
}

export function routeConfigEntry(slug: string, limits: ResolvedLimit[]): RouteConfigEntry {
  return {
    slug,
    config: Object.fromEntries(
      limits.map((l) => [l.key, { maxFileSize: l.maxFileSize, maxFileCount: l.maxFileCount, minFileCount: l.minFileCount }]),
    ),
  }
}

/**
 * Checks announced files against a route: each file's type must fall under one of its kinds (the
 * most specific one wins), within that kind's size, and each kind's count within its bounds.
 * Returns the limit each file falls under.
 */
export function checkFiles(files: UploadFileInfo[], limits: ResolvedLimit[]): ResolvedLimit[] {
  // Exact types before families before "anything".
  const ordered = [...limits].sort((a, b) => rank(a.pattern) - rank(b.pattern))
  const matched = files.map((file) => {
    const limit = ordered.find((l) => typeMatches(file.type, l.pattern))
    if (!limit) {
      throw new CarcosaError({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `${file.name} is ${file.type || 'of no type'}; this route accepts ${limits.map((l) => l.key).join(', ')}`,
      })
    }
    if (file.size > limit.maxFileSize) {
      throw new CarcosaError({
        code: 'TOO_LARGE',
        message: `${file.name} is ${formatFileSize(file.size)}; this route accepts ${limit.key} files up to ${formatFileSize(limit.maxFileSize)}`,
      })
    }
    return limit
  })
  for (const limit of limits) {
    const count = matched.filter((l) => l === limit).length
    if (count > limit.maxFileCount) {
      throw new CarcosaError({
        code: 'BAD_REQUEST',
        message: `This route accepts at most ${limit.maxFileCount} ${limit.key} file${limit.maxFileCount === 1 ? '' : 's'} per upload; ${count} were given`,
      })
    }
    if (count > 0 && count < limit.minFileCount) {
      throw new CarcosaError({
        code: 'BAD_REQUEST',
        message: `This route needs at least ${limit.minFileCount} ${limit.key} files per upload; ${count} were given`,
      })
    }
  }
  return matched
}

const rank = (pattern: string) => (pattern === '*/*' ? 2 : pattern.endsWith('/*') ? 1 : 0)

/** A route's limits as its `GET` entry carries them (what a browser knows before uploading). */
function limitsOfEntry(entry: RouteConfigEntry): ResolvedLimit[] {
  return Object.entries(entry.config).map(([key, limit]) => ({ key, pattern: patternOf(key as FileRouteKey), ...limit }))
}

/**
 * The handler's own checks, run before any byte moves: throws the CarcosaError the handler would
 * answer (415 for a type the route does not take, 413 for a file too large, 400 for a count out of
 * bounds). Files without a type are judged by their extension, as the uploader sends them.
 */
export function checkRouteFiles(files: ReadonlyArray<{ name: string; size: number; type?: string }>, entry: RouteConfigEntry): void {
  checkFiles(
    files.map((file) => ({ name: file.name, size: file.size, type: file.type || guessContentType(file.name) })),
    limitsOfEntry(entry),
  )
}

/** MIME patterns for a file input's `accept` attribute (`image/*`, `application/pdf`); empty when the route takes anything. */
export function routeAccepts(entry: RouteConfigEntry): string[] {
  const patterns = limitsOfEntry(entry).map((limit) => limit.pattern)
  return patterns.includes('*/*') ? [] : patterns
}
