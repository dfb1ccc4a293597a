import { CarcosaApi } from '@carcosa/sdk'
import { sharedImageSigner, type ImageSigner } from '@carcosa/sdk/server'
import type { SignedImages } from './image.js'
import { planImage, variantKey, type ImageDescriptor, type ImageSizesConfig, type ImageVariant } from './image-variants.js'

export type { SignedImages } from './image.js'
export { planImage, variantKey, type ImageDescriptor } from './image-variants.js'

export interface SignImagesOptions extends ImageSizesConfig {
  /** A CarcosaApi with a key holding transforms:execute; else `apiKey`/`baseUrl` (or CARCOSA_API_KEY and CARCOSA_URL). */
  api?: CarcosaApi
  apiKey?: string
  baseUrl?: string
  /** Seconds the URLs work (default an hour); each is reused for the first half of its life. */
  expiresIn?: number
  /** Inline blur placeholders as data URLs (one small transform fetched here per image); default true. */
  inlineBlur?: boolean
}

/** Placeholders larger than this stay URLs. */
const MAX_INLINE_BYTES = 4096

function signerFor(options: SignImagesOptions): ImageSigner {
  return sharedImageSigner(options.api ?? defaultApi(options), options.expiresIn)
}

// One CarcosaApi per key and origin when none is passed, so its signed URLs are reused across renders.
const apis = new Map<string, CarcosaApi>()
function defaultApi(options: SignImagesOptions): CarcosaApi {
  const api = new CarcosaApi({ apiKey: options.apiKey, baseUrl: options.baseUrl })
  const name = `${api.connection.baseUrl}\n${api.connection.apiKey}`
  if (!apis.has(name)) apis.set(name, api)
  return apis.get(name)!
}

async function inline(url: string): Promise<string> {
  try {
    const response = await fetch(url, { headers: { Accept: 'image/webp' } })
    const type = response.headers.get('content-type') ?? ''
    if (!response.ok || !type.startsWith('image/')) return url
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (bytes.byteLength > MAX_INLINE_BYTES) return url
    let binary = ''
    for (const byte of bytes) binary += String.fromCharCode(byte)
    return `data:${type};base64,${btoa(binary)}`
  } catch {
    return url
  }
}

/**
 * Signs every URL these images need, on your server (a Remix loader, a server component, an
 * Express route): pass the answer to `<CarcosaImageProvider signed={...}>` and render
 * `<CarcosaImage>` with the same props; it needs no request of its own then. The descriptors must
 * match the components' props (src, width/height or fill, sizes, quality, format, fit, placeholder).
 */
export async function signImages(images: readonly ImageDescriptor[], options: SignImagesOptions = {}): Promise<SignedImages> {
  const signer = signerFor(options)
  const variants = new Map<string, { variant: ImageVariant; blur: boolean }>()
  for (const image of images) {
    const plan = planImage(image, options)
    for (const variant of plan.variants) variants.set(variantKey(variant), { variant, blur: false })
    if (plan.blur) variants.set(variantKey(plan.blur), { variant: plan.blur, blur: true })
  }
  const entries = [...variants.entries()]
  const urls = await signer.sign(entries.map(([, { variant }]) => ({ path: variant.path, params: variant.params })))
  const signed = await Promise.all(
    entries.map(async ([key, { blur }], i) => [key, blur && options.inlineBlur !== false ? await inline(urls[i]!) : urls[i]!] as const),
  )
  return Object.fromEntries(signed)
}
