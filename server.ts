import { randomBytes, randomUUID } from 'node:crypto'
import type http from 'node:http'
import type { Duplex } from 'node:stream'
import fs from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import type { ServerBuild } from '@remix-run/node'
import compression from 'compression'
import express from 'express'
import helmet from 'helmet'
import { pinoHttp } from 'pino-http'
import { problemResponse } from '~/api/problem.server'
import { flushApiKeyUse } from '~/services/api-keys/key-use.server'
import { flushUploadExpiries } from '~/services/uploads/expiry-jobs.server'
import { prepareJobStore } from '~/services/jobs/job-store.server'
import { startJobRunner } from '~/services/jobs/runner.server'
import type { answerFromMemory as TransformFastPath } from '~/services/transforms/fast-path.server'
import { startUsageFlushing } from '~/services/usage/flush.server'
import { startAuditSealing } from '~/services/audit/seal.server'
import type { realtimeUpgrade as RealtimeUpgrade, serveApi as ServeApi, warmUp as WarmUp } from '~/entry.server'
import { LOCAL_STORAGE_PATH } from '~/storage/local-adapter.server'
import { ConfigError } from '~/utils/config.server'
import { prepareRuntime, type Runtime } from '~/utils/boot.server'
import { isApiPath } from '~/api/router.server'
import { isCsrfExempt, isSameOriginRequest } from '~/utils/csrf.server'
import { refuseUnservable } from '~/utils/request-guards.server'
import { normalizedPathname } from '~/utils/request.server'
import { disconnectDatabase } from '~/utils/db.server'
import { closeInvalidationBus } from '~/utils/invalidation-bus.server'
import { logger } from '~/utils/logger.server'
import { closeRateLimiter } from '~/utils/rate-limiter.server'
import { closeRealtimeHub } from '~/utils/realtime-hub.server'
import { closeRealtimeServer } from '~/api/realtime/realtime-server.server'
import { forgetServerAddress, recordServerAddress, serverUrl } from '~/utils/server-address.server'

const SHUTDOWN_GRACE_MS = 10_000
// Ctrl-C under `npm start` arrives twice at once (from the terminal and forwarded by npm): a repeat
// within this delay is the same request, a later one forces the exit.
const REPEAT_SIGNAL_MS = 1_000

let stopSignal: NodeJS.Signals | null = null
let onStopSignal: (signal: NodeJS.Signals) => void = () => {}

/**
 * SIGTERM and SIGINT are watched from the first moment: a signal while the database starts or
 * migrations run must not kill the process with the default action and leave the database running.
 */
function watchStopSignals() {
  let firstAt = 0
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopSignal === null) {
        stopSignal = signal
        firstAt = Date.now()
        return onStopSignal(signal)
      }
      if (Date.now() - firstAt < REPEAT_SIGNAL_MS) return
      logger.warn(`${signal} again: exiting now`)
      // The embedded PostgreSQL is still told to stop as the process exits (embedded-postgres.server.ts).
      process.exit(1)
    })
  }
}

async function main() {
  watchStopSignals()
  const runtime = await prepareRuntime({ info: (m) => logger.info(m), warn: (m) => logger.warn(m) })
  let served: Awaited<ReturnType<typeof serve>>
  try {
    if (stopSignal) throw new StoppedWhileStarting(stopSignal)
    served = await serve(runtime)
  } catch (error) {
    // Whatever failed after the embedded database started must not leave it running.
    await runtime.stop()
    throw error
  }
  const { server, jobs, stopUsageFlushing, stopAuditSealing } = served

  const shutdown = async (signal: string) => {
    logger.info(`${signal} received: finishing requests in flight, then stopping`)
    // Upgraded sockets are no longer the HTTP server's: close them first, or server.close waits on nothing.
    await closeRealtimeServer().catch(() => {})
    const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    clearTimeout(forced)
    // The last requests' usage counts, written before the database goes.
    await stopUsageFlushing()
    // What this process wrote joins its chain before the database goes (the sweep would do it later).
    await stopAuditSealing()
    await jobs.stop().catch((error: unknown) => logger.warn({ err: error as Error }, 'job runner did not stop cleanly'))
    await closeRateLimiter().catch(() => {})
    await closeRealtimeHub().catch(() => {})
    await flushApiKeyUse()
    await flushUploadExpiries()
    await closeInvalidationBus().catch(() => {})
    await disconnectDatabase().catch(() => {})
    await forgetServerAddress(runtime.config.DATA_DIR).catch(() => {})
    await runtime.stop()
    logger.info('stopped')
    process.exit(0)
  }
  onStopSignal = (signal) => void shutdown(signal)
  if (stopSignal) onStopSignal(stopSignal)
}

