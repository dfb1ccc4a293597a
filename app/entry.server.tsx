import { Transform, type TransformCallback } from 'node:stream'
import type { AppLoadContext, EntryContext, HandleErrorFunction } from '@remix-run/node'
import { createReadableStreamFromReadable } from '@remix-run/node'
import { RemixServer, isRouteErrorResponse } from '@remix-run/react'
import { isbot } from 'isbot'
import { renderToPipeableStream } from 'react-dom/server'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { getRealtimeServer } from '~/api/realtime/realtime-server.server'
import { checkHealth } from '~/services/health/check-health.server'
import { answerFromMemory } from '~/services/transforms/fast-path.server'
import { logger } from '~/utils/logger.server'
import { NonceProvider } from '~/utils/nonce'
import { manifestForRender } from '~/utils/render-manifest.server'

const ABORT_DELAY = 5_000

/**
 * React's output, passed on in one piece per flush. The renderer writes its HTML in 2 KiB views and
 * calls `flush()` after each batch it completes; a page's shell is some twenty views, and each would
 * cross the Response stream, the Express adapter and the socket on its own. Here they are collected
 * and pushed together when React flushes (and at the end): the same bytes, at the same moments.
 */
class FlushedChunks extends Transform {
  private pending: Buffer[] = []
  private pendingBytes = 0

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    callback()
  }

  flush() {
    if (this.pending.length === 0) return
    const pending = this.pending
    const bytes = this.pendingBytes
    this.pending = []
    this.pendingBytes = 0
    this.push(pending.length === 1 ? pending[0] : Buffer.concat(pending, bytes))
  }

  override _flush(callback: TransformCallback) {
    this.flush()
    callback()
  }
}

/**
 * The host (server.ts) calls this as `build.entry.module.transformFastPath` for transform URLs
 * before Remix: exported from the build so it shares the build's module instances (the variant
 * cache, the opened secrets, the known sources) with the route that fills them.
 */
export const transformFastPath = answerFromMemory

/**
 * The host (server.ts) mounts this as `build.entry.module.serveApi` ahead of Remix: the REST API under
 * /api/v1 is answered from the operation table (ADR 027), with the build's module instances (the
 * credential cache, the rate limiter's overrides) that the dashboard's actions also reach.
 */
export { serveApi } from '~/api/host.server'

/** The same handler for a Fetch Request, for callers without a socket (the in-process test client). */
export { handleApiFetch } from '~/api/handle.server'
export { isApiPath } from '~/api/router.server'

/**
 * The host hands every HTTP upgrade to this (`build.entry.module.realtimeUpgrade`): the WebSocket
 * endpoint lives in the build so it authenticates through the same modules (and caches) as the API.
 */
export const realtimeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => getRealtimeServer().handleUpgrade(req, socket, head)

/**
 * The host awaits this before it opens the port: the build's first query loads Prisma's query
 * compiler and opens a pool connection, which on a busy machine can outlast the health check's
 * two seconds, so a server that says it is running must already have paid for it.
 */
export const warmUp = () => checkHealth()

/** Unexpected errors go to the log (never to the client); unknown URLs and aborted requests do not. */
export const handleError: HandleErrorFunction = (error, { request }) => {
  if (request.signal.aborted) return
  if (isRouteErrorResponse(error) && error.status < 500) return
  logger.error({ err: error as Error, method: request.method, url: new URL(request.url).pathname }, 'request failed')
}

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const nonce = loadContext.cspNonce
  // Crawlers and no-JS clients get the whole document at once; browsers get it streamed.
  const readyEvent = isbot(request.headers.get('user-agent') ?? '') ? 'onAllReady' : 'onShellReady'
  // The render sees only the routes that can match this URL or its parents: the same HTML, far less route matching.
  const { location, matches } = remixContext.staticHandlerContext
  const context: EntryContext = {
    ...remixContext,
    manifest: manifestForRender(
      remixContext.manifest,
      location.pathname,
      matches.map((match) => match.route.id),
    ),
  }
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false
    const { pipe, abort } = renderToPipeableStream(
      <NonceProvider value={nonce}>
        <RemixServer context={context} url={request.url} abortDelay={ABORT_DELAY} nonce={nonce} />
      </NonceProvider>,
      {
        nonce,
        [readyEvent]() {
          shellRendered = true
          const body = new FlushedChunks()
          responseHeaders.set('Content-Type', 'text/html; charset=utf-8')
          resolve(new Response(createReadableStreamFromReadable(body), { headers: responseHeaders, status: responseStatusCode }))
          pipe(body)
        },
        onShellError(error: unknown) {
          reject(error)
        },
        onError(error: unknown) {
          responseStatusCode = 500
          if (shellRendered) logger.error({ err: error }, 'render failed')
        },
      },
    )
    setTimeout(abort, ABORT_DELAY)
  })
}
