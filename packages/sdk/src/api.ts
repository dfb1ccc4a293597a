import type { ResumeStore } from './client/resume-store.js'
import { CarcosaError } from './errors.js'
import { abortError, carcosaRequest, type CarcosaConnection, type RequestOptions } from './http.js'
import { multipartFormStream, normalizeSource, type UploadSource } from './sources.js'
import { transferFile } from './transfer.js'
import type {
  CarcosaFile,
  CompletedPart,
  InitUploadResult,
  Page,
  PageOptions,
  RealtimeGrant,
  SignedPart,
  Tenant,
  TransformParams,
  TransformPreset,
} from './types.js'

export interface CarcosaApiOptions extends Partial<CarcosaConnection> {
  /** Uploads larger than this go multipart (parallel, retried parts); default 100 MiB, as Carcosa decides anyway above that. */
  multipartThreshold?: number
}

export interface InitUploadOptions {
  fileName: string
  /** A tenant's slug, instead of tenantId. */
  tenantSlug?: string
  contentType: string
  size: number
  tenantId?: string
  multipart?: boolean
  /** JSON stored with the upload and handed back at completion (at most 16 KiB). */
  metadata?: Record<string, unknown>
  /** Where Carcosa POSTs a signed `upload.completed` webhook when the client never reports completion. */
  callbackUrl?: string
  /** The route's limits, checked by Carcosa at init and again at completion. */
  route?: { slug: string; maxFileSize?: number; allowedTypes?: string[] }
  projectId?: string
}

/** What completing an upload answers: the verified file. */
export interface CompletedUpload {
  file: CarcosaFile
}

/**
 * The state of an upload's completion callback, kept by Carcosa so `onUploadComplete` runs once
 * however many reports (client, webhook, retries) arrive: `claimed` means run it now and settle;
 * `done` carries what it returned; `busy` means another report holds the claim.
 */
export type CallbackClaim = {
  uploadId: string
  routeSlug: string | null
  metadata: Record<string, unknown> | null
  file: CarcosaFile
} & (
  | { state: 'claimed'; claimId: string; leaseExpiresAt: string }
  | { state: 'done'; serverData: unknown }
  | { state: 'busy'; leaseExpiresAt: string }
)

export interface UploadOptions {
  tenantId?: string
  /** A tenant's slug, instead of tenantId (direct uploads only: a stream of unknown size needs tenantId). */
  tenantSlug?: string
  metadata?: Record<string, unknown>
  signal?: AbortSignal
  /** Bytes sent of each file and in total. */
  onProgress?: (event: { name: string; loaded: number; total: number | null }) => void
  /**
   * Keeps multipart uploads resumable: the started upload and its parts are saved after each part
   * under `resumeKey(file)`, and a later call with the same key continues from the saved parts. An
   * interrupted upload (aborted signal, network failure) is then left in Carcosa until it expires,
   * not aborted. In Node, back it with a file so a new process can resume.
   */
  resumeStore?: ResumeStore<InitUploadResult>
  /** Names a file's saved state; a file without a key (undefined) is not resumable. Required with resumeStore. */
  resumeKey?: (file: { name: string; size: number; source: UploadSource }) => string | undefined
  /** Parts of one multipart file in flight at once (default 4). */
  partConcurrency?: number
}

export type UploadResult = { data: CarcosaFile; error: null } | { data: null; error: CarcosaError }

export interface FileFilters {
  tenantId?: string
  /** `image/png`, or a family such as `image/*`. */
  contentType?: string
  namePrefix?: string
}

export interface SignImageUrlOptions {
  /** Seconds the URL works (60 to a year; default an hour). */
  expiresIn?: number
}

const MIB = 1024 * 1024
/** URLs Carcosa signs in one call (POST /api/v1/transforms/sign/batch). */
const MAX_SIGNED_PER_CALL = 100

async function* pages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, cursor?: string): AsyncGenerator<T> {
  let next: string | null | undefined = cursor
  do {
    const page = await fetchPage(next ?? undefined)
    yield* page.items
    next = page.nextCursor
  } while (next)
}

const env = (name: string) => (typeof process !== 'undefined' ? process.env?.[name] : undefined)

/**
 * Carcosa's REST API for your server, with a project API key: uploads from Node (Blob, File or a
 * stream), uploads by URL, files, signed URLs, tenants, presets. Never use it in a browser: the key
 * would leak. Reads CARCOSA_API_KEY and CARCOSA_URL when not given.
 */
export class CarcosaApi {
  readonly connection: CarcosaConnection
  readonly multipartThreshold: number

