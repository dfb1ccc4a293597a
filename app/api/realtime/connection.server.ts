import { WebSocket, type RawData } from 'ws'
import { canSubscribe, type RealtimePrincipal } from '~/services/realtime/channel-access.server'
import { parseChannel } from '~/services/realtime/channels'
import { logger } from '~/utils/logger.server'
import type { RealtimeHub, RealtimeSubscription } from '~/utils/realtime-hub.server'
import { clientMessageSchema, type ServerMessage } from './protocol'
import type { RealtimeLimits } from './realtime-server.server'

/** One credential's connections and subscriptions on this instance. */
export interface CredentialUsage {
  connections: number
  subscriptions: number
}

/** Client messages waiting to be handled (each may wait on the database); a client sending faster is cut off. */
const MAX_WAITING_MESSAGES = 32

const REFUSED_DETAIL = 'No such channel, or not one these credentials may hear.'

/**
 * Serves one open WebSocket: handles subscribe / unsubscribe / ping in order, forwards published
 * events, and disconnects a client whose unsent data passes the send buffer limit (a slow consumer
 * is dropped, never buffered without bound). Counts its connection and subscriptions in `usage`.
 */
export function attachConnection(
  ws: WebSocket,
  options: { principal: RealtimePrincipal; usage: CredentialUsage; hub: RealtimeHub; limits: RealtimeLimits; release: () => void },
) {
  const { principal, usage, hub, limits } = options
  const subscriptions = new Map<string, RealtimeSubscription>()
  let waiting = 0
  let turn: Promise<void> = Promise.resolve()
  usage.connections++

  const open = () => ws.readyState === WebSocket.OPEN

  /** Sends a text frame; a published event's bytes are shared by every receiver (no copy per socket). */
  function send(frame: Buffer) {
    if (!open()) return
    if (ws.bufferedAmount + frame.length > limits.sendBufferBytes) {
      logger.warn({ bufferedBytes: ws.bufferedAmount }, 'realtime client too slow: disconnected')
      // A close frame would queue behind the data the client is not reading: cut the socket.
      ws.terminate()
      return
    }
    ws.send(frame, { binary: false })
  }
  const reply = (message: ServerMessage) => send(Buffer.from(JSON.stringify(message), 'utf8'))

  async function subscribe(channel: string) {
    if (subscriptions.has(channel)) return reply({ type: 'subscribed', channel })
    const parsed = parseChannel(channel)
    if (!parsed) return reply({ type: 'refused', channel, code: 'not_found', detail: REFUSED_DETAIL })
    if (usage.subscriptions >= limits.maxSubscriptionsPerCredential) {
      return reply({
        type: 'refused',
        channel,
        code: 'limit',
        detail: `These credentials already hold ${limits.maxSubscriptionsPerCredential} subscriptions on this instance.`,
      })
    }
    usage.subscriptions++ // held while the check runs, so parallel connections cannot overshoot the cap
    let allowed: boolean
    try {
      allowed = await canSubscribe(principal, parsed)
    } catch (error) {
      logger.error({ err: error as Error, channel }, 'realtime subscription check failed')
      usage.subscriptions--
      options.release()
      return reply({ type: 'refused', channel, code: 'unavailable', detail: 'Could not check access just now; try again.' })
    }
    if (!allowed || !open()) {
      usage.subscriptions--
      options.release()
      if (!allowed) reply({ type: 'refused', channel, code: 'not_found', detail: REFUSED_DETAIL })
      return
    }
    const subscription = hub.subscribe(channel, (delivery) => send(delivery.frameBytes))
    subscriptions.set(channel, subscription)
    await subscription.ready
    reply({ type: 'subscribed', channel })
  }

  function unsubscribe(channel: string) {
    const subscription = subscriptions.get(channel)
    if (subscription) {
      subscription.unsubscribe()
      subscriptions.delete(channel)
      usage.subscriptions--
    }
    reply({ type: 'unsubscribed', channel })
  }

  async function handle(data: RawData, isBinary: boolean) {
    if (!open()) return
    let json: unknown
    try {
      if (isBinary) throw new Error('binary')
      json = JSON.parse(data.toString())
    } catch {
      return reply({
        type: 'error',
        code: 'invalid_message',
        detail: 'Send JSON text messages, e.g. {"type":"subscribe","channel":"project:<id>"}.',
      })
    }
    const parsed = clientMessageSchema.safeParse(json)
    if (!parsed.success) {
      const detail = parsed.error.issues
        .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
        .join('; ')
      return reply({ type: 'error', code: 'invalid_message', detail })
    }
    const message = parsed.data
    if (message.type === 'subscribe') return subscribe(message.channel)
    if (message.type === 'unsubscribe') return unsubscribe(message.channel)
    return reply({ type: 'pong' })
  }

  ws.on('message', (data, isBinary) => {
    if (waiting >= MAX_WAITING_MESSAGES) {
      ws.close(1008, 'too many messages waiting')
      return
    }
    waiting++
    turn = turn
      .then(() => handle(data, isBinary))
      .catch((error: unknown) => logger.error({ err: error as Error }, 'realtime message failed'))
      .finally(() => waiting--)
  })
  // Protocol errors (an oversized or malformed frame) close the socket; ws reports them here first.
  ws.on('error', (error) => logger.debug({ err: error }, 'realtime connection error'))
  ws.once('close', () => {
    for (const subscription of subscriptions.values()) subscription.unsubscribe()
    usage.subscriptions -= subscriptions.size
    subscriptions.clear()
    usage.connections--
    options.release()
  })
}
