import { Readable } from 'node:stream'
import express, { type Request as ExpressRequest, type Response as ExpressResponse, type Router } from 'express'
import { createCarcosa as createRouteFactory, type RouteFactory } from './server/builder.js'
import { createRouteHandler as createFetchHandler, type RouteHandlerOptions } from './server/handler.js'

export * from './server/index.js'

/** The route builder with Express's request as the middleware's `req`. */
export function createCarcosa(): RouteFactory<ExpressRequest> {
  return createRouteFactory<ExpressRequest>()
}

/** The Express request as a fetch Request; its body streams unless a body parser already consumed it. */
function toFetchRequest(req: ExpressRequest): Request {
  const url = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item)
  }
  if (req.method === 'GET' || req.method === 'HEAD') return new Request(url, { method: req.method, headers })
  // express.json() ran first: its parsed object is all that is left (a webhook's signature then cannot be checked).
  if (req.readableEnded || (req as { _body?: boolean })._body) {
    headers.delete('content-length')
    return new Request(url, { method: req.method, headers, body: JSON.stringify(req.body ?? {}) })
  }
  return new Request(url, { method: req.method, headers, body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } as RequestInit)
}

async function send(res: ExpressResponse, response: Response) {
  res.status(response.status)
  response.headers.forEach((value, name) => res.setHeader(name, value))
  res.end(Buffer.from(await response.arrayBuffer()))
}

/**
 * An Express router answering the routes at the path it is mounted on:
 * `app.use('/api/uploads', createRouteHandler({ router, config }))`. Mount it before
 * `express.json()`, or the webhook's raw body (which its signature covers) is gone.
 */
export function createRouteHandler(options: RouteHandlerOptions): Router {
  const handler = createFetchHandler(options)
  const router = express.Router()
  router.all('/', (req, res, next) => {
    handler(toFetchRequest(req), { req })
      .then((response) => send(res, response))
      .catch(next)
  })
  return router
}
