import type { z } from 'zod'
import type { Actor } from '~/services/actor'
import { hasPermission } from '~/services/api-keys/permissions'
import { AppError } from '~/utils/errors.server'
import { findUnsafeInput } from '~/utils/input-guards'
import { requestMetaOf, type RequestMeta } from '~/utils/request.server'
import { authenticateBearer } from './authenticate.server'
import { JsonText, type Operation } from './operation.server'
import { answerResponse, problemAnswer, problemAnswerFromError, type TextAnswer } from './problem.server'
import { applyRateLimit } from './rate-limit.server'
import { recordRefusedCredential } from '~/services/audit/refused-credential.server'
import { meterApiCall } from '~/services/usage/meter.server'
import { transformImage, type Credential } from '~/services/transforms/transform.server'
import { routeApiPath } from './registry.server'

/** JSON bodies of management calls are small; file bytes never come through here. */
export const MAX_JSON_BODY_BYTES = 256 * 1024

/** What the host knows of a call beyond the request itself. */
export interface ApiCallContext {
  requestId: string
  clientIp: string | null
}

/**
 * A call as a host hands it over: what the API reads itself (method, URL, headers), and the Fetch
 * Request, which the host builds only when something asks for it (a body to read, a handler that
 * streams an upload or reads the request): most calls never need it.
 */
export interface ApiCall {
  method: string
  url: URL
  header(name: string): string | null
  request(): Request
  /** The body's bytes as they arrive (JSON and text bodies are read from here, not through request()). */
  body(): AsyncIterable<Uint8Array> | null
}

/** Node's web streams are async iterables; the DOM typings do not say so. */
export const asyncIterable = (stream: ReadableStream<Uint8Array> | null) => stream as unknown as AsyncIterable<Uint8Array> | null

/** The call of a Fetch Request. */
export function callOfRequest(request: Request): ApiCall {
  return {
    method: request.method,
    url: new URL(request.url),
    header: (name) => request.headers.get(name),
    request: () => request,
    body: () => asyncIterable(request.body),
  }
}

/**
 * The one entry of the REST API (ADR 027): the host hands every request under /api/v1 here, outside
 * Remix. It finds the path's operations (404 problem otherwise), picks the one for the method (405 with
 * Allow otherwise), authenticates, rate-limits, validates params, query and body with the operation's
 * zod schemas, runs it, and answers JSON, or problem+json for every error. Answers are text the host
 * writes as it is, or a Response when a handler shapes its own (downloads, images, redirects).
 */
export async function answerApiCall(input: ApiCall, context: ApiCallContext): Promise<TextAnswer | Response> {
  const { url } = input
  const route = routeApiPath(url.pathname)
  if (!route) {
    return problemAnswer({
      status: 404,
      detail: `There is no API operation at ${url.pathname}; the operations are listed at /api/v1/openapi.json.`,
    })
  }
  if (route.kind === 'transform') return answerTransform(input, context, route.params)
  const call: { actor?: Actor | null; operation?: Operation } = {}
  const answer = await answerOperation(input, context, route.operations, route.params, call)
  // Usage counts the calls of a project's API keys (in memory; flushed in the background).
  if (call.actor?.type === 'api-key' && call.operation) meterApiCall(call.actor.projectId, call.operation.tier, answer.status)
  return answer
}

/** The same, as a Fetch Response (the in-process test client and the OpenAPI document's old address). */
export async function handleApiFetch(request: Request, context: ApiCallContext): Promise<Response> {
  return answerResponse(await answerApiCall(callOfRequest(request), context), request.method)
}