  constructor(options: CarcosaApiOptions = {}) {
    const apiKey = options.apiKey ?? env('CARCOSA_API_KEY')
    const baseUrl = options.baseUrl ?? env('CARCOSA_URL')
    if (!apiKey) throw new CarcosaError({ code: 'UNAUTHORIZED', message: 'No API key: pass apiKey or set CARCOSA_API_KEY' })
    if (!baseUrl)
      throw new CarcosaError({
        code: 'BAD_REQUEST',
        message: 'No Carcosa URL: pass baseUrl or set CARCOSA_URL (e.g. https://media.example.com)',
      })
    this.connection = { apiKey, baseUrl, retry: options.retry, fetch: options.fetch }
    this.multipartThreshold = options.multipartThreshold ?? 100 * MIB
  }

  /** A raw call to any endpoint of the REST API (same authentication, errors and retries). */
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return carcosaRequest<T>(this.connection, method, path, options)
  }

  // --- uploads -------------------------------------------------------------------------------

  /** Starts a direct-to-bucket upload (a signed PUT or a multipart upload). */
  initUpload(input: InitUploadOptions, signal?: AbortSignal): Promise<InitUploadResult> {
    return this.request('POST', '/api/v1/uploads/init', { body: input, signal })
  }

  signUploadParts(uploadId: string, partNumbers: number[], signal?: AbortSignal): Promise<{ parts: SignedPart[] }> {
    return this.request('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/parts`, { body: { partNumbers }, signal })
  }

  /** Verifies the object (size, type, project and route rules) and makes it a file; completing again answers the same file. */
  completeUpload(uploadId: string, parts?: CompletedPart[], signal?: AbortSignal): Promise<CompletedUpload> {
    return this.request('POST', '/api/v1/uploads/complete', { body: { uploadId, ...(parts ? { parts } : {}) }, signal })
  }

  abortUpload(uploadId: string, signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/abort`, { signal })
  }

  /** Claims the right to run the completion callback of a completed upload (see CallbackClaim). */
  claimUploadCallback(uploadId: string, signal?: AbortSignal): Promise<CallbackClaim> {
    return this.request('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/callback/claim`, { signal })
  }

  /** Settles a claim: `done` stores serverData for every later report; `failed` releases the claim for a retry. */
  settleUploadCallback(
    uploadId: string,
    settlement: { claimId: string; outcome: 'done'; serverData: unknown } | { claimId: string; outcome: 'failed' },
  ): Promise<{ state: string }> {
    return this.request('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/callback/settle`, { body: settlement })
  }

  getUploadStatus(
    uploadId: string,
    signal?: AbortSignal,
  ): Promise<{ uploadId: string; status: string; file: CarcosaFile | null; failureReason: string | null }> {
    return this.request('GET', `/api/v1/uploads/${encodeURIComponent(uploadId)}/status`, { signal })
  }

  /**
   * Uploads files from your server. Blobs and Files (and streams of known `size`) go straight to the
   * bucket through signed URLs, large ones in parallel parts; a stream of unknown size streams
   * through Carcosa. One result per file: `{ data }` or `{ error }`, never a throw for one bad file.
   */
  uploadFiles(files: UploadSource, options?: UploadOptions): Promise<UploadResult>
  uploadFiles(files: UploadSource[], options?: UploadOptions): Promise<UploadResult[]>
  async uploadFiles(files: UploadSource | UploadSource[], options: UploadOptions = {}): Promise<UploadResult | UploadResult[]> {
    const list = Array.isArray(files) ? files : [files]
    const results: UploadResult[] = []
    for (const source of list) {
      try {
        results.push({ data: await this.uploadOne(source, options), error: null })
      } catch (error) {
        if (error instanceof CarcosaError && error.code === 'ABORTED') throw error
        // Aborting can surface as another error (a body read cut short): it is still an abort.
        if (options.signal?.aborted) throw abortError(options.signal)
        results.push({
          data: null,
          error:
            error instanceof CarcosaError
              ? error
              : new CarcosaError({ code: 'INTERNAL_SERVER_ERROR', message: String((error as Error).message ?? error), cause: error }),
        })
      }
    }
    return Array.isArray(files) ? results : results[0]!
  }

  private async uploadOne(source: UploadSource, options: UploadOptions): Promise<CarcosaFile> {
    const file = normalizeSource(source)
    const progress = (loaded: number) => options.onProgress?.({ name: file.name, loaded, total: file.size })
    if (file.size === null || (!file.blob && file.size > this.multipartThreshold)) {
      // Unknown length (or too long for one PUT from a stream): Carcosa streams it to the bucket in bounded parts.
      const { body, contentType } = multipartFormStream(
        { ...(options.tenantId ? { tenantId: options.tenantId } : {}), ...(file.size !== null ? { size: String(file.size) } : {}) },
        { name: file.name, type: file.type, stream: countBytes(file.stream!(), progress) },
      )
      const { file: stored } = await this.request<{ file: CarcosaFile }>('POST', '/api/v1/files/upload', {
        body,
        headers: { 'Content-Type': contentType },
        signal: options.signal,
      })
      return stored
    }
    const size = file.size
    const key = file.blob && options.resumeStore ? options.resumeKey?.({ name: file.name, size, source }) : undefined
    const store = key ? options.resumeStore : undefined
    const start = () =>
      this.initUpload(
        {
          fileName: file.name,
          contentType: file.type,
          size,
          tenantId: options.tenantId,
          tenantSlug: options.tenantId ? undefined : options.tenantSlug,
          metadata: options.metadata,
          multipart: size > this.multipartThreshold,
        },
        options.signal,
      )
    const send = async (started: InitUploadResult, done: CompletedPart[]) => {
      const resumable = store && started.method === 'MULTIPART'
      if (resumable && done.length === 0) await store.set(key!, { upload: started, parts: [], savedAt: Date.now() })
      try {
        const body = file.blob ?? { stream: file.stream!(), size }
        const parts = await transferFile(body, started, {
          signParts: async (numbers) => (await this.signUploadParts(started.uploadId, numbers, options.signal)).parts,
          onProgress: progress,
          signal: options.signal,
          done,
          concurrency: options.partConcurrency,
          onPartDone: resumable ? (all) => store.set(key!, { upload: started, parts: all, savedAt: Date.now() }) : undefined,
        })
        const completed = (await this.completeUpload(started.uploadId, parts ?? undefined, options.signal)).file
        if (resumable) await store.delete(key!)
        return completed
      } catch (error) {
        const interrupted =
          options.signal?.aborted || (error instanceof CarcosaError && (error.code === 'ABORTED' || error.code === 'NETWORK_ERROR'))
        // A resumable upload that was interrupted stays in Carcosa (until it expires) for the next call.
        if (resumable && interrupted) throw error
        if (resumable) await store.delete(key!)
        // Leave nothing pending behind a failed transfer (best effort: the sweeper gets the rest).
        if (!(error instanceof CarcosaError && ['UNPROCESSABLE', 'TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].includes(error.code))) {
          await this.abortUpload(started.uploadId).catch(() => {})
        }
        throw error
      }
    }

    const saved = store ? await store.get(key!) : null
    // A saved upload continues while it has time left; one that is gone (expired, aborted, swept) starts afresh.
    if (saved && saved.upload.method === 'MULTIPART' && Date.parse(saved.upload.expiresAt) > Date.now() + 60_000) {
      try {
        return await send(saved.upload, saved.parts)
      } catch (error) {
        if (!(error instanceof CarcosaError && [404, 409, 410].includes(error.status))) throw error
      }
    } else if (saved) {
      await store!.delete(key!)
    }
    return send(await start(), [])
  }

  /** Carcosa fetches the URL itself (behind its SSRF guard and size limits) and stores it as a file. */
  uploadFileFromUrl(
    url: string | URL | { url: string | URL; name?: string },
    options: { tenantId?: string; metadata?: Record<string, unknown>; signal?: AbortSignal } = {},
  ): Promise<CarcosaFile> {
    const target = typeof url === 'string' || url instanceof URL ? { url: String(url) } : { url: String(url.url), name: url.name }
    return this.request<{ file: CarcosaFile }>('POST', '/api/v1/uploads/from-url', {
      body: { url: target.url, ...(target.name ? { fileName: target.name } : {}), tenantId: options.tenantId, metadata: options.metadata },
      signal: options.signal,
    }).then((answer) => answer.file)
  }

  // --- files ---------------------------------------------------------------------------------

  /** One page of the project's files. */
  listFiles(options: PageOptions & FileFilters = {}): Promise<Page<CarcosaFile>> {
    return this.request('GET', '/api/v1/files', { query: { ...options } })
  }

  /** Every file, page after page: `for await (const file of api.iterateFiles()) ...`. */
  iterateFiles(filters: FileFilters & { limit?: number } = {}): AsyncGenerator<CarcosaFile> {
    return pages((cursor) => this.listFiles({ ...filters, limit: filters.limit ?? 100, cursor }))
  }

  getFile(id: string): Promise<CarcosaFile> {
    return this.request('GET', `/api/v1/files/${encodeURIComponent(id)}`)
  }

  /** Deletes up to 100 files; ids that do not exist (or are not yours) come back in `notFound`. */
  async deleteFiles(ids: string | string[]): Promise<{ deleted: string[]; notFound: string[] }> {
    const list = Array.isArray(ids) ? ids : [ids]
    try {
      return await this.request('POST', '/api/v1/files/bulk-delete', { body: { ids: list } })
    } catch (error) {
      if (error instanceof CarcosaError && error.status === 404) return { deleted: [], notFound: [...new Set(list)] }
      throw error
    }
  }

  /** A short-lived signed URL for the file's bytes. */
  getDownloadUrl(id: string): Promise<{ url: string; expiresAt: string }> {
    return this.request('GET', `/api/v1/files/${encodeURIComponent(id)}/download`, { query: { redirect: 'false' } })
  }

  /** A signed, expiring image transform URL for a file path (`{ w: 300, format: 'webp' }`, or `{ preset: 'thumb' }`). */
  async signImageUrl(path: string, params: TransformParams = {}, options: SignImageUrlOptions = {}): Promise<string> {
    const { url } = await this.request<{ url: string }>('POST', '/api/v1/transforms/sign', {
      body: { path, params, expiresIn: options.expiresIn },
    })
    return url
  }

  /**
   * Signed, expiring transform URLs for many paths of the project in one call per 100 (a
   * responsive image's widths, a page of images), in the order given.
   */
  async signImageUrls(images: readonly { path: string; params?: TransformParams }[], options: SignImageUrlOptions = {}): Promise<string[]> {
    const urls: string[] = []
    for (let start = 0; start < images.length; start += MAX_SIGNED_PER_CALL) {
      const items = images
        .slice(start, start + MAX_SIGNED_PER_CALL)
        .map(({ path, params }) => ({ path, params: params ?? {}, expiresIn: options.expiresIn }))
      const answer = await this.request<{ items: { url: string }[] }>('POST', '/api/v1/transforms/sign/batch', { body: { items } })
      urls.push(...answer.items.map((item) => item.url))
    }
    return urls
  }

  // --- realtime ------------------------------------------------------------------------------

  /**
   * A short-lived token for a browser's WebSocket at `/api/v1/realtime?token=` (needs files:read),
   * scoped to the project or to some of its uploads (at most 20); `url` is that endpoint.
   */
  async createRealtimeToken(
    options: { uploadIds?: string[]; projectId?: string } = {},
  ): Promise<RealtimeGrant & { projectId: string; uploadIds: string[] | null }> {
    const answer = await this.request<{ token: string; projectId: string; uploadIds: string[] | null; expiresAt: string }>(
      'POST',
      '/api/v1/realtime/tokens',
      {
        body: options,
      },
    )
    const url = new URL('/api/v1/realtime', this.connection.baseUrl)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    return { ...answer, url: url.toString() }
  }

  // --- tenants and presets -------------------------------------------------------------------

  readonly tenants = {
    list: (options: PageOptions = {}): Promise<Page<Tenant>> => this.request('GET', '/api/v1/tenants', { query: { ...options } }),
    iterate: (): AsyncGenerator<Tenant> => pages((cursor) => this.tenants.list({ limit: 100, cursor })),
    create: (input: { slug: string; name: string; metadata?: Record<string, unknown> }): Promise<Tenant> =>
      this.request('POST', '/api/v1/tenants', { body: input }),
    get: (id: string): Promise<Tenant> => this.request('GET', `/api/v1/tenants/${encodeURIComponent(id)}`),
    update: (id: string, input: { name?: string; metadata?: Record<string, unknown> }): Promise<Tenant> =>
      this.request('PUT', `/api/v1/tenants/${encodeURIComponent(id)}`, { body: input }),
    delete: (id: string): Promise<void> => this.request('DELETE', `/api/v1/tenants/${encodeURIComponent(id)}`),
  }

  readonly presets = {
    list: (options: PageOptions = {}): Promise<Page<TransformPreset>> => this.request('GET', '/api/v1/transforms', { query: { ...options } }),
    create: (input: { name: string; params: TransformParams }): Promise<TransformPreset> =>
      this.request('POST', '/api/v1/transforms', { body: input }),
    get: (id: string): Promise<TransformPreset> => this.request('GET', `/api/v1/transforms/${encodeURIComponent(id)}`),
    update: (id: string, input: { name?: string; params?: TransformParams }): Promise<TransformPreset> =>
      this.request('PUT', `/api/v1/transforms/${encodeURIComponent(id)}`, { body: input }),
    delete: (id: string): Promise<void> => this.request('DELETE', `/api/v1/transforms/${encodeURIComponent(id)}`),
  }
}

function countBytes(stream: ReadableStream<Uint8Array>, onLoaded: (loaded: number) => void): ReadableStream<Uint8Array> {
  let loaded = 0
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onLoaded((loaded += chunk.byteLength))
        controller.enqueue(chunk)
      },
    }),
  )
}
