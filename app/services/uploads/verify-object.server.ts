import { buffer } from 'node:stream/consumers'
import { fileTypeFromBuffer } from 'file-type'
import type { StorageAdapter } from '~/storage/storage-adapter'

/** Enough of a file's start for every signature file-type knows and for spotting markup. */
export const SNIFF_BYTES = 4096

/** Names one format goes by; a declared alias of what the bytes are is no mismatch. */
const ALIASES: string[][] = [
  ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  ['image/png', 'image/x-png', 'image/apng'],
  ['image/x-icon', 'image/vnd.microsoft.icon', 'image/ico'],
  ['image/bmp', 'image/x-bmp', 'image/x-ms-bmp'],
  ['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence'],
  ['application/zip', 'application/x-zip-compressed', 'application/x-zip'],
  ['application/gzip', 'application/x-gzip'],
  ['application/x-rar-compressed', 'application/vnd.rar', 'application/x-rar'],
  ['application/x-7z-compressed'],
  ['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg'],
  ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'],
  ['audio/flac', 'audio/x-flac'],
  // MP4, Ogg and WebM containers hold audio or video: file-type cannot always tell which.
  ['video/mp4', 'audio/mp4', 'audio/x-m4a', 'audio/m4a', 'video/x-m4v', 'audio/aac'],
  ['video/quicktime', 'video/mp4'],
  ['audio/ogg', 'video/ogg', 'application/ogg', 'audio/opus'],
  ['video/webm', 'audio/webm'],
  ['video/x-matroska', 'video/webm', 'audio/x-matroska'],
  ['video/x-msvideo', 'video/avi', 'video/msvideo'],
]

const sameFormat = (a: string, b: string) => a === b || ALIASES.some((group) => group.includes(a) && group.includes(b))

/** Text formats: file-type recognises no signature in them, and their bytes are legitimately markup. */
const TEXTUAL =
  /^(?:text\/|application\/(?:json|xml|javascript|ecmascript|x-javascript|ld\+json|xhtml\+xml|rss\+xml|atom\+xml|x-ndjson|yaml|x-yaml|toml|sql|x-sh|csv)$|image\/svg\+xml$)|\+(?:xml|json)$/

/** Types whose bytes we can recognise: a declaration of one of these must be borne out by the bytes. */
function isSniffable(contentType: string): boolean {
  if (contentType === 'image/svg+xml') return false
  if (/^(?:image|audio|video)\//.test(contentType)) return true
  return [
    'application/pdf',
    'application/zip',
    'application/x-zip-compressed',
    'application/gzip',
    'application/x-gzip',
    'application/x-tar',
    'application/x-7z-compressed',
    'application/x-rar-compressed',
    'application/vnd.rar',
    'application/x-bzip2',
    'application/x-xz',
    'application/zstd',
    'application/wasm',
  ].includes(contentType)
}

/** Markup a browser could run: HTML, SVG, XML (which may carry script) or a script tag. */
function looksLikeMarkup(head: Buffer): string | null {
  const text = head
    .toString('latin1')
    .replace(/^(?:\xef\xbb\xbf|\xfe\xff|\xff\xfe)/, '')
    .replace(/\0/g, '')
    .trimStart()
    .slice(0, 512)
    .toLowerCase()
  if (/^<!doctype html|^<html|^<head|^<body|^<iframe|^<meta|^<title|^<a\s|^<div|^<img|^<!--/.test(text)) return 'HTML'
  if (/^<script/.test(text)) return 'a script'
  if (/^<svg|^<\?xml[^>]*>\s*(?:<!--[\s\S]*?-->\s*)*(?:<!doctype svg|<svg)/.test(text)) return 'SVG'
  if (/^<\?xml/.test(text)) return 'XML'
  return null
}

export type Verification = { ok: true; etag: string | null } | { ok: false; reason: string }

/**
 * Checks a stored object against what the client declared: it exists, has exactly the declared size,
 * and its first bytes are what the content type says when we can tell (a known format other than
 * the declared one, no recognisable signature for a sniffable type, or markup where an image or
 * other binary was declared all fail).
 */
export async function verifyObject(
  adapter: StorageAdapter,
  key: string,
  declared: { size: number; contentType: string },
): Promise<Verification> {
  const info = await adapter.head(key)
  if (!info) return { ok: false, reason: 'No object was uploaded: the bucket has nothing under this upload.' }
  if (info.size !== declared.size) {
    return { ok: false, reason: `The uploaded object is ${info.size} bytes, but ${declared.size} bytes were declared.` }
  }
  if (declared.size === 0) return { ok: true, etag: info.etag ?? null }
  const head = await readStart(adapter, key, declared.size)
  if (!head) return { ok: false, reason: 'The uploaded object disappeared before it could be checked.' }
  const reason = await typeMismatch(head, declared.contentType)
  return reason ? { ok: false, reason } : { ok: true, etag: info.etag ?? null }
}

/** The first bytes of an object of `size` bytes (at most SNIFF_BYTES), or null when it is gone. */
export async function readStart(adapter: StorageAdapter, key: string, size: number): Promise<Buffer | null> {
  if (size === 0) return Buffer.alloc(0)
  const ranged = await adapter.get(key, { range: { start: 0, end: Math.min(SNIFF_BYTES, size) - 1 } })
  if (!ranged) return null
  // A ranged read is at most SNIFF_BYTES, whatever the bucket sends; cut it there all the same.
  return (await buffer(ranged.body)).subarray(0, SNIFF_BYTES)
}

/** The media type the first bytes show, when file-type knows their signature. */
export async function sniffType(head: Buffer): Promise<string | null> {
  return (await fileTypeFromBuffer(head))?.mime ?? null
}

/** Why the first bytes contradict the declared type, or null. */
export async function typeMismatch(head: Buffer, contentType: string): Promise<string | null> {
  const detected = await fileTypeFromBuffer(head)
  if (contentType === 'application/octet-stream') return null // "some bytes": nothing was claimed
  if (detected) {
    if (sameFormat(detected.mime, contentType)) return null
    // XML-based formats (SVG, XHTML, feeds) are detected as plain XML.
    if (detected.mime === 'application/xml' && TEXTUAL.test(contentType)) return null
    return `The bytes are ${detected.mime} (.${detected.ext}), not ${contentType} as declared.`
  }
  const markup = looksLikeMarkup(head)
  if (markup && !TEXTUAL.test(contentType)) return `The bytes are ${markup}, not ${contentType} as declared.`
  if (isSniffable(contentType)) return `The bytes are not ${contentType}: no ${contentType} signature was found at the start of the file.`
  return null
}