class StoppedWhileStarting extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`${signal} received while starting`)
  }
}

async function serve(runtime: Runtime) {
  const { config } = runtime
  const build = (await import(pathToFileURL(path.resolve('build/index.js')).href).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error
    throw new Error('build/index.js is missing: run `npm run build` first (`npm start` builds, then starts)')
  })) as ServerBuild

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.TRUST_PROXY)

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id')
    res.locals.requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID()
    res.setHeader('X-Request-Id', res.locals.requestId)
    next()
  })
  // Methods and URLs nothing below can serve get a clean 4xx here, never a 500 from deeper down.
  app.use((req, res, next) => {
    const refusal = refuseUnservable(req.method, req.originalUrl)
    if (!refusal) return next()
    const answer = problemResponse({ status: refusal.status, detail: refusal.detail }, refusal.headers)
    res.status(answer.status)
    answer.headers.forEach((value, name) => res.setHeader(name, value))
    void answer.text().then((body) => res.end(body))
  })
  // Security headers: pages get a CSP nonce per request; API answers (JSON, images) run no script,
  // so theirs are the same for every request and computed once (ADR 027).
  const securityHeaders = (nonce?: (req: http.IncomingMessage, res: http.ServerResponse) => string) =>
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", ...(nonce ? [nonce] : [])],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          ...(config.isProduction ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: config.isProduction ? { maxAge: 63_072_000, includeSubDomains: true } : false,
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: 'same-origin' },
      xFrameOptions: { action: 'deny' },
    })
  const pageSecurityHeaders = securityHeaders((_req, res) => `'nonce-${(res as express.Response).locals.cspNonce}'`)
  const apiSecurityHeaders = headersSetBy(securityHeaders())
  app.use((req, res, next) => {
    if (!isApiPath(normalizedPathname(req.originalUrl) ?? '')) {
      // Only pages run scripts: the API's answers need no nonce.
      res.locals.cspNonce = randomBytes(16).toString('base64')
      return pageSecurityHeaders(req, res, next)
    }
    for (const [name, value] of apiSecurityHeaders) res.setHeader(name, value)
    next()
  })
  // Transform URLs are meant for <img> tags on the projects' own sites: helmet's same-origin CORP would block them.
  app.use((req, res, next) => {
    if (req.path.startsWith('/api/v1/transform/')) res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin')
    next()
  })
  // Cached signed transforms are answered here, ahead of Remix and the database (ADR 010); the
  // function comes from the build so it sees the same caches the transform route fills. It runs
  // before the access log, compression, static files and the CSRF check (ADR 019): a memory hit is
  // a GET of an image, as cheap as the bytes it sends; like /build/ assets, hits are not logged.
  const transformFastPath = (build.entry.module as { transformFastPath?: typeof TransformFastPath }).transformFastPath
  if (transformFastPath) {
    app.use('/api/v1/transform/', (req, res, next) => {
      const answer = transformFastPath({
        method: req.method,
        url: req.originalUrl,
        accept: req.get('accept'),
        ifNoneMatch: req.get('if-none-match'),
      })
      if (!answer) return next()
      res.status(answer.status)
      // Appended as Remix's adapter does (lower-case names in Headers order): the same bytes either way.
      for (const [name, value] of answer.headers) res.append(name, value)
      res.end(req.method === 'HEAD' ? undefined : answer.body)
    })
  }

  app.use(
    pinoHttp({
      logger,
      genReqId: (_req, res) => (res as express.Response).locals.requestId,
      autoLogging: { ignore: (req) => req.url?.startsWith('/build/') ?? false },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    }),
  )
  // Stored objects go out byte for byte (ranges and Content-Length intact). A client that accepts no
  // encoding skips the middleware altogether: it would only wrap the response to send it as it is.
  const compress = compression({ filter: (req, res) => !req.path.startsWith(`${LOCAL_STORAGE_PATH}/`) && compression.filter(req, res) })
  app.use((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()))

  // The REST API under /api/v1 is answered here from the operation table, outside Remix (ADR 027).
  const serveApi = (build.entry.module as { serveApi?: typeof ServeApi }).serveApi
  if (!serveApi) throw new Error('build/index.js does not export serveApi: rebuild with `npm run build`')
  app.use((req, res, next) => void serveApi(req, res, next))

  // Fingerprinted build assets never change; everything else in public/ may.
  app.use('/build', express.static('public/build', { immutable: true, maxAge: '1y', index: false }))
  const publicFiles = express.static('public', { maxAge: '1h', index: false })
  // Only paths under one of public/'s top-level names can be a file there: dashboard pages and API
  // calls are spared a file-system lookup each. (A new top-level name in public/ needs a restart.)
  const publicNames = new Set(await fs.readdir('public').catch(() => [] as string[]))
  app.use((req, res, next) => (publicNames.has(firstSegment(req.path)) ? publicFiles(req, res, next) : next()))

  // Dashboard requests that change state must come from our own pages (the API uses bearer tokens;
  // local-storage URLs carry their own signature, and any origin may PUT to them, as to a bucket).
  const configuredOrigin = config.APP_URL ? new URL(config.APP_URL).origin : null
  app.use((req, res, next) => {
    const appOrigins = [`${req.protocol}://${req.get('host')}`, ...(configuredOrigin ? [configuredOrigin] : [])]
    if (isCsrfExempt(req.originalUrl) || isSameOriginRequest(req.method, appOrigins, req.get('origin'), req.get('referer'))) return next()
    res.status(403).type('text/plain').send('Cross-site request refused: this form must be sent from Carcosa itself.')
  })

  app.all(
    '*',
    createRequestHandler({
      build,
      // Remix's development mode would send error stacks to the browser.
      mode: 'production',
      getLoadContext: (req, res) => ({
        requestId: res.locals.requestId as string,
        cspNonce: res.locals.cspNonce as string,
        clientIp: req.ip ?? null,
      }),
    }),
  )

  app.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    req.log.error({ err: error }, 'unhandled error')
    if (!res.headersSent) res.status(500).type('text/plain').send(`Internal error (request ${res.locals.requestId})`)
  })

  const warmUp = (build.entry.module as { warmUp?: typeof WarmUp }).warmUp
  const health = await warmUp?.()
  if (health && !health.healthy)
    logger.warn({ database: health.database }, 'the database did not answer the first query; /api/v1/health answers 503 until it does')
  // Background work starts before the port opens, so a running server always relays its events.
  await prepareJobStore(runtime.databaseUrl)
  const jobs = await startJobRunner({ databaseUrl: runtime.databaseUrl })
  const server = await listen(app, config).catch(async (error: unknown) => {
    await jobs.stop().catch(() => {})
    throw error
  })
  // Live progress (docs/realtime.md): upgrades at /api/v1/realtime go to the build's WebSocket endpoint,
  // which answers 404 to any other path; no other code listens for upgrades.
  const realtimeUpgrade = (build.entry.module as { realtimeUpgrade?: typeof RealtimeUpgrade }).realtimeUpgrade
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (realtimeUpgrade) return realtimeUpgrade(req, socket, head)
    socket.destroy()
  })
  const url = serverUrl(config)
  logger.info({ url }, `Carcosa is running at ${url}`)
  // The structured line is for log collectors; a person starting it locally wants the URL plainly.
  if (!config.isProduction && process.stdout.isTTY) console.log(`\n  Carcosa is running at ${url}\n`)
  // Only a hint for tools such as db:seed: a data directory that cannot take it does not stop the server.
  await recordServerAddress(config.DATA_DIR, url).catch((error: Error) =>
    logger.warn(`could not record the server's URL in DATA_DIR: ${error.message}`),
  )
  return { server, jobs, stopUsageFlushing: startUsageFlushing(), stopAuditSealing: startAuditSealing() }
}

