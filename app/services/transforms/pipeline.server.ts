import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import sharp from 'sharp'
import type { OutputFormat } from './negotiate'
import { MAX_DIMENSION, type Position, type TransformParams } from './params'

// libvips threads per image: parallelism comes from rendering several images at once (the
// limiter's slots, on libuv's pool), which scales better than splitting one image across cores.
sharp.concurrency(1)
// The operation cache helps repeated work on one input; ours are different images each time, and
// its memory would sit beside the variant cache unbounded by it.
sharp.cache(false)

/** Effort 4 of 9: AVIF at the default (5+) costs several times more for a few percent of size. */
export const AVIF_EFFORT = 4

export interface RenderLimits {
  maxInputPixels: number
  maxSourceBytes: number
  allowAnimated: boolean
}

/** The source cannot be transformed: too large (422) or not a decodable image (415). */
export class SourceRefused extends Error {
  constructor(
    readonly status: 415 | 422,
    message: string,
  ) {
    super(message)
    this.name = 'SourceRefused'
  }
}

const GRAVITY: Record<Exclude<Position, 'entropy' | 'attention'>, string> = {
  center: 'centre',
  top: 'north',
  right: 'east',
  bottom: 'south',
  left: 'west',
  'top-left': 'northwest',
  'top-right': 'northeast',
  'bottom-left': 'southwest',
  'bottom-right': 'southeast',
}

const positionOf = (position: Position | undefined) =>
  position === undefined ? undefined : position === 'entropy' || position === 'attention' ? sharp.strategy[position] : GRAVITY[position]

const colour = (hex: string) => ({
  r: parseInt(hex.slice(0, 2), 16),
  g: parseInt(hex.slice(2, 4), 16),
  b: parseInt(hex.slice(4, 6), 16),
  alpha: hex.length === 8 ? parseInt(hex.slice(6, 8), 16) / 255 : 1,
})

/** Counts bytes on their way into sharp and stops the stream past the cap. */
function byteCap(limit: number) {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen > limit) callback(new SourceRefused(422, `The source image is larger than ${limit} bytes, the limit for transforms.`))
      else callback(null, chunk)
    },
  })
}

/** Builds the sharp pipeline for the parameters (the benchmark runs this same function on raw buffers). */
export function transformer(params: TransformParams, format: OutputFormat, limits: Pick<RenderLimits, 'maxInputPixels' | 'allowAnimated'>) {
  let image = sharp({
    limitInputPixels: limits.maxInputPixels,
    // Animated input renders its first frame only, unless the project allows animation.
    pages: limits.allowAnimated ? -1 : 1,
    sequentialRead: true,
  }).autoOrient()
  if (params.rotate) image = image.rotate(params.rotate)
  const dpr = params.dpr ?? 1
  const width = params.w === undefined ? undefined : Math.round(params.w * dpr)
  const height = params.h === undefined ? undefined : Math.round(params.h * dpr)
  const background = params.background ? colour(params.background) : undefined
  if (width !== undefined || height !== undefined) {
    image = image.resize({ width, height, fit: params.fit ?? 'cover', position: positionOf(params.position), background })
  } else {
    // No size asked: the output still stays within the largest size a URL can ask for.
    image = image.resize({ width: MAX_DIMENSION, height: MAX_DIMENSION, fit: 'inside', withoutEnlargement: true })
  }
  if (params.flip) image = image.flip()
  if (params.flop) image = image.flop()
  if (params.blur) image = image.blur(params.blur)
  if (params.sharpen) image = image.sharpen({ sigma: params.sharpen })
  const quality = params.quality
  switch (format) {
    case 'webp':
      return image.webp({ quality })
    case 'avif':
      return image.avif({ quality, effort: AVIF_EFFORT })
    case 'jpeg':
      // JPEG has no alpha: transparent areas take the background colour (white by default).
      return image.flatten({ background: background ?? '#ffffff' }).jpeg({ quality })
    case 'png':
      return image.png(quality === undefined ? {} : { quality, palette: true })
  }
}

const REFUSALS: [RegExp, SourceRefused['status'], string][] = [
  [/pixel limit/i, 422, 'The source image has more pixels than the limit for transforms.'],
  [
    /unsupported image format|bad seek|corrupt|premature end|vips_image_|improper image header|input buffer|read error|no decoder/i,
    415,
    'The source is not an image this service can decode.',
  ],
]

/**
 * Streams the source through sharp and returns the encoded variant. The source is cut off past
 * `maxSourceBytes`; decoding stops at the header when the pixel count is over the limit.
 */
export async function renderVariant(source: Readable, params: TransformParams, format: OutputFormat, limits: RenderLimits): Promise<Buffer> {
  const image = transformer(params, format, limits)
  const output = image.toBuffer()
  try {
    await Promise.all([pipeline(source, byteCap(limits.maxSourceBytes), image), output])
  } catch (error) {
    source.destroy()
    output.catch(() => undefined)
    if (error instanceof SourceRefused) throw error
    const message = error instanceof Error ? error.message : String(error)
    const known = REFUSALS.find(([pattern]) => pattern.test(message))
    if (known) throw new SourceRefused(known[1], known[2])
    throw error
  }
  return output
}
