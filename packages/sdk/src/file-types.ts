/** Named kinds of file a route accepts; any MIME type (`application/json`, `image/png`) works as well. */
export type FileKind = 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'blob'
export type MimeType = `${string}/${string}`
export type FileRouteKey = FileKind | MimeType

/** The MIME pattern each kind stands for; `blob` accepts anything. */
export const KIND_PATTERNS: Record<FileKind, string> = {
  image: 'image/*',
  video: 'video/*',
  audio: 'audio/*',
  pdf: 'application/pdf',
  text: 'text/*',
  blob: '*/*',
}

export const patternOf = (key: FileRouteKey): string => (key in KIND_PATTERNS ? KIND_PATTERNS[key as FileKind] : key.toLowerCase())

/** `image/png` against `image/*`, `*\/*` or `image/png`; parameters (`; charset=`) ignored. */
export function typeMatches(type: string, pattern: string): boolean {
  const bare = type.split(';')[0]!.trim().toLowerCase()
  if (pattern === '*/*') return true
  if (pattern.endsWith('/*')) return bare.startsWith(pattern.slice(0, -1))
  return bare === pattern
}

const EXTENSION_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
  heic: 'image/heic',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  md: 'text/markdown',
  json: 'application/json',
  zip: 'application/zip',
}

/** A type for a file that came without one (Node paths, some browsers): from its extension, else octet-stream. */
export function guessContentType(name: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase()
  return (extension && EXTENSION_TYPES[extension]) ?? 'application/octet-stream'
}
