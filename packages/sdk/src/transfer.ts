import { CarcosaError, errorFromResponse } from './errors.js'
import { abortError, backoffMs, sleep } from './http.js'
import type { CompletedPart, SignedPart, TransferPlan } from './types.js'

export interface TransferOptions {
  /** Signs URLs for parts of a multipart upload. */
  signParts: (partNumbers: number[]) => Promise<SignedPart[]>
  /** Bytes of this file sent so far (it may go down when a part is retried). */
  onProgress?: (loaded: number) => void
  signal?: AbortSignal
  /** Parts uploaded before (a resumed upload); they are not sent again. */
  done?: CompletedPart[]
  /** Called after each part lands, with every part done so far (to save resumable state). */
  onPartDone?: (parts: CompletedPart[]) => void | Promise<void>
  /** Parts in flight at once (default 4). */
  concurrency?: number
  /** Further attempts per request after the first (default 3). */
  retries?: number
}

interface PutResult {
  status: number
  etag: string | null
  response?: Response
  text?: string
}

/** Counts bytes as the request body is read, so Node's fetch can report upload progress. */
function countingStream(source: ReadableStream<Uint8Array>, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) return controller.close()
      onBytes(value.byteLength)
      controller.enqueue(value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}

/** PUT with upload progress: XMLHttpRequest in browsers, a counted request stream elsewhere. */
function putWithXhr(
  url: string,
  headers: Record<string, string>,
  body: Blob,
  onBytes: (loaded: number) => void,
  signal?: AbortSignal,
): Promise<PutResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', url, true)
    for (const [name, value] of Object.entries(headers)) {
      // Browsers set these themselves and refuse them from scripts.
      if (!/^content-length$/i.test(name)) xhr.setRequestHeader(name, value)
    }
    xhr.upload.onprogress = (event) => onBytes(event.loaded)
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader('ETag'), text: xhr.responseText })
    xhr.onerror = () =>
      reject(
        new CarcosaError({ code: 'NETWORK_ERROR', status: 0, message: 'The upload could not reach the storage server (network error or CORS)' }),
      )
    const onAbort = () => xhr.abort()
    xhr.onabort = () => reject(abortError(signal!))
    signal?.addEventListener('abort', onAbort, { once: true })
    xhr.onloadend = () => signal?.removeEventListener('abort', onAbort)
    xhr.send(body)
  })
}

export type PutBody = Blob | { stream: ReadableStream<Uint8Array>; size: number }

/** One PUT of bytes to a signed URL, reporting bytes sent. */
export async function putBytes(
  url: string,
  headers: Record<string, string>,
  body: PutBody,
  onLoaded: (loaded: number) => void,
  signal?: AbortSignal,
): Promise<PutResult> {
  if (signal?.aborted) throw abortError(signal)
  if (body instanceof Blob && typeof XMLHttpRequest !== 'undefined') return putWithXhr(url, headers, body, onLoaded, signal)
  const size = body instanceof Blob ? body.size : body.size
  const source = body instanceof Blob ? body.stream() : body.stream
  let loaded = 0
  const requestHeaders = new Headers(headers)
  requestHeaders.set('Content-Length', String(size))
  try {
    const response = await fetch(url, {
      method: 'PUT',
      headers: requestHeaders,
      body: size === 0 ? new Uint8Array(0) : countingStream(source, (n) => onLoaded((loaded += n))),
      signal,
      duplex: 'half',
    } as RequestInit)
    return { status: response.status, etag: response.headers.get('ETag'), response }
  } catch (error) {
    if (signal?.aborted) throw abortError(signal)
    throw new CarcosaError({
      code: 'NETWORK_ERROR',
      status: 0,
      message: `The upload could not reach the storage server: ${(error as Error).message}`,
      cause: error,
    })
  }
}

async function failure(result: PutResult, what: string): Promise<CarcosaError> {
  if (result.response) {
    const error = await errorFromResponse(result.response)
    return new CarcosaError({ code: error.code, status: error.status, message: `${what} failed: ${error.message}`, problem: error.problem })
  }
  return new CarcosaError({
    code: result.status >= 500 ? 'BAD_GATEWAY' : 'BAD_REQUEST',
    status: result.status,
    message: `${what} failed with HTTP ${result.status}`,
  })
}