/** `favicon.svg` of `/favicon.svg`, `build` of `/build/x.js`: percent-decoded as serve-static decodes it. */
function firstSegment(pathname: string) {
  const segment = pathname.slice(1).split('/', 1)[0] ?? ''
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** The headers a middleware that always sets the same ones sets, taken once. */
function headersSetBy(middleware: express.RequestHandler): Array<[string, string]> {
  const headers: Array<[string, string]> = []
  const recorder = { setHeader: (name: string, value: unknown) => headers.push([name, String(value)]), removeHeader: () => {} }
  middleware({} as express.Request, recorder as unknown as express.Response, () => {})
  return headers
}

function listen(app: express.Express, config: Runtime['config']) {
  return new Promise<http.Server>((resolve, reject) => {
    const listening = app.listen(config.PORT, config.HOST, () => resolve(listening))
    listening.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`PORT ${config.PORT} is already in use on ${config.HOST}; stop what uses it or set PORT to a free port`)
          : error,
      ),
    )
  })
}

main().catch((error: unknown) => {
  if (error instanceof StoppedWhileStarting) {
    logger.info(`${error.message}: stopped`)
    process.exit(0)
  }
  if (error instanceof ConfigError) {
    console.error(`Carcosa cannot start: invalid configuration`)
    for (const problem of error.problems) console.error(`  - ${problem}`)
  } else {
    // One line, no stack: what went wrong and, where the cause says it, what to do.
    const message = error instanceof Error ? error.message || error.name : String(error)
    console.error(`Carcosa cannot start: ${message.replace(/\s*\n\s*/g, ' ')}`)
  }
  process.exit(1)
})
