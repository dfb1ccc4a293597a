import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { remember } from '@epic-web/remember'
import { type WebSocket, WebSocketServer } from 'ws'
import { getConfig } from '~/utils/config.server'
import { logger } from '~/utils/logger.server'
import { getRealtimeHub, type RealtimeHub } from '~/utils/realtime-hub.server'
import { releaseRemembered } from '~/utils/singletons.server'
import { problemJson } from '../problem.server'
import { authenticateUpgrade } from './authenticate-upgrade.server'
import { attachConnection, type CredentialUsage } from './connection.server'
import { MAX_CLIENT_MESSAGE_BYTES, REALTIME_PATH } from './protocol'

export interface RealtimeLimits {
  maxConnections: number
  maxConnectionsPerCredential: number
  maxSubscriptionsPerCredential: number
  sendBufferBytes: number
  pingIntervalMs: number
}

export interface RealtimeServer {
  /** For the HTTP server's `upgrade` event; answers 404 for any path but /api/v1/realtime. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  connectionCount(): number
  /** Closes every connection (1001, going away) and stops the pings. */
  close(): Promise<void>
}

export function limitsFromConfig(): RealtimeLimits {
  const config = getConfig()
  return {
    maxConnections: config.REALTIME_MAX_CONNECTIONS,
    maxConnectionsPerCredential: config.REALTIME_MAX_CONNECTIONS_PER_CREDENTIAL,
    maxSubscriptionsPerCredential: config.REALTIME_MAX_SUBSCRIPTIONS_PER_CREDENTIAL,
    sendBufferBytes: config.REALTIME_SEND_BUFFER_BYTES,
    pingIntervalMs: config.REALTIME_PING_INTERVAL_SECONDS * 1000,
  }
}

/**
 * The WebSocket endpoint: `ws` in noServer mode, so it sees only the upgrades handed to it and
 * never touches other sockets. An upgrade is authenticated and checked against the caps before the
 * handshake completes; refusals are plain HTTP answers with a problem+json body.
 */
export function createRealtimeServer(options: { hub?: RealtimeHub; limits?: RealtimeLimits } = {}): RealtimeServer {
  const hub = options.hub ?? getRealtimeHub()
  const limits = options.limits ?? limitsFromConfig()
  // No compression: events are small, and per-connection zlib contexts cost far more memory than they save.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false, clientTracking: true })
  const usage = new Map<string, CredentialUsage>()
  const alive = new WeakMap<WebSocket, boolean>()
  let authenticating = 0
  let closing = false

  const pings = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate()
        continue
      }
      alive.set(ws, false)
      ws.ping()
    }
  }, limits.pingIntervalMs)
  pings.unref()

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    // Until ws owns the socket, a reset by the client must not become an uncaught error.
    socket.on('error', () => socket.destroy())
    const url = new URL(req.url ?? '/', 'http://carcosa.invalid')
    if (url.pathname !== REALTIME_PATH) return refuse(socket, 404, 'WebSocket connections are accepted at /api/v1/realtime only.')
    if (closing) return refuse(socket, 503, 'The server is shutting down; reconnect shortly.')
    if (wss.clients.size + authenticating >= limits.maxConnections) {
      return refuse(socket, 503, 'This instance holds as many realtime connections as it may; reconnect shortly.')
    }
    authenticating++
    let auth: Awaited<ReturnType<typeof authenticateUpgrade>>
    try {
      auth = await authenticateUpgrade(req, url)
    } catch (error) {
      logger.error({ err: error as Error }, 'realtime authentication failed')
      return refuse(socket, 503, 'Could not check the credentials just now; reconnect shortly.')
    } finally {
      authenticating--
    }
    if ('status' in auth) return refuse(socket, auth.status, auth.detail)
    const use = usage.get(auth.credential)
    if (use && use.connections >= limits.maxConnectionsPerCredential) {
      return refuse(socket, 429, `This credential already holds ${limits.maxConnectionsPerCredential} realtime connections on this instance.`)
    }
    if (socket.destroyed) return
    const { principal, credential } = auth
    wss.handleUpgrade(req, socket, head, (ws) => {
      let counted = usage.get(credential)
      if (!counted) usage.set(credential, (counted = { connections: 0, subscriptions: 0 }))
      // Another upgrade of the same credential may have finished during this one's handshake.
      if (counted.connections >= limits.maxConnectionsPerCredential || closing) {
        ws.close(1008, 'connection limit')
        return
      }
      alive.set(ws, true)
      ws.on('pong', () => alive.set(ws, true))
      attachConnection(ws, {
        principal,
        usage: counted,
        hub,
        limits,
        release: () => {
          if (counted.connections === 0 && counted.subscriptions === 0 && usage.get(credential) === counted) usage.delete(credential)
        },
      })
    })
  }

  return {
    handleUpgrade(req, socket, head) {
      upgrade(req, socket, head).catch((error: unknown) => {
        logger.error({ err: error as Error }, 'realtime upgrade failed')
        socket.destroy()
      })
    },
    connectionCount: () => wss.clients.size,
    async close() {
      closing = true
      clearInterval(pings)
      const closed = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve())
            ws.close(1001, 'server shutting down')
            // A client that does not answer the close handshake is cut off.
            setTimeout(() => ws.terminate(), 2_000).unref()
          }),
      )
      await Promise.all(closed)
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** An HTTP answer on a socket that will not become a WebSocket. */
function refuse(socket: Duplex, status: number, detail: string) {
  if (socket.destroyed) return
  const body = problemJson({ status, detail })
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  )
}

const REALTIME_SERVER = 'carcosa.realtime-server'

/** The process's realtime endpoint, created on the first upgrade. */
export function getRealtimeServer(): RealtimeServer {
  return remember(REALTIME_SERVER, () => createRealtimeServer())
}

/** Closes every realtime connection of the process, if the endpoint was ever made (the host's shutdown). */
export function closeRealtimeServer(): Promise<void> {
  return releaseRemembered(REALTIME_SERVER, (server: RealtimeServer) => server.close())
}