const retryable = (error: unknown) =>
  error instanceof CarcosaError && error.code !== 'ABORTED' && (error.code === 'NETWORK_ERROR' || error.status === 429 || error.status >= 500)

/**
 * Sends one file's bytes as the plan says: one PUT, or its parts in parallel (each retried with
 * back-off), skipping parts already done. Resolves with the parts (multipart) or null (PUT).
 */
export async function transferFile(file: PutBody, plan: TransferPlan, options: TransferOptions): Promise<CompletedPart[] | null> {
  const retries = options.retries ?? 3
  const { signal } = options
  if (plan.method === 'PUT') {
    // A stream can be read once: only a Blob is retried.
    const attempts = file instanceof Blob ? retries : 0
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await putBytes(plan.url, plan.headers, file, (loaded) => options.onProgress?.(loaded), signal)
        if (result.status >= 200 && result.status < 300) return null
        throw await failure(result, 'The upload')
      } catch (error) {
        if (attempt >= attempts || !retryable(error)) throw error
        options.onProgress?.(0)
        await sleep(backoffMs(attempt, 500, 10_000), signal)
      }
    }
  }
  if (!(file instanceof Blob)) throw new TypeError('A multipart upload needs a Blob or File (its parts are read by offset)')

  const { partSize, partCount } = plan
  const done = new Map<number, CompletedPart>((options.done ?? []).map((part) => [part.partNumber, part]))
  const loadedByPart = new Map<number, number>()
  const partBytes = (n: number) => Math.min(partSize, file.size - (n - 1) * partSize)
  for (const n of done.keys()) loadedByPart.set(n, partBytes(n))
  const report = () => options.onProgress?.([...loadedByPart.values()].reduce((a, b) => a + b, 0))
  report()

  const pending = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !done.has(n))
  const signed = new Map<number, SignedPart>()
  const signBatch = async (numbers: number[]) => {
    for (let i = 0; i < numbers.length; i += 100) {
      for (const part of await options.signParts(numbers.slice(i, i + 100))) signed.set(part.partNumber, part)
    }
  }

  const sendPart = async (partNumber: number) => {
    const blob = file.slice((partNumber - 1) * partSize, (partNumber - 1) * partSize + partBytes(partNumber))
    for (let attempt = 0; ; attempt++) {
      try {
        if (!signed.has(partNumber)) await signBatch([partNumber])
        const target = signed.get(partNumber)!
        const result = await putBytes(
          target.url,
          target.headers,
          blob,
          (loaded) => {
            loadedByPart.set(partNumber, loaded)
            report()
          },
          signal,
        )
        if (result.status >= 200 && result.status < 300) {
          if (!result.etag) {
            throw new CarcosaError({
              code: 'BAD_GATEWAY',
              message: "The storage server answered a part without an ETag header (expose ETag in the bucket's CORS rules)",
            })
          }
          loadedByPart.set(partNumber, blob.size)
          report()
          return { partNumber, etag: result.etag }
        }
        // An expired or refused signature: sign again on the next attempt.
        if (result.status === 403) signed.delete(partNumber)
        throw await failure(result, `Part ${partNumber}`)
      } catch (error) {
        if (attempt >= retries || !(retryable(error) || (error instanceof CarcosaError && error.status === 403))) throw error
        loadedByPart.set(partNumber, 0)
        report()
        await sleep(backoffMs(attempt, 500, 10_000), signal)
      }
    }
  }

  await signBatch(pending.slice(0, 100))
  const queue = [...pending]
  const worker = async () => {
    for (let partNumber = queue.shift(); partNumber !== undefined; partNumber = queue.shift()) {
      if (signal?.aborted) throw abortError(signal)
      let part: CompletedPart
      try {
        part = await sendPart(partNumber)
      } catch (error) {
        queue.length = 0 // the other workers stop after their current part
        throw error
      }
      done.set(part.partNumber, part)
      await options.onPartDone?.([...done.values()].sort((a, b) => a.partNumber - b.partNumber))
    }
  }
  const workers = Array.from({ length: Math.min(options.concurrency ?? 4, Math.max(1, pending.length)) }, worker)
  const results = await Promise.allSettled(workers)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  return [...done.values()].sort((a, b) => a.partNumber - b.partNumber)
}
