import { CarcosaError, errorFromResponse } from '../errors.js'
import { abortError } from '../http.js'
import type { inferRouteInput, inferRouteSlugs, inferServerData } from '../server/types.js'
import { normalizeSource, type NormalizedSource, type UploadSource } from '../sources.js'
import { transferFile, type PutBody } from '../transfer.js'
import type { CompletedPart, PresignedUpload, RealtimeGrant, RouteConfigEntry, SignedPart, StartedUploads, UploadedFile } from '../types.js'
import { watchUploads, type UploadPhase } from './realtime.js'
import { localStorageResumeStore, type ResumeStore } from './resume-store.js'

export { memoryResumeStore, localStorageResumeStore, type ResumeState, type ResumeStore } from './resume-store.js'
export { CarcosaError, isCarcosaError, type Problem } from '../errors.js'
export type { UploadedFile, RouteConfigEntry, RealtimeGrant } from '../types.js'
export type { UploadPhase } from './realtime.js'
export { checkRouteFiles, routeAccepts } from '../server/limits.js'
export type { UploadSource } from '../sources.js'

export interface GenUploaderOptions {
  /** The route handler's URL (absolute in Node; may be a path in browsers), e.g. `/api/uploads`. */
  url: string | URL
  /** Files larger than this go multipart: parallel parts, retried, resumable (default 10 MiB). */
  multipartThreshold?: number
  /** Parts in flight per file (default 4). */
  concurrency?: number
  /** Attempts after the first for each part or PUT (default 3). */
  retries?: number
  /** Where multipart progress is saved for resuming; localStorage in browsers, none elsewhere; `null` turns it off. */
  resumeStore?: ResumeStore | null
  /** Another fetch for the route handler calls (cookies, tests). */
  fetch?: typeof fetch
}

export interface UploadProgressEvent {
  /** The file (or source) this event is about. */
  file: UploadSource
  name: string
  /** This file, 0-100. */
  progress: number
  loaded: number
  total: number
  /** All files of the call, 0-100. */
  totalProgress: number
  totalLoaded: number
  totalBytes: number
}

type InputOption<TInput> = undefined extends TInput ? { input?: TInput } : { input: TInput }

export type UploadFilesOptions<TInput> = {
  files: UploadSource[]
  /** A file's bytes start moving; `uploadId` is Carcosa's id of its upload. */
  onUploadBegin?: (event: { file: UploadSource; name: string; uploadId: string }) => void
  onUploadProgress?: (event: UploadProgressEvent) => void
  /**
   * Server phases of a file after its bytes landed (`verifying`: Carcosa checks the object;
   * `completed`: it is a file, your onUploadComplete runs; `failed`), live over Carcosa's WebSocket
   * when the route handler offers a realtime token and the runtime has a WebSocket. Best effort: the
   * upload's outcome is the promise's.
   */
  onUploadPhase?: (event: { file: UploadSource; name: string; uploadId: string; phase: UploadPhase; reason?: string }) => void
  /**
   * Aborting stops the transfers. Files whose bytes all landed are still verified by Carcosa and reach
   * onUploadComplete through its webhook; a multipart upload stays resumable (with a resume store) until
   * it expires: call uploadFiles again with the same file to continue; other unfinished uploads are aborted.
   */
  signal?: AbortSignal
  /** Sent to the route handler (e.g. an Authorization header); a function is called per request. */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)
} & InputOption<TInput>

interface Prepared {
  source: UploadSource
  file: NormalizedSource & { size: number }
  resumeKey: string
}

const MIB = 1024 * 1024

/**
 * The uploader for browsers and Node, typed by your router: `genUploader<AppRouter>({ url })`.
 * `uploadFiles(slug, { files, input })` asks the route handler (your middleware decides), sends the
 * bytes straight to the bucket, and resolves once your server ran `onUploadComplete` for each file.
 */
