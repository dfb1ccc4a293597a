import { CarcosaError, errorFromResponse } from './errors.js'

export interface RetryOptions {
  /** Further attempts after the first (default 3). */
  retries?: number
  /** First back-off delay in ms, doubled each attempt (default 500). */
  baseDelayMs?: number
  /** Longest single wait, Retry-After included (default 30 s). */
  maxDelayMs?: number
}

export interface CarcosaConnection {
  /** Carcosa's origin, e.g. `https://media.example.com`. */
  baseUrl: string
  /** A project API key (`ck_...`); never send it to a browser. */
  apiKey: string
  retry?: RetryOptions
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: typeof fetch
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>
  /** JSON-serialised unless it is already a BodyInit (FormData, a stream, bytes). */
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Retry 429/503 (and network failures) for this call; on by default. */
  retry?: boolean
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError(signal!))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })

export const abortError = (signal: AbortSignal) =>
  new CarcosaError({ code: 'ABORTED', status: 499, message: 'The operation was aborted', cause: signal.reason })

/** Seconds or an HTTP date, as Retry-After allows; null when absent or unreadable. */
export function retryAfterMs(header: string | null): number | null {
  if (!header) return null
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

/** Exponential back-off with full jitter: a crowd of clients does not retry in step. */
export const backoffMs = (attempt: number, base: number, max: number) => Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2)

function isBodyInit(value: unknown): value is BodyInit {
  return (
    typeof value === 'string' ||
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    value instanceof Blob ||
    value instanceof FormData ||
    value instanceof URLSearchParams ||
    value instanceof ReadableStream
  )
}

/**
 * One call to Carcosa's REST API with the API key: JSON in and out, failures as CarcosaError with
 * the problem+json, and 429/503 retried after Retry-After (or back-off) up to `retry.retries` times.
 * A streamed body cannot be replayed, so such calls are tried once.
 */
export async function carcosaRequest<T>(connection: CarcosaConnection, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await carcosaFetch(connection, method, path, options)
  if (response.status === 204) return undefined as T
  const text = await response.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** As carcosaRequest, but hands back the successful Response itself. */
export async function carcosaFetch(
  connection: CarcosaConnection,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  const url = new URL(path, connection.baseUrl.endsWith('/') ? connection.baseUrl : `${connection.baseUrl}/`)
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value))
  }
  const headers = new Headers(options.headers)
  headers.set('Authorization', `Bearer ${connection.apiKey}`)
  headers.set('Accept', 'application/json')
  let body: BodyInit | undefined
  if (options.body !== undefined) {
    if (isBodyInit(options.body)) body = options.body
    else {
      body = JSON.stringify(options.body)
      headers.set('Content-Type', 'application/json')
    }
  }
  const streamed = body instanceof ReadableStream
  const retries = options.retry === false || streamed ? 0 : (connection.retry?.retries ?? 3)
  const base = connection.retry?.baseDelayMs ?? 500
  const max = connection.retry?.maxDelayMs ?? 30_000
  const doFetch = connection.fetch ?? fetch

  for (let attempt = 0; ; attempt++) {
    let response: Response
    try {
      response = await doFetch(url, { method, headers, body, signal: options.signal, ...(streamed ? { duplex: 'half' } : {}) } as RequestInit)
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal)
      if (attempt < retries && method === 'GET') {
        await sleep(backoffMs(attempt, base, max), options.signal)
        continue
      }
      throw new CarcosaError({
        code: 'NETWORK_ERROR',
        status: 0,
        message: `Carcosa could not be reached at ${url.origin}: ${(error as Error).message}`,
        cause: error,
      })
    }
    if (response.ok) return response
    if ((response.status === 429 || response.status === 503) && attempt < retries) {
      await response.body?.cancel().catch(() => {})
      const wait = retryAfterMs(response.headers.get('Retry-After')) ?? backoffMs(attempt, base, max)
      await sleep(Math.min(wait, max), options.signal)
      continue
    }
    throw await errorFromResponse(response)
  }
}

export { sleep }
