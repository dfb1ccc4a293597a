/** Units of a file size, in powers of 1024 (`KB` = `KiB` = 1024 bytes, as upload limits are usually meant). */
export type SizeUnit = 'B' | 'KB' | 'MB' | 'GB' | 'TB' | 'KiB' | 'MiB' | 'GiB' | 'TiB'

/** `'4MB'`, `'512KB'`, `'1.5GB'`, or a number of bytes. */
export type FileSize = `${number}${SizeUnit}` | number

const MULTIPLIER: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

/** Bytes of a size such as `'4MB'` or `'1.5GB'`; throws on anything else. */
export function parseFileSize(size: FileSize): number {
  if (typeof size === 'number') {
    if (!Number.isFinite(size) || size < 0) throw new TypeError(`A file size must be a non-negative number of bytes, not ${size}`)
    return Math.floor(size)
  }
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*$/i.exec(size)
  const multiplier = match ? MULTIPLIER[match[2]!.toLowerCase()] : undefined
  if (!match || multiplier === undefined) {
    throw new TypeError(`"${size}" is not a file size: write a number and a unit, such as 512KB, 4MB or 1.5GB`)
  }
  return Math.floor(Number(match[1]) * multiplier)
}

/** A size for messages: `4 MiB`, `1.5 GiB`. */
export function formatFileSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${Number.isInteger(value) ? value : Number(value.toFixed(2))} ${units[unit]}`
}
