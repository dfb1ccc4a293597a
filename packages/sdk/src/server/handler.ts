import { CarcosaApi } from '../api.js'
import { bytesToBase64Url, constantTimeEqual, hmacSha256, textBytes } from '../crypto.js'
import { CarcosaError } from '../errors.js'
import { sleep } from '../http.js'
import type { CarcosaFile, CompletedFile, CompletedPart, PresignedUpload, RealtimeGrant, StartedUploads, UploadedFile } from '../types.js'
import { uploadCallbackSecret, verifyWebhook } from '../webhooks.js'
import { routesOf } from './builder.js'
import { parseImagesToSign, sharedImageSigner, type ImageSigner, type ImageToSign } from './images.js'
import { checkFiles, resolveLimits, routeConfigEntry, type ResolvedLimit } from './limits.js'
import type { AnyFileRoute, FileRouter, TenantChoice, UploadFileInfo, UploadRouter } from './types.js'

export interface RouteHandlerConfig {
  /** A project API key with files:read and files:write (default: CARCOSA_API_KEY). */
  apiKey?: string
  /** Carcosa's origin (default: CARCOSA_URL). */
  baseUrl?: string
  /**
   * This handler's public URL, where Carcosa sends the signed `upload.completed` webhook when a
   * client never reports completion. Default: the URL the upload request came in on; `false` turns
   * the webhook off (completion then depends on the client's report).
   */
  callbackUrl?: string | false
  /** How long a duplicate report waits for another one's `onUploadComplete` (default 30 s). */
  callbackWaitMs?: number
  /** Where failures of your callbacks are logged (default console). */
  logger?: Pick<Console, 'error'>
  /** Another CarcosaApi (shared connection, custom fetch). */
  api?: CarcosaApi
  /**
   * Offer browsers a short-lived realtime token for the uploads of each call, so they can show
   * Carcosa's server phases (verifying, done) live. Needs files:read on the API key; a failed mint
   * is logged and the upload goes on without it. Default true.
   */
  realtime?: boolean
  /**
   * Signs image transform URLs for browsers (`POST ?actionType=sign-images`, used by
   * `@carcosa/react`'s CarcosaImage). Off unless given: `authorize` decides, per request, whether
   * these paths may be shown to this visitor. Needs transforms:execute on the API key.
   */
  images?: {
    authorize: (args: { req: unknown; paths: string[] }) => boolean | Promise<boolean>
    /** Seconds a signed URL works (default an hour; URLs are reused for the first half). */
    expiresIn?: number
  }
}

export interface RouteHandlerOptions {
  router: FileRouter | UploadRouter<FileRouter>
  config?: RouteHandlerConfig
}

/** What an adapter passes through to the middleware as `req` (the fetch Request by default). */
export interface HandlerContext {
  req?: unknown
}

export type FetchRouteHandler = (request: Request, context?: HandlerContext) => Promise<Response>

const MAX_BODY_BYTES = 1024 * 1024
const MAX_FILES = 100
/** Uploads one realtime token may name (Carcosa's bound). */
const MAX_REALTIME_UPLOADS = 20

const json = (data: unknown, status = 200) =>
  new Response(JSON.stringify(data), { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } })

const problem = (error: CarcosaError) =>
  new Response(JSON.stringify(error.toProblem()), {
    status: error.status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
  })

const bad = (message: string) => new CarcosaError({ code: 'BAD_REQUEST', message })

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > MAX_BODY_BYTES) throw new CarcosaError({ code: 'TOO_LARGE', message: 'The request body is larger than 1 MiB' })
  const text = await request.text()
  if (text.length > MAX_BODY_BYTES) throw new CarcosaError({ code: 'TOO_LARGE', message: 'The request body is larger than 1 MiB' })
  let body: unknown
  try {
    body = text ? JSON.parse(text) : {}
  } catch {
    throw bad('The body is not JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The body must be a JSON object')
  return body as Record<string, unknown>
}

function parseFiles(value: unknown): UploadFileInfo[] {
  if (!Array.isArray(value) || value.length === 0) throw bad('files must be a non-empty list of { name, size, type }')
  if (value.length > MAX_FILES) throw bad(`At most ${MAX_FILES} files per upload`)
  return value.map((file, i) => {
    const { name, size, type } = (file ?? {}) as Record<string, unknown>
    if (typeof name !== 'string' || name.length === 0 || name.length > 1024) throw bad(`files[${i}].name must be 1-1024 characters`)
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`files[${i}].size must be a whole number of bytes`)
    if (typeof type !== 'string' || type.length > 255) throw bad(`files[${i}].type must be a media type`)
    return { name, size, type: type || 'application/octet-stream' }
  })
}

const stringField = (body: Record<string, unknown>, name: string) => {
  const value = body[name]
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) throw bad(`${name} is required`)
  return value
}

