import { createHash } from 'node:crypto'
import { objectLocation, sanitizeFileName, type KeyScope } from '../uploads/object-keys'
import type { AdoptionOptions } from './schemas'

/** Carcosa's own working keys (staging of presigned PUTs): never adopted. */
const INTERNAL_PREFIX = '.carcosa/'

/** Where the rule puts one object: a tenant (by slug), the project itself, or nowhere. */
export type Classification =
  | { kind: 'tenant'; slug: string; /** The key below the part that named the tenant. */ rest: string }
  | { kind: 'project'; rest: string }
  | { kind: 'skip'; reason: string }

/**
 * Classifies a key by the run's rule. `isTenant` says whether a slug names a tenant the run may use
 * (an existing one, or any valid slug when the run creates tenants); a slug that does not is
 * unmatched, like a key no rule covers.
 */
export function classifyKey(key: string, options: AdoptionOptions, isTenant: (slug: string) => boolean): Classification {
  if (key.startsWith(INTERNAL_PREFIX)) return { kind: 'skip', reason: "Carcosa's own working object" }
  if (key.endsWith('/')) return { kind: 'skip', reason: 'A folder marker, not a file' }
  const relative = key.slice(options.prefix.length)
  let matched: Classification | null = null
  if (options.rule === 'first-segment') {
    const slash = relative.indexOf('/')
    if (slash > 0) {
      const slug = relative.slice(0, slash).toLowerCase()
      if (isTenant(slug)) matched = { kind: 'tenant', slug, rest: relative.slice(slash + 1) }
    }
  } else {
    const entry = options.tenantMap.filter((candidate) => key.startsWith(candidate.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0]
    if (entry && isTenant(entry.tenant)) matched = { kind: 'tenant', slug: entry.tenant, rest: key.slice(entry.prefix.length) }
  }
  if (matched) return matched
  return options.unmatched === 'project'
    ? { kind: 'project', rest: relative }
    : { kind: 'skip', reason: 'No tenant matches it (unmatched objects are skipped)' }
}

/** The slug a first-segment rule reads from a key, whether or not such a tenant exists (for the preview's unknown slugs). */
export function slugCandidate(key: string, options: AdoptionOptions): string | null {
  if (options.rule === 'first-segment') {
    const relative = key.slice(options.prefix.length)
    const slash = relative.indexOf('/')
    return slash > 0 ? relative.slice(0, slash).toLowerCase() : null
  }
  const entry = options.tenantMap.filter((candidate) => key.startsWith(candidate.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0]
  return entry?.tenant ?? null
}

export interface AdoptedLocation {
  /** Where the file's bytes will be: the key itself in place, Carcosa's layout when copied. */
  objectKey: string
  /** The file's project-relative path (unique in the project). */
  path: string
  name: string
}

/**
 * The file an object becomes. In place, the key's own structure is kept under the tenant's slug
 * (`acme/images/logo.png`), each segment sanitised as upload names are. By copy, the key is made as
 * an upload's is, with a unique part derived from the bucket and the source key, so a copy redone
 * after a crash lands on the same key instead of leaving a second object.
 */
export function adoptedLocation(
  key: string,
  classification: Extract<Classification, { kind: 'tenant' | 'project' }>,
  mode: AdoptionOptions['mode'],
  scope: Omit<KeyScope, 'tenantSlug'> & { bucketId: string },
): AdoptedLocation {
  const tenantSlug = classification.kind === 'tenant' ? classification.slug : null
  const segments = classification.rest.split('/').filter(Boolean)
  const name = sanitizeFileName(segments.at(-1) ?? key)
  if (mode === 'copy') {
    const unique = createHash('sha256').update(`${scope.bucketId}\0${key}`).digest('hex').slice(0, 12)
    return objectLocation({ ...scope, tenantSlug }, name, unique)
  }
  const path = [tenantSlug, ...segments.map((segment) => sanitizeFileName(segment))].filter(Boolean).join('/')
  return { objectKey: key, path, name }
}
