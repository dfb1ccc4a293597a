/**
 * An in-process HTTP client for the real app: requests go through the build (`build/index.js`, which
 * `npm test` builds first) as the Express host hands them over, without a socket: paths under /api/v1
 * to the build's API handler (ADR 027), the rest to Remix's. The host's own layer (security headers,
 * CSRF refusal, request logging, writing answers to the socket) is not in the path;
 * api-host.test.ts, host-hardening.test.ts and the browser tests cover it.
 *
 * Import it after '../support/test-database', so the app talks to the file's own database.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createRequestHandler, type ServerBuild } from '@remix-run/node'
import { codeForStatus, STATUS, type ErrorCode } from '~/utils/errors.server'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const ORIGIN = 'http://carcosa.test'
/** The client IP the app sees when a call names none (documentation range, RFC 5737). */
export const DEFAULT_CLIENT_IP = '192.0.2.10'

type Handler = ReturnType<typeof createRequestHandler>
let handler: Promise<Handler> | undefined

/** The build's entry exports the host uses for the API. */
interface ApiEntry {
  isApiPath: (pathname: string) => boolean
  handleApiFetch: Handler
}

function appHandler(): Promise<Handler> {
  handler ??= import(pathToFileURL(path.join(ROOT, 'build', 'index.js')).href).then(
    (build: ServerBuild) => {
      const remix = createRequestHandler(build, 'production')
      const entry = build.entry.module as unknown as ApiEntry
      return (request, context) =>
        entry.isApiPath(new URL(request.url).pathname) ? entry.handleApiFetch(request, context) : remix(request, context)
    },
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_MODULE_NOT_FOUND') throw new Error('build/index.js is missing: run `npx remix build` (npm test builds first)')
      throw error
    },
  )
  return handler
}

export interface ApiCallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | null
  /**
   * A string is sent as is; bytes, a Blob, FormData (multipart, boundary set) or a stream as they
   * are; anything else as JSON. Content-Type is application/json for strings and JSON unless given.
   */
  body?: unknown
  headers?: Record<string, string>
  /** The client address the host would pass on (`req.ip`); rate limits of anonymous calls key on it. */
  ip?: string | null
}

export interface ApiResponse {
  status: number
  headers: Headers
  /** The parsed body when it is JSON (application/json or application/problem+json), else undefined. */
  // Tests read whatever shape they expect, as a client would.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
  text: string
  /** The body as bytes (images). */
  bytes: Buffer
}

/** `/api/v1/projects/{id}` + `{ id: 'p1' }` -> `/api/v1/projects/p1`, with an optional query string. */
export function fillPath(template: string, params: Record<string, string> = {}, query: Record<string, string> = {}) {
  const filled = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name]
    if (value === undefined) throw new Error(`no value for {${name}} in ${template}`)
    return encodeURIComponent(value)
  })
  const search = new URLSearchParams(query).toString()
  return search ? `${filled}?${search}` : filled
}

/** One request to the app, answered in process. */
export async function api(method: string, url: string, options: ApiCallOptions = {}): Promise<ApiResponse> {
  const headers = new Headers(options.headers)
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`)
  headers.set('User-Agent', headers.get('User-Agent') ?? 'carcosa-api-tests')
  let body: BodyInit | undefined
  const raw = options.body
  if (raw instanceof Uint8Array || raw instanceof Blob || raw instanceof FormData || raw instanceof ReadableStream) {
    body = raw as BodyInit
  } else if (raw !== undefined) {
    body = typeof raw === 'string' ? raw : JSON.stringify(raw)
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json')
  }
  // A stream body must be declared half-duplex (fetch's rule for request streams).
  const request = new Request(new URL(url, ORIGIN), {
    method,
    headers,
    body,
    ...(raw instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit)
  const handle = await appHandler()
  const response = await handle(request, {
    requestId: randomUUID(),
    cspNonce: randomBytes(16).toString('base64'),
    clientIp: options.ip === undefined ? DEFAULT_CLIENT_IP : options.ip,
  })
  const bytes = Buffer.from(await response.arrayBuffer())
  const text = bytes.toString('utf8')
  const type = response.headers.get('Content-Type') ?? ''
  const json = text && /^application\/(?:problem\+)?json\b/i.test(type) ? JSON.parse(text) : undefined
  return { status: response.status, headers: response.headers, json, text, bytes }
}

/**
 * Asserts an RFC 9457 problem answer with `status`: problem+json with type, title, status, the
 * machine code of that status and detail, never cached, and nothing internal (no stack frames, source paths or module names).
 */
export function assertProblem(response: ApiResponse, status: number) {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text.slice(0, 500)}`)
  assert.match(response.headers.get('Content-Type') ?? '', /^application\/problem\+json\b/)
  assert.equal(response.headers.get('Cache-Control'), 'no-store')
  const problem = response.json as Record<string, unknown>
  assert.equal(typeof problem.type, 'string')
  assert.ok((problem.type as string).length > 0)
  assert.equal(typeof problem.title, 'string')
  assert.equal(problem.status, status)
  assert.equal(typeof problem.detail, 'string')
  assert.ok((problem.detail as string).length > 0)
  // The status's own code, or a more specific one of the same status (QUOTA_EXCEEDED is a 403).
  assert.ok(
    problem.code === codeForStatus(status) || STATUS[problem.code as ErrorCode] === status,
    `a stable machine code that matches the status, got ${String(problem.code)}`,
  )
  assert.deepEqual(
    // Documented extension members: a quota refusal's `quota`, a tenant refusal's `tenant` (docs/tenants.md).
    Object.keys(problem).filter((key) => !['type', 'title', 'status', 'code', 'detail', 'errors', 'quota', 'tenant'].includes(key)),
    [],
    'a problem carries no other members (no stack, no cause)',
  )
  assert.doesNotMatch(response.text, /\bat \S+ \(|\.(?:ts|js):\d+|node_modules|prisma|Error:/i, 'no stack traces or internal messages')
}
