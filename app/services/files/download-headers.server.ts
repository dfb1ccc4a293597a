import { create as contentDisposition } from 'content-disposition'

/**
 * Types a browser may render in place without running anything: raster images, audio and video.
 * Everything else (HTML, SVG, XML, JavaScript, PDF, text, unknown types) is an attachment: a local
 * bucket's bytes are served from Carcosa's own origin, where rendering active content would be an
 * XSS. PDF is left out on purpose: viewers run scripts and forms embedded in it.
 */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'audio/mpeg',
  'audio/mp4',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/flac',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
])

/** `type/subtype` with token characters only: no parameters, nothing a header could be split on. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/

export interface DownloadHeaders {
  contentType: string
  contentDisposition: string
}

/** The Content-Type and RFC 6266 Content-Disposition a download is served with, whatever the object says. */
export function downloadHeaders(file: { name: string; contentType: string }): DownloadHeaders {
  const type = file.contentType.trim().toLowerCase()
  const contentType = MEDIA_TYPE.test(type) ? type : 'application/octet-stream'
  const inline = INLINE_TYPES.has(contentType)
  return { contentType, contentDisposition: contentDisposition(file.name, { type: inline ? 'inline' : 'attachment' }) }
}

/** Raster types the dashboard makes thumbnails of (never SVG: it is active content). */
export const THUMBNAIL_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif'])