async function answerOperation(
  input: ApiCall,
  context: ApiCallContext,
  operations: Operation[],
  rawParams: Record<string, string | undefined>,
  call: { actor?: Actor | null; operation?: Operation },
): Promise<TextAnswer | Response> {
  const method = input.method === 'HEAD' ? 'GET' : input.method
  const operation = operations.find((candidate) => candidate.method === method)
  if (!operation) {
    const allow = [...new Set(operations.map((o) => o.method))].join(', ')
    return problemAnswer({ status: 405, detail: `${input.method} is not supported here; use ${allow}.` }, { Allow: allow })
  }
  call.operation = operation
  const meta = requestMetaOf(input.header('user-agent'), context)
  // Once the call is counted, every answer (errors included) tells the caller where it stands.
  let rateLimitHeaders: Record<string, string> | undefined
  try {
    let actor: Actor | null
    const refused: { token?: string | null } = {}
    try {
      actor = await authorize(operation, input.header('authorization'), meta, refused)
    } catch (error) {
      // A missing or bad credential counts against the caller's address: guessing tokens is throttled too.
      if (!(error instanceof AppError && error.code === 'UNAUTHENTICATED')) throw error
      const limited = await applyRateLimit(operation, null, meta)
      if (limited.refusal) return limited.refusal
      rateLimitHeaders = limited.headers
      if (refused.token !== undefined) await recordRefusedCredential(refused.token, meta, `${operation.method} ${operation.path}`)
      throw error
    }
    call.actor = actor
    const limited = await applyRateLimit(operation, actor, meta)
    if (limited.refusal) return limited.refusal
    rateLimitHeaders = limited.headers
    const { params, query, body } = await parseInput(operation, input, rawParams)
    const result = await operation.handler({
      actor: actor as never,
      params,
      query,
      body,
      url: input.url,
      get request() {
        return input.request()
      },
      meta,
    } as never)
    if (result instanceof Response) {
      // A handler that shapes its own response (health's 503) still reports the caller's limits.
      for (const name in limited.headers) if (!result.headers.has(name)) result.headers.set(name, limited.headers[name]!)
      return result
    }
    const headers: Record<string, string> = { ...limited.headers, 'cache-control': 'no-store' }
    if (operation.status === 204) return { status: 204, headers, body: null }
    // What the host has always sent (Express's res.set adds the charset to JSON types).
    headers['content-type'] = 'application/json; charset=utf-8'
    return { status: operation.status, headers, body: result instanceof JsonText ? result.text : JSON.stringify(result) }
  } catch (error) {
    const answer = problemAnswerFromError(error, context.requestId)
    if (rateLimitHeaders) Object.assign(answer.headers, rateLimitHeaders)
    return answer
  }
}

/**
 * GET /api/v1/transform/:projectId/<file path>?w=&h=&fit=&format=&quality=... (ADR 010): image bytes,
 * so it is not in the operation table; errors are problem+json all the same.
 */
async function answerTransform(
  input: ApiCall,
  context: ApiCallContext,
  params: { projectId: string; path: string },
): Promise<TextAnswer | Response> {
  if (input.method !== 'GET' && input.method !== 'HEAD') {
    return problemAnswer({ status: 405, detail: 'Transforms are fetched with GET (or HEAD).' }, { Allow: 'GET, HEAD' })
  }
  const meta = requestMetaOf(input.header('user-agent'), context)
  let refusedToken: string | null | undefined
  try {
    const credentials = await authenticateBearer(input.header('authorization'), meta)
    if (credentials.kind === 'invalid') refusedToken = credentials.token
    const credential: Credential =
      credentials.kind === 'valid' ? { kind: 'actor', actor: credentials.actor } : { kind: credentials.kind === 'missing' ? 'none' : 'invalid' }
    return await transformImage({ request: input.request(), projectId: params.projectId, path: params.path, credential })
  } catch (error) {
    // A signed URL ignores a bad bearer token; only a refusal because of it is recorded.
    if (refusedToken !== undefined && error instanceof AppError && error.code === 'UNAUTHENTICATED')
      await recordRefusedCredential(refusedToken, meta, 'GET /api/v1/transform')
    return problemAnswerFromError(error, context.requestId)
  }
}

