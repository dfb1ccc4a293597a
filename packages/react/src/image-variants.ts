/**
 * Which transform URLs an image needs (pure, shared by the server helper and the component, so
 * both name the same URLs): widths from breakpoint lists as next/image chooses them, 1x/2x for a
 * fixed width, and a tiny variant for the blur placeholder.
 */

/** Widths for layouts that fill the viewport (`sizes` with vw, or `fill`). */
export const DEFAULT_DEVICE_SIZES = [640, 750, 828, 1080, 1200, 1920, 2048, 3840]
/** Widths for images narrower than the smallest device size. */
export const DEFAULT_IMAGE_SIZES = [16, 32, 48, 64, 96, 128, 256, 384]
/** Carcosa renders at most this many pixels wide. */
export const MAX_WIDTH = 4096
/** The blur placeholder's width in pixels. */
export const BLUR_WIDTH = 16

export type ImageFormat = 'auto' | 'webp' | 'avif' | 'jpeg' | 'png'
export type ImageFit = 'cover' | 'contain' | 'fill' | 'inside' | 'outside'

export interface ImageSizesConfig {
  deviceSizes?: readonly number[]
  imageSizes?: readonly number[]
}

/** What decides an image's URLs (the component's props less the presentational ones). */
export interface ImageDescriptor {
  /** The file's path in the project (`CarcosaFile.path`, `UploadedFile.path`). */
  src: string
  /** Intrinsic width in CSS pixels: the 1x variant (and 2x) unless `sizes` is given. */
  width?: number
  height?: number
  /** The image fills its positioned parent; give `sizes` unless it spans the viewport. */
  fill?: boolean
  sizes?: string
  /** 1-100 (Carcosa's default when omitted). */
  quality?: number
  /** `auto` (default) lets Carcosa choose AVIF, WebP or the source's format from the browser's Accept. */
  format?: ImageFormat
  fit?: ImageFit
  placeholder?: 'empty' | 'blur'
}

export interface ImageVariant {
  path: string
  params: Record<string, string | number>
  /** The srcset descriptor (`640w`, `2x`); empty for the placeholder. */
  descriptor: string
}

export interface ImagePlan {
  /** The srcset's variants, smallest first. */
  variants: ImageVariant[]
  /** Which variant `src` uses (the 1x one, or the widest). */
  srcIndex: number
  /** The `sizes` attribute to render (`100vw` for `fill` without sizes). */
  sizes: string | undefined
  blur: ImageVariant | undefined
}

const positive = (value: number | undefined) => (value !== undefined && Number.isFinite(value) && value > 0 ? Math.round(value) : undefined)

/** The canonical name of a URL to sign: the path and its parameters sorted by name. */
export function variantKey(variant: Pick<ImageVariant, 'path' | 'params'>): string {
  const query = Object.keys(variant.params)
    .sort()
    .map((name) => `${name}=${variant.params[name]}`)
    .join('&')
  return `${variant.path}?${query}`
}

/** Widths and their descriptors, the way next/image picks them. */
export function imageWidths(
  image: Pick<ImageDescriptor, 'width' | 'fill' | 'sizes'>,
  config: ImageSizesConfig = {},
): { widths: number[]; kind: 'w' | 'x' } {
  const deviceSizes = [...(config.deviceSizes ?? DEFAULT_DEVICE_SIZES)].sort((a, b) => a - b)
  const all = [...new Set([...(config.imageSizes ?? DEFAULT_IMAGE_SIZES), ...deviceSizes])].filter((w) => w <= MAX_WIDTH).sort((a, b) => a - b)
  const width = positive(image.width)
  if (image.sizes) {
    // The smallest share of the viewport the image takes: smaller widths would never be chosen.
    const shares = [...image.sizes.matchAll(/(^|\s)(1?\d?\d)vw/g)].map((m) => Number(m[2]) / 100)
    if (shares.length > 0) {
      const smallest = (deviceSizes[0] ?? 0) * Math.min(...shares)
      return { widths: all.filter((w) => w >= smallest), kind: 'w' }
    }
    return { widths: all, kind: 'w' }
  }
  if (image.fill || width === undefined) return { widths: deviceSizes.filter((w) => w <= MAX_WIDTH), kind: 'w' }
  return { widths: [...new Set([width, width * 2].map((w) => Math.min(w, MAX_WIDTH)))], kind: 'x' }
}

/** Every URL an image needs, with the srcset descriptors. Throws on a missing size (as next/image does). */
export function planImage(image: ImageDescriptor, config: ImageSizesConfig = {}): ImagePlan {
  if (!image.src) throw new TypeError('CarcosaImage needs src: the file path in the project')
  const width = positive(image.width)
  const height = positive(image.height)
  if (!image.fill && width === undefined) throw new TypeError(`CarcosaImage ${image.src}: give width (and height), or fill`)
  if (image.quality !== undefined && !(Number.isInteger(image.quality) && image.quality >= 1 && image.quality <= 100)) {
    throw new TypeError(`CarcosaImage ${image.src}: quality must be a whole number from 1 to 100`)
  }
  const { widths, kind } = imageWidths(image, config)
  // A fixed box keeps its aspect ratio at every width; `fill` follows the source's.
  const heightAt = (w: number) => (!image.fill && width && height ? Math.max(1, Math.round((height * w) / width)) : undefined)
  const shared: Record<string, string | number> = {}
  if (image.quality !== undefined) shared.quality = image.quality
  if (image.format && image.format !== 'auto') shared.format = image.format
  if (image.fit) shared.fit = image.fit
  const variants = widths.map((w, i): ImageVariant => {
    const h = heightAt(w)
    return { path: image.src, params: { ...shared, w, ...(h ? { h } : {}) }, descriptor: kind === 'x' ? `${i + 1}x` : `${w}w` }
  })
  const blurHeight = heightAt(BLUR_WIDTH)
  return {
    variants,
    srcIndex: kind === 'x' ? 0 : variants.length - 1,
    sizes: image.sizes ?? (image.fill ? '100vw' : undefined),
    blur:
      image.placeholder === 'blur'
        ? {
            path: image.src,
            params: {
              w: BLUR_WIDTH,
              ...(blurHeight ? { h: blurHeight } : {}),
              ...(image.fit ? { fit: image.fit } : {}),
              format: 'webp',
              quality: 40,
            },
            descriptor: '',
          }
        : undefined,
  }
}

/** The srcset attribute from the variants' URLs (in the same order). */
export function srcSetOf(plan: Pick<ImagePlan, 'variants'>, urls: readonly string[]): string {
  return plan.variants.map((variant, i) => `${urls[i]} ${variant.descriptor}`).join(', ')
}
