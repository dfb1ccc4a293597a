import http from 'node:http'
import https from 'node:https'
import { guardedAgents, parseWebhookUrl, type EndpointPolicy } from '~/storage/endpoint-guard.server'

/** The delivery log keeps this much of each answer's body. */
export const RESPONSE_EXCERPT_BYTES = 1024

export interface PostOutcome {
  statusCode: number | null
  latencyMs: number
  /** The first 1 KiB of the answer, as text. */
  responseBody: string
  /** Seconds from a Retry-After header (delta or HTTP date), when the answer had one. */
  retryAfterSeconds: number | null
  /** Why no answer came (timeout, refused address, connection error). */
  error: string | null
}

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000))
}

/**
 * POSTs one webhook body. The URL is checked again here and every address the connection resolves
 * is judged by the guarded agent (DNS rebinding); the whole attempt, answer included, has `timeoutMs`.
 * Only the first 1 KiB of the answer is read.
 */
export function postWebhook(input: {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  policy: EndpointPolicy
}): Promise<PostOutcome> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const failed = (error: unknown): PostOutcome => ({
    statusCode: null,
    latencyMs: elapsed(),
    responseBody: '',
    retryAfterSeconds: null,
    error: error instanceof Error ? error.message : String(error),
  })
  let url: URL
  try {
    url = parseWebhookUrl(input.url, input.policy)
  } catch (error) {
    return Promise.resolve(failed(error))
  }
  const agents = guardedAgents(input.policy)
  const client = url.protocol === 'https:' ? https : http
  return new Promise<PostOutcome>((resolve) => {
    let settled = false
    const settle = (outcome: PostOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    const request = client.request(
      url,
      {
        method: 'POST',
        agent: url.protocol === 'https:' ? agents.httpsAgent : agents.httpAgent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Carcosa-Webhooks/1',
          'content-length': Buffer.byteLength(input.body),
          ...input.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        let kept = 0
        const finish = () => {
          settle({
            statusCode: response.statusCode ?? null,
            latencyMs: elapsed(),
            responseBody: Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8'),
            retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
            error: null,
          })
          // The rest of the body is of no interest: drop the connection rather than read it.
          if (!response.complete) request.destroy()
        }
        response.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_EXCERPT_BYTES) {
            chunks.push(chunk)
            kept += chunk.length
          }
          if (kept >= RESPONSE_EXCERPT_BYTES) finish()
        })
        response.on('end', finish)
        response.on('error', finish)
      },
    )
    const timer = setTimeout(() => {
      settle(failed(new Error(`no answer within ${Math.round(input.timeoutMs / 1000)} s`)))
      request.destroy()
    }, input.timeoutMs)
    request.on('error', (error) => settle(failed(error)))
    request.end(input.body)
  })
}
