/**
 * The query of a transform URL: every parameter parsed strictly (one spelling per value, so a
 * tampered URL cannot mean the same thing in another way), and written back in one canonical form
 * that signatures and cache keys are computed over.
 */

export const FITS = ['cover', 'contain', 'fill', 'inside', 'outside'] as const
export const FORMATS = ['webp', 'avif', 'jpeg', 'png', 'auto'] as const
export const POSITIONS = [
  'center',
  'top',
  'right',
  'bottom',
  'left',
  'top-left',
  'top-right',
  'bottom-left',
  'bottom-right',
  'entropy',
  'attention',
] as const
export const ROTATIONS = [0, 90, 180, 270] as const
export const MAX_DIMENSION = 4096

export type Fit = (typeof FITS)[number]
export type RequestedFormat = (typeof FORMATS)[number]
export type Position = (typeof POSITIONS)[number]

/** What a transform does, before the output format is negotiated. Absent fields keep the source's. */
export interface TransformParams {
  w?: number
  h?: number
  fit?: Fit
  format?: RequestedFormat
  quality?: number
  dpr?: number
  position?: Position
  blur?: number
  sharpen?: number
  rotate?: number
  flip?: boolean
  flop?: boolean
  /** `rrggbb` or `rrggbbaa`, lower case. */
  background?: string
  preset?: string
}

/** Query parameters that carry the signature and its expiry rather than an operation. */
export const SIGNATURE_PARAM = 'sig'
export const EXPIRY_PARAM = 'exp'

export const PRESET_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/

type Field = keyof TransformParams
type Parser = (raw: string) => { value: TransformParams[Field] } | { error: string }

const integer =
  (min: number, max: number): Parser =>
  (raw) => {
    if (!/^(0|[1-9]\d{0,5})$/.test(raw)) return { error: `must be a whole number from ${min} to ${max}, written without signs or leading zeros` }
    const value = Number(raw)
    return value < min || value > max ? { error: `must be from ${min} to ${max}` } : { value }
  }

/** Decimals with at most two places and no trailing zeros: `1.5`, not `1.50`. */
const decimal =
  (min: number, max: number): Parser =>
  (raw) => {
    if (!/^(0|[1-9]\d{0,3})(\.\d{0,1}[1-9])?$/.test(raw))
      return { error: `must be a number from ${min} to ${max} with at most two decimals, e.g. 1.5` }
    const value = Number(raw)
    return value < min || value > max ? { error: `must be from ${min} to ${max}` } : { value }
  }

const oneOf =
  <T extends string>(values: readonly T[]): Parser =>
  (raw) =>
    (values as readonly string[]).includes(raw) ? { value: raw } : { error: `must be one of ${values.join(', ')}` }

const flag: Parser = (raw) =>
  raw === 'true' || raw === '1' ? { value: true } : raw === 'false' || raw === '0' ? { value: false } : { error: 'must be true or false' }

