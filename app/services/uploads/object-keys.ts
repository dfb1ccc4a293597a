import { randomBytes } from 'node:crypto'

/** Longest sanitised file name, in UTF-8 bytes (S3 keys may be 1024; slugs and the unique part need the rest). */
export const MAX_NAME_BYTES = 200
const MAX_EXTENSION_BYTES = 16
export const FALLBACK_NAME = 'file'

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8')

/**
 * A client's file name made safe to keep and to put in an object key: no directories or traversal,
 * no control characters (NUL included), no characters reserved in paths and URLs, no leading dots
 * (hidden files), single spaces, at most MAX_NAME_BYTES bytes with the extension kept; "file" when
 * nothing is left.
 */
export function sanitizeFileName(raw: string): string {
  // Directories (either separator) never survive: only the last segment is the name.
  const segments = raw.normalize('NFC').split(/[/\\]/)
  let name = segments[segments.length - 1] ?? ''
  name = name
    // Tabs and line breaks count as spaces (collapsed below); other controls go.
    .replace(/\s+/g, ' ')
    // C0 and C1 controls, DEL, and the bidirectional overrides that disguise an extension.
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    // Reserved on common file systems or meaningful in URLs and keys.
    .replace(/[<>:"|?*#%{}^~[\]`]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    // Windows drops trailing dots and spaces; keep names that mean the same everywhere.
    .replace(/[.\s]+$/, '')
  if (name === '') return FALLBACK_NAME
  return truncateKeepingExtension(name, MAX_NAME_BYTES)
}

/** Most folder levels a file's name keeps (deeper ones are dropped from the front). */
const MAX_NAME_FOLDERS = 8

/**
 * A file's name as the project lists it: the sanitised file name, after the folders the client
 * named it in (`photos/2026/a.jpg`, as a directory upload sends it), each folder cleaned like a
 * name; empty, `.` and `..` folders are dropped, and the outermost ones too when the whole is longer
 * than MAX_NAME_BYTES. Only the name keeps the folders: object keys and paths use the file name
 * alone (`objectLocation`).
 */
export function fileNameWithFolders(raw: string): string {
  const name = sanitizeFileName(raw)
  const folders = raw
    .normalize('NFC')
    .split(/[/\\]/)
    .slice(0, -1)
    .map((folder) => ({ raw: folder.trim(), clean: sanitizeFileName(folder) }))
    // A folder with nothing left after cleaning (`.`, `..`, controls only) is dropped, not renamed.
    .filter(({ raw, clean }) => clean !== FALLBACK_NAME || raw === FALLBACK_NAME)
    .map(({ clean }) => clean)
    .slice(-MAX_NAME_FOLDERS)
  while (folders.length > 0 && utf8Length([...folders, name].join('/')) > MAX_NAME_BYTES) folders.shift()
  return [...folders, name].join('/')
}

function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name
  const dot = name.lastIndexOf('.')
  const extension = dot > 0 && utf8Length(name.slice(dot)) <= MAX_EXTENSION_BYTES ? name.slice(dot) : ''
  const budget = maxBytes - utf8Length(extension)
  let stem = ''
  // By code point, so a multi-byte character is never cut in half.
  for (const char of name.slice(0, name.length - extension.length)) {
    if (utf8Length(stem + char) > budget) break
    stem += char
  }
  stem = stem.trimEnd().replace(/[.\s]+$/, '')
  return (stem || FALLBACK_NAME) + extension
}

/** A short random component that makes every key and path unique (48 bits, hex). */
export const uniqueComponent = () => randomBytes(6).toString('hex')

export interface KeyScope {
  organizationSlug: string
  teamSlug: string
  projectSlug: string
  tenantSlug?: string | null
}

export interface ObjectLocation {
  /** Where the bytes live in the bucket: `{org}/{team}/{project}/{tenant?}/{unique}-{name}`. */
  objectKey: string
  /** What the project calls the file (transform URLs name it): `{tenant?}/{unique}-{name}`. */
  path: string
  /** The sanitised client file name with its folders (`fileNameWithFolders`), kept as the file's `name`. */
  name: string
}

/** The server-made key, path and name of a new object; nothing the client sent reaches the key raw. */
export function objectLocation(scope: KeyScope, clientFileName: string, unique = uniqueComponent()): ObjectLocation {
  const path = [scope.tenantSlug, `${unique}-${sanitizeFileName(clientFileName)}`].filter(Boolean).join('/')
  const objectKey = [scope.organizationSlug, scope.teamSlug, scope.projectSlug, path].join('/')
  return { objectKey, path, name: fileNameWithFolders(clientFileName) }
}

const STAGING_PREFIX = '.carcosa/staging/'

/**
 * Where a presigned PUT writes: a staging key the completion step copies to `objectKey` once verified
 * (ADR 014). The PUT URL stays valid until it expires, but it can then only rewrite the staging
 * copy, never the verified object.
 */
export const stagingKeyOf = (objectKey: string) => `${STAGING_PREFIX}${objectKey}`

/** The object key a staging key stands for, or null for any other key. */
export const objectKeyOfStaging = (key: string) => (key.startsWith(STAGING_PREFIX) ? key.slice(STAGING_PREFIX.length) : null)
