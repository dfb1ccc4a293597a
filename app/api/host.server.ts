import { createReadableStreamFromReadable, writeReadableStreamToWritable } from '@remix-run/node'
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express'
import { answerApiCall, asyncIterable, type ApiCall } from './handle.server'
import { answerResponse } from './problem.server'
import { normalizedPathname } from '~/utils/request.server'
import { isApiPath } from './router.server'

/**
 * The host's handler for /api/v1 (ADR 027), mounted in server.ts ahead of Remix: the request becomes
 * a Fetch Request exactly as Remix's adapter makes it (URL from the trusted host, body streamed, aborted
 * when the client goes), goes through the operation table, and JSON answers are written straight to
 * the socket. Other paths go on to Remix. The decision is taken on the normalized path, as the CSRF
 * check's is, so `/api/v1/../../orgs/x` is the dashboard's.
 */
export async function serveApi(req: ExpressRequest, res: ExpressResponse, next: NextFunction) {
  const pathname = normalizedPathname(req.originalUrl)
  if (pathname === null || !isApiPath(pathname)) return next()
  try {
    const answer = await answerApiCall(callOf(req, res), { requestId: res.locals.requestId as string, clientIp: req.ip ?? null })
    if (answer instanceof Response) return await sendResponse(res, answerResponse(answer, req.method))
    res.statusCode = answer.status
    for (const name in answer.headers) res.setHeader(name, answer.headers[name]!)
    if (answer.body === null) return void res.end()
    // Declared, so that compression can skip small answers and the rest need no chunked encoding.
    res.setHeader('content-length', Buffer.byteLength(answer.body))
    res.end(req.method === 'HEAD' ? undefined : answer.body)
  } catch (error) {
    next(error)
  }
}

/**
 * The call of an Express request. Its URL is the one @remix-run/express gives Remix: the protocol
 * and host Express trusts (`trust proxy`), the port the client named. The Fetch Request is built on
 * first use only.
 */
function callOf(req: ExpressRequest, res: ExpressResponse): ApiCall {
  const port = /:(\d+)$/.exec(req.get('x-forwarded-host') ?? '')?.[1] ?? /:(\d+)$/.exec(req.get('host') ?? '')?.[1]
  const url = new URL(`${req.protocol}://${req.hostname}${port ? `:${port}` : ''}${req.originalUrl}`)
  let request: Request | undefined
  return {
    method: req.method,
    url,
    header(name) {
      const value = req.headers[name]
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
    },
    request: () => (request ??= fetchRequest(req, res, url)),
    // JSON bodies come straight from the socket: no Fetch Request and web stream for a few hundred bytes.
    body: () => (request ? asyncIterable(request.body) : req.method === 'GET' || req.method === 'HEAD' ? null : req),
  }
}

/**
 * The Fetch Request of an Express request, as @remix-run/express builds it: the headers as sent, the
 * body streamed, and a signal aborted when the client goes before the answer is sent.
 */
function fetchRequest(req: ExpressRequest, res: ExpressResponse, url: URL): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item)
    else if (value) headers.set(name, value)
  }
  let controller: AbortController | null = new AbortController()
  const signal = controller.signal
  res.on('finish', () => (controller = null))
  res.on('close', () => controller?.abort())
  const bodied = req.method !== 'GET' && req.method !== 'HEAD'
  return new Request(url.href, {
    method: req.method,
    headers,
    signal,
    ...(bodied ? { body: createReadableStreamFromReadable(req), duplex: 'half' } : {}),
  } as RequestInit)
}

/** A Response handlers shaped themselves (downloads, images, redirects), streamed as Remix's adapter does. */
async function sendResponse(res: ExpressResponse, response: Response) {
  res.statusMessage = response.statusText
  res.status(response.status)
  for (const [name, value] of response.headers) res.append(name, value)
  if (response.body) await writeReadableStreamToWritable(response.body, res)
  else res.end()
}
