import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import type { z } from 'zod'
import type { Actor } from '~/services/actor'
import { hasPermission } from '~/services/api-keys/permissions'
import { AppError } from '~/utils/errors.server'
import { findUnsafeInput } from '~/utils/input-guards'
import { requestMeta } from '~/utils/request.server'
import { authenticateRequest } from './authenticate.server'
import type { Operation } from './operation.server'
import { problemFromError, problemResponse } from './problem.server'
import { applyRateLimit } from './rate-limit.server'
import { recordRefusedCredential } from '~/services/audit/refused-credential.server'
import { meterApiCall } from '~/services/usage/meter.server'
import { operationsForPath } from './registry.server'

/** JSON bodies of management calls are small; file bytes never come through here. */
export const MAX_JSON_BODY_BYTES = 256 * 1024

type Args = LoaderFunctionArgs | ActionFunctionArgs

/**
 * The one entry of every `api.v1.*` route: picks the operation for the method (405 with Allow
 * otherwise), authenticates, rate-limits, validates params, query and body with the operation's zod
 * schemas, runs it, and answers JSON, or problem+json for every error.
 */
export async function handleApiRequest(args: Args, path: string): Promise<Response> {
  const call: { actor?: Actor | null; operation?: Operation } = {}
  const response = await answerApiRequest(args, path, call)
  // Usage counts the calls of a project's API keys (in memory; flushed in the background).
  if (call.actor?.type === 'api-key' && call.operation) meterApiCall(call.actor.projectId, call.operation.tier, response.status)
  return response
}

async function answerApiRequest({ request, context, params }: Args, path: string, call: { actor?: Actor | null; operation?: Operation }): Promise<Response> {
  const operations = operationsForPath(path)
  const method = request.method === 'HEAD' ? 'GET' : request.method
  const operation = operations.find((candidate) => candidate.method === method)
  if (!operation) {
    const allow = [...new Set(operations.map((o) => o.method))].join(', ')
    return problemResponse({ status: 405, detail: `${request.method} is not supported here; use ${allow}.` }, { Allow: allow })
  }
  call.operation = operation
  const meta = requestMeta(request, context)
  // Once the call is counted, every answer (errors included) tells the caller where it stands.
  let rateLimitHeaders: Headers | undefined
  try {
    let actor: Actor | null
    const refused: { token?: string | null } = {}
    try {
      actor = await authorize(operation, request, meta, refused)
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
    const input = await parseInput(operation, request, params)
    const result = await operation.handler({ actor: actor as never, ...input, request, meta } as never)
    if (result instanceof Response) {
      // A handler that shapes its own response (health's 503) still reports the caller's limits.
      for (const [name, value] of limited.headers) if (!result.headers.has(name)) result.headers.set(name, value)
      return result
    }
    const headers = new Headers(limited.headers)
    headers.set('Cache-Control', 'no-store')
    if (operation.status === 204) return new Response(null, { status: 204, headers })
    return Response.json(result, { status: operation.status, headers })
  } catch (error) {
    const response = problemFromError(error, context.requestId)
    rateLimitHeaders?.forEach((value, name) => response.headers.set(name, value))
    return response
  }
}

async function authorize(operation: Operation, request: Request, meta: ReturnType<typeof requestMeta>, refused: { token?: string | null }): Promise<Actor | null> {
  const credentials = await authenticateRequest(request, meta)
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

async function parseInput(operation: Operation, request: Request, rawParams: Args['params']) {
  const url = new URL(request.url)
  const params = validate(operation.params, rawParams, 'path')
  const query = validate(operation.query, Object.fromEntries(url.searchParams), 'query')
  let body: unknown
  if (operation.body) {
    const type = request.headers.get('content-type') ?? ''
    if (!/^application\/json\b/i.test(type)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.')
    const text = await readLimited(request, MAX_JSON_BODY_BYTES)
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
    throw new AppError('VALIDATION', `The request's ${where === 'body' ? 'body' : `${where} parameters`} did not validate: ${field} ${unsafe.message}.`, {
      fieldErrors: { [field]: [unsafe.message] },
    })
  }
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const errors: Record<string, string[]> = {}
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : where
    ;(errors[field] ??= []).push(issue.message)
  }
  throw new AppError('VALIDATION', `The request's ${where === 'body' ? 'body' : `${where} parameters`} did not validate.`, { fieldErrors: errors })
}

/** How much of a refused body is read and dropped so the client hears the 413 instead of a reset. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024

/**
 * Reads and drops the rest of a refused body in the background: closing the connection while the
 * client still sends makes its kernel answer with a reset, and the 413 is lost (what a chunked body,
 * which cannot be refused before it is read, ran into). Past `limit` bytes the client is cut off.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number) {
  let dropped = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      dropped += value.byteLength
      if (dropped > limit) return await reader.cancel()
    }
  } catch {
    // The client went away: nothing left to drop.
  }
}

/** Reads the body as text, refusing (413) past `limit` bytes without buffering more than that. */
async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > limit) throw new AppError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`)
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      void discardRest(reader, DISCARD_LIMIT_BYTES)
      throw new AppError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
