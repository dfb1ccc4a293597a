import http from 'node:http'
import https from 'node:https'
import { Transform, type Readable } from 'node:stream'
import { z } from 'zod'
import { EndpointRefused, guardedAgents, assertAddressAllowed } from '~/storage/endpoint-guard.server'
import type { FileView } from '~/services/files/file-view'
import { getConfig } from '~/utils/config.server'
import { AppError } from '~/utils/errors.server'
import net from 'node:net'
import type { Actor } from '../actor'
import { projectOfCall } from '../project-scope.server'
import { optionalProjectId } from '../project-scope'
import { callbackPolicy } from './callback-url.server'
import { completeUpload } from './complete-upload.server'
import { storeReadable } from './streamed-upload.server'
import { uploadMetadataSchema } from './upload-route'
import { effectiveMaxBytes } from './upload-rules'
import { uploadTarget } from './upload-target.server'

/** Redirects followed, each one judged by the SSRF guard again. */
const MAX_REDIRECTS = 3
/** Until the source answers with its headers, and between two chunks of its body. */
const SOURCE_TIMEOUT_MS = 30_000

export const uploadFromUrlSchema = z
  .object({
    projectId: optionalProjectId,
    url: z
      .string({ error: 'url is required' })
      .min(1, 'url is required')
      .max(2048, 'url must be at most 2048 characters')
      .describe('An http or https URL Carcosa fetches the file from'),
    fileName: z.string().min(1).max(1024).optional().describe("The file's name; the URL's last path segment when omitted"),
    tenantId: z.string().min(1).max(64).optional().describe('A tenant of the same project'),
    tenantSlug: z.string().min(1).max(64).optional().describe('A tenant of the same project, by slug'),
    metadata: uploadMetadataSchema.optional().describe('JSON stored with the upload (at most 16 KiB)'),
  })
  .refine((input) => !(input.tenantId && input.tenantSlug), { message: 'Give tenantId or tenantSlug, not both', path: ['tenantSlug'] })
export type UploadFromUrlInput = z.output<typeof uploadFromUrlSchema>

const refused = (message: string) => new AppError('VALIDATION', message, { fieldErrors: { url: [message] } })

function checkSourceUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw refused('url is not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('url must use http or https')
  if (url.username || url.password) throw refused('url must not contain a user name or password')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (net.isIP(host)) {
    try {
      assertAddressAllowed(host, callbackPolicy())
    } catch (error) {
      if (error instanceof EndpointRefused) throw refused(error.message)
      throw error
    }
  }
  return url
}

/** GETs the URL through the guarded agents (every resolved address judged), following a few redirects. */
function getGuarded(url: URL, redirectsLeft = MAX_REDIRECTS): Promise<http.IncomingMessage> {
  const agents = guardedAgents(callbackPolicy())
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      { agent: url.protocol === 'https:' ? agents.httpsAgent : agents.httpAgent, headers: { 'user-agent': 'Carcosa/1 (upload from URL)' } },
      (response) => {
        const status = response.statusCode ?? 0
        if (status >= 300 && status < 400 && response.headers.location) {
          response.resume()
          if (redirectsLeft === 0) return reject(new AppError('UNPROCESSABLE', `The URL redirected more than ${MAX_REDIRECTS} times.`))
          try {
            resolve(getGuarded(checkSourceUrl(new URL(response.headers.location, url).toString()), redirectsLeft - 1))
          } catch (error) {
            reject(error)
          }
          return
        }
        if (status < 200 || status >= 300) {
          response.resume()
          return reject(new AppError('UNPROCESSABLE', `The URL answered HTTP ${status}; nothing was stored.`))
        }
        resolve(response)
      },
    )
    request.setTimeout(SOURCE_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${SOURCE_TIMEOUT_MS / 1000} s`)))
    request.on('error', (error) => {
      if (error instanceof EndpointRefused || (error as { code?: string }).code === 'ECARCOSA_ENDPOINT_REFUSED')
        return reject(refused(error.message))
      reject(new AppError('UNPROCESSABLE', `The URL could not be fetched: ${error.message}`))
    })
  })
}

/** Passes at most `limit + 1` bytes, then ends and flags `truncated` (as busboy does), so the store step refuses it. */
function capped(source: Readable, limit: number): Readable & { truncated?: boolean } {
  let seen = 0
  const out: Transform & { truncated?: boolean } = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const room = limit + 1 - seen
      seen += chunk.length
      if (seen > limit + 1) {
        out.truncated = true
        this.push(chunk.subarray(0, Math.max(0, room)))
        source.destroy()
        this.push(null)
        return callback()
      }
      callback(null, chunk)
    },
  })
  source.on('error', (error) => out.destroy(error))
  return source.pipe(out)
}

function nameFrom(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop()
  try {
    return last ? decodeURIComponent(last) : 'file'
  } catch {
    return last ?? 'file'
  }
}

/**
 * Stores a file Carcosa fetches itself: the URL and every redirect pass the SSRF guard (the same
 * policy as bucket endpoints), the body streams to the bucket within the project's size limit, and
 * the file goes through the one completion step (size, type sniffing, rules).
 */
export async function uploadFromUrl(actor: Actor, input: UploadFromUrlInput): Promise<{ file: FileView }> {
  const config = getConfig()
  const projectId = projectOfCall(actor, input.projectId)
  const target = await uploadTarget(actor, projectId, { id: input.tenantId, slug: input.tenantSlug })
  const { tenant } = target
  const maxSize = effectiveMaxBytes(target.rules, {
    uploadMaxBytes: config.UPLOAD_MAX_BYTES,
    streamedMaxBytes: config.STREAMED_UPLOAD_MAX_BYTES,
  })
  const url = checkSourceUrl(input.url)
  const response = await getGuarded(url)
  const length = Number(response.headers['content-length'] ?? Number.NaN)
  if (Number.isFinite(length) && length > maxSize) {
    response.destroy()
    throw new AppError('PAYLOAD_TOO_LARGE', `The file at the URL is ${length} bytes; this project accepts at most ${maxSize} bytes per file.`)
  }
  response.setTimeout(SOURCE_TIMEOUT_MS, () => response.destroy(new Error('the source stopped sending')))
  const uploadId = await storeReadable(actor, target, {
    stream: capped(response, maxSize),
    fileName: input.fileName ?? nameFrom(url),
    declaredType: response.headers['content-type'] ?? 'application/octet-stream',
    declaredSize: Number.isFinite(length) ? length : undefined,
    tenant,
    maxSize,
    metadata: input.metadata ?? null,
  })
  return completeUpload(actor, { uploadId })
}