function parseParts(value: unknown): CompletedPart[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length > 10_000) throw bad('parts must be a list of { partNumber, etag }')
  return value.map((part) => {
    const { partNumber, etag } = (part ?? {}) as Record<string, unknown>
    if (typeof partNumber !== 'number' || !Number.isInteger(partNumber) || typeof etag !== 'string')
      throw bad('parts must be a list of { partNumber, etag }')
    return { partNumber, etag }
  })
}

function tenantFields(choice: TenantChoice): { tenantId?: string; tenantSlug?: string } {
  if (!choice) return {}
  if (typeof choice === 'string') return { tenantSlug: choice }
  return 'id' in choice ? { tenantId: choice.id } : { tenantSlug: choice.slug }
}

/** Problems from a validator, as `errors` per field. */
function inputError(issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }>): CarcosaError {
  const errors: Record<string, string[]> = {}
  for (const issue of issues) {
    const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.') || 'input'
    ;(errors[path] ??= []).push(issue.message)
  }
  const detail = `The input is not valid: ${Object.entries(errors)
    .map(([path, messages]) => `${path}: ${messages.join('; ')}`)
    .join('. ')}`
  return new CarcosaError({
    code: 'BAD_REQUEST',
    message: detail,
    problem: { type: 'https://carcosa.dev/problems/invalid-input', title: 'Invalid input', status: 400, detail, errors },
  })
}

/** A thrown middleware error: a CarcosaError keeps its status and message; anything else refuses with 403 and says no more. */
function refusal(error: unknown): CarcosaError {
  if (error instanceof CarcosaError) return error
  return new CarcosaError({ code: 'FORBIDDEN', message: 'The upload was refused', cause: error })
}

/**
 * The fetch-standard route handler: `GET` answers the routes' limits; `POST ?slug=&actionType=`
 * drives an upload (`upload`, `multipart-sign`, `complete`, `abort`); a POST carrying Standard
 * Webhooks headers is Carcosa's completion webhook. With `images` configured, `POST
 * ?actionType=sign-images` signs transform URLs and `GET ?actionType=image` redirects to one. `onUploadComplete` runs once per verified file:
 * the exactly-once state lives in Carcosa (a claim per upload), not in this process.
 */
