import type { RequestedFormat } from './params'

export type OutputFormat = 'webp' | 'avif' | 'jpeg' | 'png'

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  webp: 'image/webp',
  avif: 'image/avif',
  jpeg: 'image/jpeg',
  png: 'image/png',
}

/** The media types of `Accept` with a non-zero quality (`image/avif;q=0` refuses AVIF). */
function acceptedTypes(accept: string | null): Set<string> {
  const accepted = new Set<string>()
  for (const part of (accept ?? '').split(',')) {
    const [type, ...parameters] = part.trim().toLowerCase().split(';')
    if (!type) continue
    const q = parameters.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue
    accepted.add(type.trim())
  }
  return accepted
}

/** What a source becomes when the client's Accept allows neither AVIF nor WebP. */
export function fallbackFormat(sourceContentType: string): OutputFormat {
  return sourceContentType === 'image/jpeg' ? 'jpeg' : 'png'
}

/**
 * The output format: the one asked for, or for `auto` (and no format) the best the client accepts,
 * AVIF, then WebP (named explicitly: `*\/*` is no promise), then the source's own format (JPEG stays
 * JPEG; PNG, GIF, and WebP or AVIF sent to a client that did not accept them, become PNG). `negotiated` says the answer depends on Accept (Vary: Accept).
 */
export function chooseFormat(
  requested: RequestedFormat | undefined,
  accept: string | null,
  sourceContentType: string,
): { format: OutputFormat; negotiated: boolean } {
  if (requested && requested !== 'auto') return { format: requested, negotiated: false }
  const accepted = acceptedTypes(accept)
  if (accepted.has('image/avif')) return { format: 'avif', negotiated: true }
  if (accepted.has('image/webp')) return { format: 'webp', negotiated: true }
  return { format: fallbackFormat(sourceContentType), negotiated: true }
}