const PARSERS: Record<Field, Parser> = {
  w: integer(1, MAX_DIMENSION),
  h: integer(1, MAX_DIMENSION),
  fit: oneOf(FITS),
  format: oneOf(FORMATS),
  quality: integer(1, 100),
  dpr: decimal(1, 4),
  position: oneOf(POSITIONS),
  blur: decimal(0.3, 100),
  sharpen: decimal(0.5, 10),
  rotate: (raw) => {
    const parsed = integer(0, 270)(raw)
    if ('error' in parsed || !(ROTATIONS as readonly number[]).includes(parsed.value as number)) return { error: 'must be 0, 90, 180 or 270' }
    return parsed
  },
  flip: flag,
  flop: flag,
  background: (raw) => {
    const hex = raw.replace(/^#/, '').toLowerCase()
    if (!/^([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/.test(hex)) {
      return { error: 'must be a hex colour: rgb, rgba, rrggbb or rrggbbaa, with or without #' }
    }
    // Short forms are written out, so `fff` and `ffffff` sign and cache as one value.
    return { value: hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex }
  },
  preset: (raw) => (PRESET_NAME_PATTERN.test(raw) ? { value: raw } : { error: 'must be a preset name: lower-case letters, digits, - and _' }),
}

/** Parameter names as users of image CDNs also write them; each maps to one canonical name. */
const ALIASES: Record<string, Field> = { width: 'w', height: 'h', q: 'quality', gravity: 'position', fm: 'format' }

export const PARAM_NAMES = Object.keys(PARSERS) as Field[]

export class TransformParamsError extends Error {
  constructor(readonly errors: Record<string, string[]>) {
    super(
      `Invalid transform parameters: ${Object.entries(errors)
        .map(([name, messages]) => `${name} ${messages.join('; ')}`)
        .join('. ')}.`,
    )
    this.name = 'TransformParamsError'
  }
}

export interface ParsedTransformQuery {
  params: TransformParams
  /** The signature exactly as sent, when the URL carries one. */
  signature?: string
  /** Expiry in Unix seconds, when the URL carries one. */
  expires?: number
}

/**
 * Parses a transform URL's query. Unknown names, repeats (an alias and its name count as one),
 * malformed and out-of-range values are refused together, each named with the reason. The signature
 * must come once and last: a signature anywhere else in the query is refused rather than ignored.
 */
export function parseTransformQuery(search: URLSearchParams): ParsedTransformQuery {
  const errors: Record<string, string[]> = {}
  const fail = (name: string, message: string) => (errors[name] ??= []).push(message)
  const params: TransformParams = {}
  const seen = new Set<string>()
  const entries = [...search.entries()]
  let signature: string | undefined
  let expires: number | undefined
  entries.forEach(([rawName, raw], index) => {
    const name = ALIASES[rawName] ?? rawName
    if (seen.has(name)) return fail(rawName, 'is given more than once')
    seen.add(name)
    if (name === SIGNATURE_PARAM) {
      if (index !== entries.length - 1) return fail(SIGNATURE_PARAM, 'must be the last parameter of the URL')
      if (!/^[A-Za-z0-9_-]{43}$/.test(raw)) return fail(SIGNATURE_PARAM, 'is not a signature (43 base64url characters)')
      signature = raw
      return
    }
    if (name === EXPIRY_PARAM) {
      if (!/^[1-9]\d{0,11}$/.test(raw)) return fail(EXPIRY_PARAM, 'must be a Unix time in seconds')
      expires = Number(raw)
      return
    }
    const parser = PARSERS[name as Field]
    if (!parser) return fail(rawName, `is not a transform parameter; known ones: ${PARAM_NAMES.join(', ')}`)
    const parsed = parser(raw)
    if ('error' in parsed) return fail(rawName, parsed.error)
    ;(params as Record<string, unknown>)[name] = parsed.value
  })
  if (expires !== undefined && signature === undefined) fail(EXPIRY_PARAM, `is only meaningful with a signature (${SIGNATURE_PARAM})`)
  if (signature !== undefined && expires === undefined) fail(EXPIRY_PARAM, 'is required in a signed URL')
  checkCombination(params, fail)
  if (Object.keys(errors).length > 0) throw new TransformParamsError(errors)
  return { params, signature, expires }
}

/** Rules across parameters (a preset merged with a URL's own too); throws TransformParamsError. */
export function assertCombination(params: TransformParams) {
  const errors: Record<string, string[]> = {}
  checkCombination(params, (name, message) => (errors[name] ??= []).push(message))
  if (Object.keys(errors).length > 0) throw new TransformParamsError(errors)
}

/** The output stays within MAX_DIMENSION; fit and position need a size to act on. */
function checkCombination(params: TransformParams, fail: (name: string, message: string) => void) {
  const dpr = params.dpr ?? 1
  for (const side of ['w', 'h'] as const) {
    const value = params[side]
    if (value !== undefined && Math.round(value * dpr) > MAX_DIMENSION)
      fail(side, `times dpr must be at most ${MAX_DIMENSION} (${value} × ${dpr})`)
  }
  if (params.fit && params.w === undefined && params.h === undefined) fail('fit', 'needs w, h or both')
  if (params.position && params.w === undefined && params.h === undefined) fail('position', 'needs w, h or both')
}

/**
 * Parameters from a plain object (a preset's stored parameters, the sign API's body): values may
 * be strings, numbers or booleans and go through the same parsers as a URL's query.
 */
export function paramsFromObject(input: Record<string, unknown>, options: { allowPreset: boolean }): TransformParams {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue
    if (name === SIGNATURE_PARAM || name === EXPIRY_PARAM || (!options.allowPreset && (ALIASES[name] ?? name) === 'preset')) {
      throw new TransformParamsError({ [name]: ['cannot be set here'] })
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new TransformParamsError({ [name]: ['must be a string, number or boolean'] })
    }
    search.append(name, String(value))
  }
  return parseTransformQuery(search).params
}

const formatValue = (value: unknown) => String(value)

/**
 * The canonical query: known parameters only, sorted by name, `false` flags left out, values in
 * their one accepted spelling, percent-encoded. Two requests meaning the same transform give the
 * same text. `expires` is included when given (signed URLs).
 */
export function canonicalQuery(params: TransformParams, expires?: number): string {
  const pairs: [string, string][] = []
  for (const name of [...PARAM_NAMES].sort()) {
    const value = params[name]
    if (value === undefined || value === false) continue
    pairs.push([name, formatValue(value)])
  }
  if (expires !== undefined) pairs.push([EXPIRY_PARAM, String(expires)])
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&')
}

/** The parameters that change pixels, for cache keys: a preset's name is replaced by what it holds. */
export function withoutPreset(params: TransformParams): TransformParams {
  const { preset: _preset, ...rest } = params
  return rest
}

/** Preset values first, then the URL's own parameters on top. */
export function applyPreset(preset: TransformParams, params: TransformParams): TransformParams {
  return { ...withoutPreset(preset), ...withoutPreset(params) }
}

/** True when the request names anything besides a preset. */
export const hasOwnParams = (params: TransformParams) => Object.keys(withoutPreset(params)).length > 0