export function genUploader<TRouter>(options: GenUploaderOptions) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))
  const threshold = options.multipartThreshold ?? 10 * MIB
  const store = options.resumeStore === undefined ? localStorageResumeStore() : options.resumeStore

  const endpoint = (query: Record<string, string>) => {
    const base =
      typeof options.url === 'string' && options.url.startsWith('/') && typeof location !== 'undefined'
        ? new URL(options.url, location.href)
        : new URL(options.url)
    for (const [name, value] of Object.entries(query)) base.searchParams.set(name, value)
    return base
  }

  async function call<T>(
    query: Record<string, string>,
    body: unknown,
    headers: UploadFilesOptions<unknown>['headers'],
    signal?: AbortSignal,
  ): Promise<T> {
    const extra = new Headers(typeof headers === 'function' ? await headers() : headers)
    extra.set('Content-Type', 'application/json')
    let response: Response
    try {
      response = await doFetch(endpoint(query), {
        method: 'POST',
        headers: extra,
        body: JSON.stringify(body),
        signal,
        credentials: 'same-origin',
      })
    } catch (error) {
      if (signal?.aborted) throw abortError(signal)
      throw new CarcosaError({
        code: 'NETWORK_ERROR',
        status: 0,
        message: `The upload route could not be reached: ${(error as Error).message}`,
        cause: error,
      })
    }
    if (!response.ok) throw await errorFromResponse(response)
    return (await response.json()) as T
  }

  /** The routes and their limits, as the handler answers `GET`. */
  async function routeConfig(): Promise<RouteConfigEntry[]> {
    const response = await doFetch(endpoint({}), { method: 'GET' })
    if (!response.ok) throw await errorFromResponse(response)
    return (await response.json()) as RouteConfigEntry[]
  }

  async function uploadFiles<TSlug extends inferRouteSlugs<TRouter>>(
    slug: TSlug,
    opts: UploadFilesOptions<inferRouteInput<TRouter, TSlug>>,
  ): Promise<UploadedFile<inferServerData<TRouter, TSlug>>[]> {
    const { signal, headers } = opts
    if (signal?.aborted) throw abortError(signal)
    const prepared: Prepared[] = opts.files.map((source) => {
      const file = normalizeSource(source)
      if (file.size === null) throw new TypeError(`${file.name}: give the size of a stream to upload it through a route`)
      const lastModified = source instanceof File ? source.lastModified : 0
      return {
        source,
        file: file as Prepared['file'],
        resumeKey: `carcosa-upload:${String(options.url)}:${slug}:${file.name}:${file.size}:${lastModified}`,
      }
    })

    // Progress, per file and in total.
    const loaded = new Map<Prepared, number>(prepared.map((p) => [p, 0]))
    const totalBytes = prepared.reduce((sum, p) => sum + p.file.size, 0)
    const report = (p: Prepared, bytes: number) => {
      loaded.set(p, Math.min(bytes, p.file.size))
      const totalLoaded = [...loaded.values()].reduce((a, b) => a + b, 0)
      opts.onUploadProgress?.({
        file: p.source,
        name: p.file.name,
        loaded: loaded.get(p)!,
        total: p.file.size,
        progress: p.file.size === 0 ? 100 : (loaded.get(p)! / p.file.size) * 100,
        totalLoaded,
        totalBytes,
        totalProgress: totalBytes === 0 ? 100 : (totalLoaded / totalBytes) * 100,
      })
    }

    // Multipart uploads saved by an earlier attempt continue; the others start now, in one call (one middleware run).
    const saved = new Map<Prepared, { upload: PresignedUpload; parts: CompletedPart[] }>()
    if (store) {
      for (const p of prepared) {
        const state = await store.get(p.resumeKey)
        if (state && state.upload.method === 'MULTIPART' && Date.parse(state.upload.expiresAt) > Date.now() + 60_000) saved.set(p, state)
      }
    }
    const start = async (batch: Prepared[]) => {
      if (batch.length === 0) return new Map<Prepared, PresignedUpload>()
      const { uploads, realtime } = await call<StartedUploads>(
        { slug, actionType: 'upload' },
        {
          files: batch.map((p) => ({ name: p.file.name, size: p.file.size, type: p.file.type })),
          input: opts.input,
          multipart: batch.map((p) => p.file.size > threshold),
        },
        headers,
        signal,
      )
      if (opts.onUploadPhase) watches.push(watch(realtime, batch, uploads))
      return new Map(batch.map((p, i) => [p, uploads[i]!]))
    }
    const watches: ReturnType<typeof watchUploads>[] = []
    const ready = (uploadId: string) => Promise.all(watches.map((w) => w.ready(uploadId)))
    const watch = (grant: RealtimeGrant | undefined, batch: Prepared[], uploads: PresignedUpload[]) => {
      const byId = new Map(uploads.map((u, i) => [u.uploadId, batch[i]!]))
      return watchUploads(grant, [...byId.keys()], (uploadId, phase, reason) => {
        const p = byId.get(uploadId)!
        opts.onUploadPhase?.({ file: p.source, name: p.file.name, uploadId, phase, ...(reason ? { reason } : {}) })
      })
    }
    const fresh = await start(prepared.filter((p) => !saved.has(p)))

    const landed = new Set<string>()
    const sendOne = async (
      p: Prepared,
      upload: PresignedUpload,
      done: CompletedPart[],
    ): Promise<UploadedFile<inferServerData<TRouter, TSlug>>> => {
      const body: PutBody = p.file.blob ?? { stream: p.file.stream!(), size: p.file.size }
      if (upload.method === 'MULTIPART') await store?.set(p.resumeKey, { upload, parts: done, savedAt: Date.now() })
      opts.onUploadBegin?.({ file: p.source, name: p.file.name, uploadId: upload.uploadId })
      const parts = await transferFile(body, upload, {
        signParts: async (partNumbers) =>
          (
            await call<{ parts: SignedPart[] }>(
              { slug, actionType: 'multipart-sign' },
              { uploadId: upload.uploadId, token: upload.token, partNumbers },
              headers,
              signal,
            )
          ).parts,
        onProgress: (bytes) => report(p, bytes),
        signal,
        done,
        concurrency: options.concurrency,
        retries: options.retries,
        onPartDone: upload.method === 'MULTIPART' ? (all) => store?.set(p.resumeKey, { upload, parts: all, savedAt: Date.now() }) : undefined,
      })
      landed.add(upload.uploadId)
      report(p, p.file.size)
      // Subscribed before completion starts, or its verifying phase could pass unseen.
      await ready(upload.uploadId)
      const result = await call<UploadedFile<inferServerData<TRouter, TSlug>>>(
        { slug, actionType: 'complete' },
        { uploadId: upload.uploadId, token: upload.token, ...(parts ? { parts } : {}) },
        headers,
        signal,
      )
      await store?.delete(p.resumeKey)
      return result
    }

    const results = await Promise.allSettled(
      prepared.map(async (p) => {
        const resumed = saved.get(p)
        if (resumed) {
          try {
            return await sendOne(p, resumed.upload, resumed.parts)
          } catch (error) {
            // The saved upload is gone (expired, aborted, swept): start this file afresh.
            if (!(error instanceof CarcosaError && [404, 409, 410].includes(error.status))) throw error
            await store?.delete(p.resumeKey)
            const again = await start([p])
            return sendOne(p, again.get(p)!, [])
          }
        }
        return sendOne(p, fresh.get(p)!, [])
      }),
    )
    for (const w of watches) w.close()
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) {
      // Landed bytes are left for Carcosa to verify and report (its reconciliation webhook); a multipart
      // upload with a resume store stays resumable until it expires; anything else is aborted in Carcosa now.
      const unfinished = [...fresh.values(), ...[...saved.values()].map((s) => s.upload)].filter((u) => !landed.has(u.uploadId))
      await Promise.all(
        unfinished
          .filter((u) => !(store && u.method === 'MULTIPART'))
          .map((u) => call({ slug, actionType: 'abort' }, { uploadId: u.uploadId, token: u.token }, headers).catch(() => {})),
      )
      throw failed.reason instanceof Error ? failed.reason : new CarcosaError({ code: 'INTERNAL_SERVER_ERROR', message: String(failed.reason) })
    }
    return results.map((r) => (r as PromiseFulfilledResult<UploadedFile<inferServerData<TRouter, TSlug>>>).value)
  }

  return { uploadFiles, routeConfig }
}