export function createRouteHandler(options: RouteHandlerOptions): FetchRouteHandler {
  const config = options.config ?? {}
  const routes = routesOf(options.router)
  const limits = new Map<string, ResolvedLimit[]>(Object.entries(routes).map(([slug, route]) => [slug, resolveLimits(route._def.config)]))
  let api: CarcosaApi | undefined = config.api
  const carcosa = () => (api ??= new CarcosaApi({ apiKey: config.apiKey, baseUrl: config.baseUrl }))
  const logger = config.logger ?? console
  let signer: ImageSigner | undefined
  let realtimeRefused = false
  /** A realtime token for these uploads, or nothing (off, too many uploads, or the key may not mint one). */
  async function realtimeGrant(uploadIds: string[]): Promise<RealtimeGrant | undefined> {
    if (config.realtime === false || realtimeRefused || uploadIds.length > MAX_REALTIME_UPLOADS) return undefined
    try {
      const { url, token, expiresAt } = await carcosa().createRealtimeToken({ uploadIds })
      return { url, token, expiresAt }
    } catch (error) {
      // A key without files:read cannot mint: say so once, and stop asking.
      if (error instanceof CarcosaError && error.status === 403) realtimeRefused = true
      logger.error('No realtime token for these uploads; they go on without live phases', error instanceof Error ? error.message : error)
      return undefined
    }
  }

  /** Signs these images' URLs when `images.authorize` lets this request see their paths. */
  async function signAuthorized(request: Request, context: HandlerContext, images: ImageToSign[]): Promise<string[]> {
    if (!config.images) throw new CarcosaError({ code: 'NOT_FOUND', message: 'This handler does not sign image URLs (configure `images`)' })
    const paths = [...new Set(images.map((image) => image.path))]
    let allowed: boolean
    try {
      allowed = await config.images.authorize({ req: context.req ?? request, paths })
    } catch (error) {
      throw refusal(error)
    }
    if (!allowed) throw new CarcosaError({ code: 'FORBIDDEN', message: 'These images may not be shown to you' })
    signer ??= sharedImageSigner(carcosa(), config.images.expiresIn)
    return signer.sign(images)
  }

  /** `GET ?actionType=image&path=&w=...`: a redirect to the signed URL, for loaders that must answer synchronously (next/image). */
  async function imageRedirect(request: Request, context: HandlerContext, query: URLSearchParams): Promise<Response> {
    const params: Record<string, string> = {}
    for (const [name, value] of query) if (name !== 'actionType' && name !== 'path') params[name] = value
    const [image] = parseImagesToSign([{ path: query.get('path'), params }])
    const [url] = await signAuthorized(request, context, [image!])
    // Private: the answer depends on who asked. Cached for a quarter of the URL's life.
    const maxAge = Math.floor((config.images?.expiresIn ?? 3600) / 4)
    return new Response(null, { status: 302, headers: { Location: url!, 'Cache-Control': `private, max-age=${maxAge}` } })
  }
  let tokenKey: Promise<Uint8Array> | undefined
  const tokenFor = async (uploadId: string, slug: string) => {
    tokenKey ??= hmacSha256(textBytes(carcosa().connection.apiKey), 'carcosa-upload-token-v1')
    return bytesToBase64Url(await hmacSha256(await tokenKey, `${uploadId}.${slug}`))
  }
  const requireToken = async (body: Record<string, unknown>, slug: string) => {
    const uploadId = stringField(body, 'uploadId')
    const token = stringField(body, 'token')
    if (!constantTimeEqual(textBytes(await tokenFor(uploadId, slug)), textBytes(token))) {
      throw new CarcosaError({ code: 'NOT_FOUND', message: 'There is no such upload on this route' })
    }
    return uploadId
  }
  const routeFor = (slug: string | null): [string, AnyFileRoute] => {
    const route = slug ? routes[slug] : undefined
    if (!slug || !route)
      throw new CarcosaError({ code: 'NOT_FOUND', message: `There is no upload route ${slug ? `"${slug}"` : '(give ?slug=)'}` })
    return [slug, route]
  }

  async function completedFile(file: CarcosaFile, uploadId: string): Promise<CompletedFile> {
    const { url } = await carcosa().getDownloadUrl(file.id)
    return { key: file.id, name: file.name, size: file.size, type: file.contentType, path: file.path, tenantId: file.tenantId, url, uploadId }
  }

  /** Runs the route's onUploadComplete unless it ran already (or is running elsewhere); answers serverData. */
  async function runCallback(slug: string, route: AnyFileRoute, uploadId: string): Promise<{ file: CompletedFile; serverData: unknown }> {
    const deadline = Date.now() + (config.callbackWaitMs ?? 30_000)
    for (;;) {
      const claim = await carcosa().claimUploadCallback(uploadId)
      if (claim.routeSlug !== null && claim.routeSlug !== slug)
        throw new CarcosaError({ code: 'NOT_FOUND', message: 'There is no such upload on this route' })
      const file = await completedFile(claim.file, uploadId)
      if (claim.state === 'done') return { file, serverData: claim.serverData ?? null }
      if (claim.state === 'claimed') {
        let serverData: unknown
        try {
          serverData = (await route._def.onUploadComplete({ metadata: claim.metadata ?? {}, file })) ?? null
        } catch (error) {
          logger.error('onUploadComplete failed; the claim is released so a later report runs it again', error)
          await carcosa()
            .settleUploadCallback(uploadId, { claimId: claim.claimId, outcome: 'failed' })
            .catch(() => {})
          throw new CarcosaError({
            code: 'INTERNAL_SERVER_ERROR',
            message: 'The upload was stored, but the server could not finish processing it',
            cause: error,
          })
        }
        await carcosa().settleUploadCallback(uploadId, { claimId: claim.claimId, outcome: 'done', serverData })
        return { file, serverData }
      }
      if (Date.now() > deadline)
        throw new CarcosaError({ code: 'SERVICE_UNAVAILABLE', message: 'The upload is still being processed; ask again shortly' })
      await sleep(250)
    }
  }

  async function upload(request: Request, slug: string, route: AnyFileRoute, context: HandlerContext): Promise<Response> {
    const body = await readJson(request)
    const files = parseFiles(body.files)
    const matched = checkFiles(files, limits.get(slug)!)
    let input: unknown = body.input
    if (route._def.inputSchema) {
      const result = await route._def.inputSchema['~standard'].validate(body.input)
      if (result.issues) throw inputError(result.issues)
      input = result.value
    }
    let metadata: Record<string, unknown>
    try {
      metadata = ((await route._def.middleware?.({ req: context.req ?? request, files, input })) ?? {}) as Record<string, unknown>
    } catch (error) {
      throw refusal(error)
    }
    const tenant = tenantFields(await route._def.config.tenant?.({ req: context.req ?? request, metadata }))
    const multipartFlags = Array.isArray(body.multipart) ? body.multipart : []
    const callbackUrl =
      config.callbackUrl === false ? undefined : (config.callbackUrl ?? `${new URL(request.url).origin}${new URL(request.url).pathname}`)
    const started: PresignedUpload[] = []
    try {
      for (const [i, file] of files.entries()) {
        const limit = matched[i]!
        const init = await carcosa().initUpload({
          fileName: file.name,
          contentType: file.type,
          size: file.size,
          multipart: multipartFlags[i] === true,
          ...tenant,
          metadata,
          callbackUrl,
          route: { slug, maxFileSize: limit.maxFileSize, allowedTypes: [limit.pattern] },
        })
        started.push({ ...init, token: await tokenFor(init.uploadId, slug), name: init.name, size: file.size, type: file.type })
      }
    } catch (error) {
      await Promise.all(
        started.map((s) =>
          carcosa()
            .abortUpload(s.uploadId)
            .catch(() => {}),
        ),
      )
      throw error
    }
    const realtime = await realtimeGrant(started.map((s) => s.uploadId))
    const answer: StartedUploads = { uploads: started, ...(realtime ? { realtime } : {}) }
    return json(answer)
  }

  async function complete(request: Request, slug: string, route: AnyFileRoute): Promise<Response> {
    const body = await readJson(request)
    const uploadId = await requireToken(body, slug)
    try {
      await carcosa().completeUpload(uploadId, parseParts(body.parts))
    } catch (error) {
      if (error instanceof CarcosaError && [413, 415, 422].includes(error.status)) {
        await Promise.resolve(route._def.onUploadError?.({ error, fileKey: uploadId })).catch((e) => logger.error('onUploadError failed', e))
      }
      throw error
    }
    const { file, serverData } = await runCallback(slug, route, uploadId)
    const result: UploadedFile = {
      key: file.key,
      name: file.name,
      size: file.size,
      type: file.type,
      path: file.path,
      tenantId: file.tenantId,
      url: file.url,
      serverData,
    }
    return json(result)
  }

  async function callback(request: Request): Promise<Response> {
    const secret = await uploadCallbackSecret(carcosa().connection.apiKey)
    const { payload } = await verifyWebhook<{ type?: string; data?: { uploadId?: string; routeSlug?: string | null } }>(request, secret)
    if (payload.type !== 'upload.completed') return json({ ignored: payload.type ?? null })
    const uploadId = payload.data?.uploadId
    const slug = payload.data?.routeSlug ?? null
    if (!uploadId) throw bad('The webhook names no upload')
    const [, route] = routeFor(slug)
    const { serverData } = await runCallback(slug!, route, uploadId)
    return json({ uploadId, delivered: true, serverData })
  }

  return async (request, context = {}) => {
    try {
      const url = new URL(request.url)
      if ((request.method === 'GET' || request.method === 'HEAD') && url.searchParams.get('actionType') === 'image') {
        return await imageRedirect(request, context, url.searchParams)
      }
      if (request.method === 'GET' || request.method === 'HEAD') {
        return json([...limits].map(([slug, routeLimits]) => routeConfigEntry(slug, routeLimits)))
      }
      if (request.method !== 'POST') {
        const response = problem(new CarcosaError({ code: 'METHOD_NOT_ALLOWED', message: 'Use GET for the routes or POST to upload' }))
        response.headers.set('Allow', 'GET, HEAD, POST')
        return response
      }
      const actionType = url.searchParams.get('actionType')
      if (request.headers.has('webhook-signature') && (actionType === null || actionType === 'callback')) return await callback(request)
      if (actionType === 'sign-images')
        return json({ urls: await signAuthorized(request, context, parseImagesToSign((await readJson(request)).images)) })
      const [slug, route] = routeFor(url.searchParams.get('slug'))
      switch (actionType) {
        case 'upload':
          return await upload(request, slug, route, context)
        case 'multipart-sign': {
          const body = await readJson(request)
          const uploadId = await requireToken(body, slug)
          const numbers = body.partNumbers
          if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > 100 || !numbers.every((n) => Number.isInteger(n) && n >= 1)) {
            throw bad('partNumbers must be a list of 1-100 part numbers')
          }
          return json(await carcosa().signUploadParts(uploadId, numbers as number[]))
        }
        case 'complete':
          return await complete(request, slug, route)
        case 'abort': {
          const uploadId = await requireToken(await readJson(request), slug)
          await carcosa().abortUpload(uploadId)
          return json({ uploadId, aborted: true })
        }
        default:
          throw bad('actionType must be upload, multipart-sign, complete, abort or sign-images')
      }
    } catch (error) {
      if (error instanceof CarcosaError) {
        // Carcosa refusing the API key is the server's fault, not the browser's: never pass a 401 on as is.
        if (error.status === 401 && error.code !== 'INVALID_WEBHOOK') {
          logger.error("Carcosa refused the route handler's API key", error.message)
          return problem(new CarcosaError({ code: 'INTERNAL_SERVER_ERROR', message: 'The upload service is misconfigured' }))
        }
        return problem(error)
      }
      logger.error('The upload route handler failed', error)
      return problem(new CarcosaError({ code: 'INTERNAL_SERVER_ERROR', message: 'The upload could not be handled' }))
    }
  }
}
