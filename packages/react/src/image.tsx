import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useState,
  version,
  type CSSProperties,
  type ImgHTMLAttributes,
  type ReactNode,
} from 'react'
import {
  planImage,
  srcSetOf,
  variantKey,
  type ImageDescriptor,
  type ImageFit,
  type ImageFormat,
  type ImageSizesConfig,
  type ImageVariant,
} from './image-variants.js'

/** Signed URLs by variant (what `signImages` answers on your server), to render without a round trip. */
export type SignedImages = Record<string, string>

interface ImageContextValue extends ImageSizesConfig {
  signed?: SignedImages
  /** Your route handler, asked for what `signed` lacks (`images` configured on it); `false`: never ask. */
  url?: string | false
}

// The same default handler as the upload components.
const ImageContext = createContext<ImageContextValue>({ url: '/api/uploads' })

export interface CarcosaImageProviderProps extends ImageSizesConfig {
  /** From `signImages` in your loader or server component. */
  signed?: SignedImages
  /** Your route handler (default `/api/uploads`), asked in the browser for URLs `signed` lacks; `false` never asks. */
  url?: string | false
  children?: ReactNode
}

/** Signed URLs and breakpoints for the CarcosaImages inside (providers nest; inner values win). */
export function CarcosaImageProvider({ signed, url, deviceSizes, imageSizes, children }: CarcosaImageProviderProps) {
  const outer = useContext(ImageContext)
  const value = useMemo(
    () => ({
      signed: signed ? { ...outer.signed, ...signed } : outer.signed,
      url: url ?? outer.url,
      deviceSizes: deviceSizes ?? outer.deviceSizes,
      imageSizes: imageSizes ?? outer.imageSizes,
    }),
    [outer, signed, url, deviceSizes, imageSizes],
  )
  return <ImageContext.Provider value={value}>{children}</ImageContext.Provider>
}

// --- signing in the browser, batched across the images of a render -------------------------------

/** Reuse a URL the handler signed for this long (the handler's default life is an hour). */
const CLIENT_REUSE_MS = 25 * 60 * 1000
const BATCH = 64
const MAX_SIGNED_HERE = 2000
const signedHere = new Map<string, { url: string; at: number }>()
const queues = new Map<
  string,
  Map<string, { variant: ImageVariant; waiters: Array<{ resolve: (url: string) => void; reject: (error: Error) => void }> }>
>()

function fromCache(key: string): string | undefined {
  const hit = signedHere.get(key)
  return hit && Date.now() - hit.at < CLIENT_REUSE_MS ? hit.url : undefined
}

async function flush(handlerUrl: string) {
  const queue = queues.get(handlerUrl)
  queues.delete(handlerUrl)
  if (!queue) return
  const entries = [...queue.entries()]
  for (let start = 0; start < entries.length; start += BATCH) {
    const chunk = entries.slice(start, start + BATCH)
    try {
      const target = new URL(handlerUrl, typeof location === 'undefined' ? undefined : location.href)
      target.searchParams.set('actionType', 'sign-images')
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ images: chunk.map(([, item]) => ({ path: item.variant.path, params: item.variant.params })) }),
      })
      if (!response.ok) throw new Error(`The image URLs could not be signed (HTTP ${response.status})`)
      const { urls } = (await response.json()) as { urls: string[] }
      chunk.forEach(([key, item], i) => {
        const url = urls[i]!
        signedHere.set(key, { url, at: Date.now() })
        // Bounded: the oldest signed URLs go first (they are the nearest to expiry anyway).
        if (signedHere.size > MAX_SIGNED_HERE) signedHere.delete(signedHere.keys().next().value!)
        for (const waiter of item.waiters) waiter.resolve(url)
      })
    } catch (error) {
      for (const [, item] of chunk) for (const waiter of item.waiters) waiter.reject(error as Error)
    }
  }
}

function signInBrowser(handlerUrl: string, variant: ImageVariant): Promise<string> {
  const key = variantKey(variant)
  const cached = fromCache(key)
  if (cached) return Promise.resolve(cached)
  return new Promise((resolve, reject) => {
    let queue = queues.get(handlerUrl)
    if (!queue) {
      queue = new Map()
      queues.set(handlerUrl, queue)
      setTimeout(() => void flush(handlerUrl), 0)
    }
    const item = queue.get(key) ?? { variant, waiters: [] }
    item.waiters.push({ resolve, reject })
    queue.set(key, item)
  })
}

// --- the component --------------------------------------------------------------------------------

export interface CarcosaImageProps
  extends
    ImageDescriptor,
    Omit<ImgHTMLAttributes<HTMLImageElement>, 'src' | 'srcSet' | 'width' | 'height' | 'sizes' | 'placeholder' | 'alt' | 'loading'> {
  /** Required: describe the image, or `""` when it is decoration. */
  alt: string
  /** Above the fold: eager, `fetchpriority="high"`, no lazy loading. */
  priority?: boolean
  loading?: 'lazy' | 'eager'
}

// React 19 knows fetchPriority; React 18 passes the lowercase attribute through instead of warning.
const FETCH_PRIORITY = Number(version.split('.')[0]) >= 19 ? 'fetchPriority' : 'fetchpriority'

