import { base64ToBytes, bytesToBase64, constantTimeEqual, hmacSha256, sha256Hex, textBytes } from './crypto.js'
import { CarcosaError } from './errors.js'

/** Seconds a webhook's timestamp may differ from this clock (Standard Webhooks suggests 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60

export interface VerifyWebhookOptions {
  toleranceSeconds?: number
  /** The clock, in ms (tests). */
  now?: number
}

/** A verified webhook: its id (for de-duplication), timestamp, and JSON payload. */
export interface VerifiedWebhook<T = unknown> {
  id: string
  timestamp: Date
  payload: T
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>

const invalid = (message: string) => new CarcosaError({ code: 'INVALID_WEBHOOK', status: 401, message })

function header(headers: HeaderSource, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name)
  const value = headers[name] ?? headers[name.toLowerCase()]
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null)
}

/** `whsec_<base64>` (or bare base64) to the key bytes. */
function secretBytes(secret: string): Uint8Array {
  try {
    return base64ToBytes(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret)
  } catch {
    throw new TypeError('The webhook secret must be whsec_ followed by base64, as Carcosa shows it')
  }
}

/** Signs a payload as Standard Webhooks do; `webhook-signature` is `v1,<signature>`. */
export async function signWebhook(secret: string, id: string, timestamp: Date, body: string): Promise<string> {
  const seconds = Math.floor(timestamp.getTime() / 1000)
  return `v1,${bytesToBase64(await hmacSha256(secretBytes(secret), `${id}.${seconds}.${body}`))}`
}

/**
 * Verifies a Standard Webhooks request (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * against the secret, refusing a timestamp outside the tolerance (replays), and returns its JSON
 * payload. Give it the Request itself, or the raw body text and headers when a framework has read
 * the body already (the signature covers the exact bytes: never re-serialise parsed JSON).
 */
export async function verifyWebhook<T = unknown>(
  request: Request | { body: string; headers: HeaderSource },
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<VerifiedWebhook<T>> {
  const body = request instanceof Request ? await request.text() : request.body
  const headers = request.headers
  const id = header(headers, 'webhook-id')
  const timestampText = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !timestampText || !signatures) throw invalid('Missing webhook-id, webhook-timestamp or webhook-signature header')
  const seconds = Number(timestampText)
  if (!/^\d+$/.test(timestampText) || !Number.isSafeInteger(seconds)) throw invalid('webhook-timestamp is not a number of seconds')
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  if (Math.abs(now - seconds) > tolerance) throw invalid(`webhook-timestamp is more than ${tolerance} seconds away from now`)
  const expected = await hmacSha256(secretBytes(secret), `${id}.${seconds}.${body}`)
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2)
    if (version !== 'v1' || !signature) return false
    try {
      return constantTimeEqual(base64ToBytes(signature), expected)
    } catch {
      return false
    }
  })
  if (!matches) throw invalid('No webhook-signature matches this payload and secret')
  let payload: T
  try {
    payload = JSON.parse(body) as T
  } catch {
    throw invalid('The webhook body is not JSON')
  }
  return { id, timestamp: new Date(seconds * 1000), payload }
}

/**
 * The secret Carcosa signs upload callbacks with for uploads started with this API key: derived
 * from the key (Carcosa keeps only its SHA-256), so the route handler needs no second secret.
 */
export async function uploadCallbackSecret(apiKey: string): Promise<string> {
  const keyHash = await sha256Hex(apiKey)
  return `whsec_${bytesToBase64(await hmacSha256(textBytes(keyHash), 'carcosa-upload-callback-v1'))}`
}