async function authorize(
  operation: Operation,
  authorization: string | null,
  meta: RequestMeta,
  refused: { token?: string | null },
): Promise<Actor | null> {
  const credentials = await authenticateBearer(authorization, meta)
  if (operation.auth === 'none') return credentials.kind === 'valid' ? credentials.actor : null
  if (credentials.kind === 'missing') {
    throw new AppError('UNAUTHENTICATED', 'Send an API key or a user access token as `Authorization: Bearer <token>`.')
  }
  if (credentials.kind === 'invalid') {
    refused.token = credentials.token
    throw new AppError('UNAUTHENTICATED', 'The bearer token is invalid, expired or revoked.')
  }
  const { actor } = credentials
  if (actor.type === 'api-key') {
    if (operation.auth === 'user') {
      throw new AppError('FORBIDDEN', 'This operation needs a user access token: API keys reach only their own project.')
    }
    if (operation.permission && !hasPermission(actor.permissions, operation.permission)) {
      throw new AppError('FORBIDDEN', `This API key lacks the ${operation.permission} permission.`)
    }
  }
  return actor
}

async function parseInput(operation: Operation, input: ApiCall, rawParams: Record<string, string | undefined>) {
  const { url } = input
  const params = validate(operation.params, rawParams, 'path')
  const query = validate(operation.query, Object.fromEntries(url.searchParams), 'query')
  let body: unknown
  if (operation.body) {
    const type = input.header('content-type') ?? ''
    const limit = operation.maxBodyBytes ?? MAX_JSON_BODY_BYTES
    const { textBody } = operation
    if (textBody && type.toLowerCase().split(';')[0]!.trim() === textBody.contentType) {
      const text = await readLimited(input, limit)
      body = validate(operation.body, { ...Object.fromEntries(url.searchParams), [textBody.field]: text }, 'body')
      return { params, query, body }
    }
    if (!/^application\/json\b/i.test(type)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json${textBody ? ` or ${textBody.contentType}` : ''}.`)
    }
    const text = await readLimited(input, limit)
    let json: unknown
    try {
      json = text.length === 0 ? undefined : JSON.parse(text)
    } catch {
      throw new AppError('VALIDATION', 'The body is not valid JSON.')
    }
    body = validate(operation.body, json, 'body')
  }
  return { params, query, body }
}

function validate(schema: z.ZodType | undefined, value: unknown, where: 'path' | 'query' | 'body') {
  if (!schema) return undefined
  // Before the schema: nothing below (zod, Prisma, PostgreSQL, JSON.stringify) gets NUL, lone surrogates or hostile depth.
  const unsafe = findUnsafeInput(value)
  if (unsafe) {
    const field = unsafe.path || where
    throw new AppError(
      'VALIDATION',
      `The request's ${where === 'body' ? 'body' : `${where} parameters`} did not validate: ${field} ${unsafe.message}.`,
      {
        fieldErrors: { [field]: [unsafe.message] },
      },
    )
  }
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const errors: Record<string, string[]> = {}
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : where
    ;(errors[field] ??= []).push(issue.message)
  }
  throw new AppError('VALIDATION', `The request's ${where === 'body' ? 'body' : `${where} parameters`} did not validate.`, {
    fieldErrors: errors,
  })
}

/** How much of a refused body is read and dropped so the client hears the 413 instead of a reset. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024

/**
 * Reads and drops the rest of a refused body in the background: closing the connection while the
 * client still sends makes its kernel answer with a reset, and the 413 is lost (what a chunked body,
 * which cannot be refused before it is read, ran into). Past `limit` bytes the client is cut off.
 */
async function discardRest(chunks: AsyncIterator<Uint8Array>, limit: number) {
  let dropped = 0
  try {
    for (;;) {
      const { done, value } = await chunks.next()
      if (done) return
      dropped += value.byteLength
      if (dropped > limit) return await chunks.return?.()
    }
  } catch {
    // The client went away: nothing left to drop.
  }
}

/** Reads the body as text, refusing (413) past `limit` bytes without buffering more than that. */
async function readLimited(input: ApiCall, limit: number): Promise<string> {
  const declared = Number(input.header('content-length') ?? 0)
  if (declared > limit) throw new AppError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`)
  const body = input.body()
  if (!body) return ''
  const chunks = body[Symbol.asyncIterator]()
  const read: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await chunks.next()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      void discardRest(chunks, DISCARD_LIMIT_BYTES)
      throw new AppError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`)
    }
    read.push(value)
  }
  return Buffer.concat(read).toString('utf8')
}