const fillStyle: CSSProperties = { position: 'absolute', inset: 0, width: '100%', height: '100%' }

/**
 * A stored image as a responsive `<img>`: signed transform URLs in `srcset` (widths from the
 * breakpoints, or 1x/2x for a fixed width), lazy and async unless `priority`, and a blurred tiny
 * placeholder for `placeholder="blur"`. URLs come signed from your server (`signImages` through
 * CarcosaImageProvider) or from your route handler in the browser; never with an API key here.
 */
export function CarcosaImage(props: CarcosaImageProps) {
  const { src, width, height, fill, sizes, quality, format, fit, placeholder, alt, priority, loading, style, onLoad, ...rest } = props
  const context = useContext(ImageContext)
  const plan = useMemo(
    () => planImage({ src, width, height, fill, sizes, quality, format, fit, placeholder }, context),
    [src, width, height, fill, sizes, quality, format, fit, placeholder, context],
  )
  const needed = useMemo(() => [...plan.variants, ...(plan.blur ? [plan.blur] : [])], [plan])
  const [fetched, setFetched] = useState<SignedImages>({})
  const [failed, setFailed] = useState(false)
  const [loaded, setLoaded] = useState(false)
  const urlOf = (variant: ImageVariant) => {
    const key = variantKey(variant)
    return context.signed?.[key] ?? fetched[key] ?? fromCache(key)
  }
  const urls = plan.variants.map(urlOf)
  const blurUrl = plan.blur ? urlOf(plan.blur) : undefined
  const missing = needed.filter((variant) => !urlOf(variant))
  const missingKey = missing.map(variantKey).join('|')

  useEffect(() => {
    if (!missingKey || !context.url) return
    let live = true
    const handlerUrl = context.url
    Promise.all(missing.map(async (variant) => [variantKey(variant), await signInBrowser(handlerUrl, variant)] as const)).then(
      (pairs) => live && setFetched((current) => ({ ...current, ...Object.fromEntries(pairs) })),
      () => live && setFailed(true),
    )
    return () => {
      live = false
    }
    // `missing` is named by missingKey.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [missingKey, context.url])

  const ready = urls.every(Boolean)
  const placeholderStyle: CSSProperties | undefined =
    blurUrl && !loaded
      ? {
          backgroundImage: `url("${blurUrl}")`,
          backgroundSize: fit === 'contain' ? 'contain' : 'cover',
          backgroundPosition: 'center',
          backgroundRepeat: 'no-repeat',
        }
      : undefined
  const state = ready ? (loaded ? 'loaded' : 'loading') : failed ? 'error' : 'signing'
  return (
    <img
      {...rest}
      alt={alt}
      width={fill ? undefined : width}
      height={fill ? undefined : height}
      // Attribute order matters to browsers: loading and sizes/srcset before src.
      loading={priority ? 'eager' : (loading ?? 'lazy')}
      decoding={priority ? undefined : 'async'}
      {...(priority ? { [FETCH_PRIORITY]: 'high' } : {})}
      sizes={plan.sizes}
      srcSet={ready && (plan.variants.length > 1 || plan.sizes) ? srcSetOf(plan, urls as string[]) : undefined}
      src={ready ? urls[plan.srcIndex] : undefined}
      style={{
        ...(fill ? fillStyle : {}),
        ...(fit && fill ? { objectFit: fit === 'inside' ? 'contain' : fit === 'outside' ? 'cover' : fit } : {}),
        ...placeholderStyle,
        ...style,
      }}
      data-carcosa-element="image"
      data-state={state}
      // An image that loaded before hydration fires no onLoad for React: read it from the element.
      ref={(element) => {
        if (element?.complete && element.naturalWidth > 0 && !loaded) setLoaded(true)
      }}
      onLoad={(event) => {
        setLoaded(true)
        onLoad?.(event)
      }}
    />
  )
}

/** The seed's name for CarcosaImage. */
export const Cmage = CarcosaImage

export interface CarcosaLoaderOptions {
  /** Your route handler with `images` configured (default `/api/uploads`). */
  url?: string
  format?: ImageFormat
  fit?: ImageFit
}

/**
 * A loader for next/image: `<Image loader={carcosaLoader} src={file.path} ... />`. next/image asks
 * loaders for URLs synchronously, so each URL is your handler's `GET ?actionType=image`, which
 * checks `images.authorize` and redirects to a signed transform URL (reused for half its life).
 */
export function createCarcosaLoader(options: CarcosaLoaderOptions = {}) {
  const base = options.url ?? '/api/uploads'
  return ({ src, width, quality }: { src: string; width: number; quality?: number }) => {
    const query = new URLSearchParams({ actionType: 'image', path: src, w: String(width) })
    if (quality) query.set('quality', String(quality))
    if (options.format && options.format !== 'auto') query.set('format', options.format)
    if (options.fit) query.set('fit', options.fit)
    return `${base}${base.includes('?') ? '&' : '?'}${query}`
  }
}

export const carcosaLoader = createCarcosaLoader()
