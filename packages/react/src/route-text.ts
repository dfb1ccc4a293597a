import type { RouteConfigEntry } from '@carcosa/sdk/client'

/** Bytes in words for people: `2 MB`, `512 KB`, `1.5 GB` (powers of 1024, as the limits are). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const rounded = Number.isInteger(value) ? value : Number(value.toFixed(1))
  return `${rounded} ${units[unit]}`
}

const KIND_NAMES: Record<string, [string, string]> = {
  image: ['image', 'images'],
  video: ['video', 'videos'],
  audio: ['audio file', 'audio files'],
  pdf: ['PDF', 'PDFs'],
  text: ['text file', 'text files'],
  blob: ['file', 'files'],
}

const kindName = (key: string, count: number) => {
  const names = KIND_NAMES[key]
  if (names) return count === 1 ? names[0] : names[1]
  return count === 1 ? `${key} file` : `${key} files`
}

/**
 * What a route allows, in a sentence for the component's description: `Images up to 2 MB` or
 * `Up to 5 PDFs, 4 MB each; one text file up to 64 KB`.
 */
export function describeRoute(entry: RouteConfigEntry): string {
  const parts = Object.entries(entry.config).map(([key, limit]) => {
    const size = formatBytes(limit.maxFileSize)
    if (limit.maxFileCount === 1) return `one ${kindName(key, 1)} up to ${size}`
    const least = limit.minFileCount > 1 ? ` (at least ${limit.minFileCount})` : ''
    return `up to ${limit.maxFileCount} ${kindName(key, 2)}${least}, ${size} each`
  })
  const sentence = parts.join('; ')
  return sentence.charAt(0).toUpperCase() + sentence.slice(1)
}

/** Files the route takes in one upload (the input's `multiple` when more than one). */
export const maxFilesOf = (entry: RouteConfigEntry) => Object.values(entry.config).reduce((sum, limit) => sum + limit.maxFileCount, 0)
