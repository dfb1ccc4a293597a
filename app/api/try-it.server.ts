import { STATUS_CODES } from 'node:http'
import type { AppLoadContext } from '@remix-run/node'
import { handleApiFetch } from './handle.server'
import type { Operation } from './operation.server'
import { OPERATIONS } from './registry.server'

/**
 * The `/api-docs` console: one call of one operation, sent with the credential typed into the form.
 * The call runs in this process through the same entry as every API request (authentication, rate
 * limits, validation, the service), so it can do exactly what the credential could do with curl,
 * and nothing reaches another host. The credential is used for this call only: never stored,
 * logged or sent back.
 */

/** How much of an answer the page shows; the rest is counted, not kept. */
const SHOWN_BODY_BYTES = 64 * 1024

const SHOWN_HEADERS = ['content-type', 'location', 'allow', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

export interface TryItInput {
  credential: string
  params: Record<string, string>
  query: Record<string, string>
  body: string
}

export interface TryItAnswer {
  method: string
  url: string
  status: number
  statusText: string
  headers: [string, string][]
  body: { kind: 'none' } | { kind: 'text'; text: string; truncated: boolean } | { kind: 'binary'; contentType: string; bytes: number | null }
}

/** Operations the console can send: JSON or no body (a file's bytes go with the SDK, the CLI or curl). */
export function tryableOperation(id: string): Operation | undefined {
  return OPERATIONS.find((operation) => operation.id === id && !operation.multipart)
}

/** The path with each parameter encoded as one segment; `.` and `..` would name another path, so they are refused. */
export function fillPath(template: string, params: Record<string, string>): { path: string } | { errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {}
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name] ?? ''
    if (value === '') (errors[name] ??= []).push('Required.')
    else if (value === '.' || value === '..') (errors[name] ??= []).push('Must name a resource, not . or ..')
    return encodeURIComponent(value)
  })
  return Object.keys(errors).length > 0 ? { errors } : { path }
}

export async function tryOperation(
  operation: Operation,
  input: TryItInput,
  incoming: { request: Request; context: AppLoadContext },
): Promise<TryItAnswer | { errors: Record<string, string[]> }> {
  const filled = fillPath(operation.path, input.params)
  if ('errors' in filled) return filled
  const url = new URL(filled.path, incoming.request.url)
  for (const [name, value] of Object.entries(input.query)) if (value !== '') url.searchParams.set(name, value)

  const headers = new Headers({ accept: 'application/json' })
  // The caller's own address and agent, so rate limits and audit entries see who really called.
  const userAgent = incoming.request.headers.get('user-agent')
  if (userAgent) headers.set('user-agent', userAgent)
  if (input.credential) headers.set('authorization', `Bearer ${input.credential}`)
  const sendsBody = operation.body !== undefined && input.body.trim() !== ''
  if (sendsBody) headers.set('content-type', 'application/json')
  const request = new Request(url, { method: operation.method, headers, body: sendsBody ? input.body : undefined })

  const response = await handleApiFetch(request, incoming.context)
  return {
    method: operation.method,
    url: `${url.pathname}${url.search}`,
    status: response.status,
    statusText: STATUS_CODES[response.status] ?? '',
    headers: SHOWN_HEADERS.flatMap((name) => {
      const value = response.headers.get(name)
      return value === null ? [] : [[name, value] as [string, string]]
    }),
    body: await readShown(response),
  }
}

async function readShown(response: Response): Promise<TryItAnswer['body']> {
  if (!response.body) return { kind: 'none' }
  const contentType = response.headers.get('content-type') ?? ''
  if (!/^(application\/([\w.+-]*\+)?json|text\/)/i.test(contentType)) {
    await response.body.cancel()
    const length = Number(response.headers.get('content-length'))
    return { kind: 'binary', contentType, bytes: Number.isFinite(length) ? length : null }
  }
  // Reads no more than is shown: a long answer is cut, not held.
  const reader = response.body.getReader()
  const kept: Uint8Array[] = []
  let bytes = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const room = SHOWN_BODY_BYTES - bytes
    if (value.byteLength > room) {
      kept.push(value.subarray(0, room))
      bytes += room
      truncated = true
      await reader.cancel()
      break
    }
    kept.push(value)
    bytes += value.byteLength
  }
  if (bytes === 0) return { kind: 'none' }
  const text = new TextDecoder().decode(Buffer.concat(kept))
  return { kind: 'text', text: truncated ? text : prettyJson(text), truncated }
}

function prettyJson(text: string) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
