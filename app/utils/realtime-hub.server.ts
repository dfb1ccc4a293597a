import { randomUUID } from 'node:crypto'
import { remember } from '@epic-web/remember'
import { Redis } from 'ioredis'
import { getConfig } from './config.server'
import { logger } from './logger.server'
import { releaseRemembered } from './singletons.server'

/** What is published: a small JSON object with a dotted `type` (`upload.progress`, `file.uploaded`, ...). */
export interface RealtimeMessage {
  type: string
  [field: string]: unknown
}

/** One message as a subscriber receives it; `frame` is `{ channel, ...message }` serialized once for every receiver. */
export interface RealtimeDelivery {
  channel: string
  message: RealtimeMessage
  frame: string
  /** `frame` as UTF-8, encoded once: sockets send these bytes as they are, without one encoding per receiver. */
  frameBytes: Buffer
}

export type RealtimeListener = (delivery: RealtimeDelivery) => void

export interface RealtimeSubscription {
  /** Settles once messages published on other instances reach this subscription (at once without Redis). */
  ready: Promise<void>
  unsubscribe(): void
}

export interface RealtimeHub {
  /**
   * Delivers `message` to every subscriber of `channel`, on this instance at once and on the others
   * through Redis. Never throws: a message that cannot be sent is logged and dropped, because callers
   * publish after their change has committed.
   */
  publish(channel: string, message: RealtimeMessage): void
  subscribe(channel: string, listener: RealtimeListener): RealtimeSubscription
  /** Channels with at least one subscriber on this instance. */
  channelCount(): number
  close(): Promise<void>
}

/** `project:<id>`, `upload:<id>`: a lower-case kind and an id of letters, digits, `_` and `-`. */
export const REALTIME_CHANNEL_PATTERN = /^[a-z][a-z_]{0,31}:[A-Za-z0-9_-]{1,128}$/
/** Messages are notifications, not payloads: anything larger is a bug and is dropped. */
export const REALTIME_MAX_MESSAGE_BYTES = 64 * 1024
/** Publishes waiting for Redis's answer; beyond this, cross-instance delivery is dropped (local delivery is not). */
export const REALTIME_MAX_PENDING_PUBLISHES = 10_000

const CONNECT_TIMEOUT_MS = 2_000
const COMMAND_TIMEOUT_MS = 1_000
const WARNING_INTERVAL_MS = 30_000
const SUBSCRIBER_NAME = 'carcosa-realtime-subscriber'

/** What travels between instances: the origin lets an instance skip its own messages (already delivered). */
interface Envelope {
  origin: string
  message: RealtimeMessage
}

function validMessage(channel: string, message: RealtimeMessage): string | null {
  if (!REALTIME_CHANNEL_PATTERN.test(channel)) return `invalid channel ${JSON.stringify(channel.slice(0, 80))}`
  if (typeof message?.type !== 'string' || message.type.length === 0) return 'a message needs a non-empty string type'
  return null
}

/**
 * In-process fan-out, plus Redis pub/sub between instances when `redisUrl` is given: one publishing
 * connection and one subscribing connection (a subscribed Redis connection can do nothing else), with
 * one Redis channel per hub channel that has subscribers here, so an instance only hears what it needs.
 * While Redis is away each instance still serves its own subscribers; warnings are logged at most
 * every 30 s.
 */
export function createRealtimeHub(
  options: { redisUrl?: string; redisPrefix?: string; log?: (message: string) => void; maxPendingPublishes?: number } = {},
): RealtimeHub {
  const log = options.log ?? ((message: string) => logger.warn(message))
  const prefix = options.redisPrefix ?? 'carcosa:realtime:'
  const maxPending = options.maxPendingPublishes ?? REALTIME_MAX_PENDING_PUBLISHES
  const origin = randomUUID()
  /** Channel -> its listeners here, and when Redis confirmed the channel's SUBSCRIBE. */
  const channels = new Map<string, { listeners: Set<RealtimeListener>; ready: Promise<void> }>()

  let lastWarningAt = -Infinity
  const warn = (what: string, error?: unknown) => {
    const now = Date.now()
    if (now - lastWarningAt < WARNING_INTERVAL_MS) return
    lastWarningAt = now
    const reason = error === undefined ? '' : ` (${error instanceof Error ? error.message : String(error)})`
    log(`realtime: ${what}${reason}`)
  }

  function deliverLocally(channel: string, message: RealtimeMessage) {
    const subscribers = channels.get(channel)?.listeners
    if (!subscribers || subscribers.size === 0) return
    let frame: string | undefined
    let frameBytes: Buffer | undefined
    const delivery: RealtimeDelivery = {
      channel,
      message,
      get frame() {
        return (frame ??= JSON.stringify({ ...message, channel }))
      },
      get frameBytes() {
        return (frameBytes ??= Buffer.from(this.frame, 'utf8'))
      },
    }
    // A copy: a listener may unsubscribe (itself or others) while we iterate.
    for (const listener of [...subscribers]) {
      try {
        listener(delivery)
      } catch (error) {
        logger.error({ err: error as Error, channel, type: message.type }, 'realtime listener failed')
      }
    }
  }

  let publisher: Redis | undefined
  let subscriber: Redis | undefined
  let pending = 0

  if (options.redisUrl) {
    const connection = (name: string) =>
      new Redis(options.redisUrl!, {
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: COMMAND_TIMEOUT_MS,
        // Commands sent while Redis is away wait for one reconnection attempt, then fail; publishes
        // are also capped by maxPending, so nothing queues without bound.
        maxRetriesPerRequest: 1,
        connectionName: name,
      })
    publisher = connection('carcosa-realtime-publisher')
    publisher.on('error', (error) => warn('Redis publisher unavailable; events reach this instance only', error))
    // ioredis re-subscribes what Redis had confirmed after a reconnection; channels whose
    // SUBSCRIBE failed during an outage are asked again on every `ready`.
    subscriber = connection(SUBSCRIBER_NAME)
    let connectedBefore = false
    subscriber.on('ready', () => {
      if (connectedBefore) for (const channel of channels.keys()) void subscribeRedis(channel)
      connectedBefore = true
    })
    subscriber.on('error', (error) => warn('Redis subscriber unavailable; events from other instances are missed', error))
    subscriber.on('messageBuffer', (redisChannel: Buffer, payload: Buffer) => {
      const channel = redisChannel.toString('utf8').slice(prefix.length)
      let envelope: Envelope
      try {
        envelope = JSON.parse(payload.toString('utf8')) as Envelope
      } catch {
        return warn(`an unreadable message arrived on ${prefix}${channel}`)
      }
      if (envelope.origin === origin) return
      if (validMessage(channel, envelope.message) !== null) return warn(`an invalid message arrived on ${prefix}${channel}`)
      deliverLocally(channel, envelope.message)
    })
  }

  function subscribeRedis(channel: string): Promise<void> {
    if (!subscriber) return Promise.resolve()
    return subscriber.subscribe(`${prefix}${channel}`).then(
      () => undefined,
      (error: unknown) => warn(`could not subscribe to ${channel} in Redis`, error),
    )
  }

  let closed = false
  return {
    publish(channel, message) {
      const problem = validMessage(channel, message)
      if (problem) return void logger.error({ channel: channel.slice(0, 80) }, `realtime publish refused: ${problem}`)
      if (closed) return
      let payload: string
      try {
        payload = JSON.stringify({ origin, message } satisfies Envelope)
      } catch (error) {
        return void logger.error({ err: error as Error, channel, type: message.type }, 'realtime message is not JSON')
      }
      if (Buffer.byteLength(payload) > REALTIME_MAX_MESSAGE_BYTES) {
        return void logger.error({ channel, type: message.type }, `realtime message over ${REALTIME_MAX_MESSAGE_BYTES} bytes dropped`)
      }
      deliverLocally(channel, message)
      if (!publisher) return
      if (pending >= maxPending) return warn(`over ${maxPending} publishes waiting for Redis; an event reached this instance only`)
      pending++
      publisher
        .publish(`${prefix}${channel}`, payload)
        .catch((error: unknown) => warn('Redis publish failed; an event reached this instance only', error))
        .finally(() => pending--)
    },

    subscribe(channel, listener) {
      if (!REALTIME_CHANNEL_PATTERN.test(channel)) throw new RangeError(`invalid realtime channel ${JSON.stringify(channel.slice(0, 80))}`)
      let entry = channels.get(channel)
      if (!entry) {
        const ready = closed || !subscriber ? Promise.resolve() : Promise.race([subscribeRedis(channel), timeout(CONNECT_TIMEOUT_MS)])
        entry = { listeners: new Set(), ready }
        channels.set(channel, entry)
      }
      const { listeners } = entry
      listeners.add(listener)
      let active = true
      return {
        ready: entry.ready,
        unsubscribe() {
          if (!active) return
          active = false
          listeners.delete(listener)
          if (listeners.size > 0 || channels.get(channel)?.listeners !== listeners) return
          channels.delete(channel)
          if (subscriber && !closed) {
            subscriber
              .unsubscribe(`${prefix}${channel}`)
              .catch((error: unknown) => warn(`could not unsubscribe from ${channel} in Redis`, error))
          }
        },
      }
    },

    channelCount: () => channels.size,

    async close() {
      if (closed) return
      closed = true
      channels.clear()
      await Promise.all([publisher, subscriber].map((redis) => redis?.quit().catch(() => redis.disconnect())))
    },
  }
}

/** Resolves (never rejects) after `ms`: `ready` must not hang a subscriber when Redis is down. */
function timeout(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref())
}

const REALTIME_HUB = 'carcosa.realtime-hub'

/** The process's hub: Redis-backed when REDIS_URL is set, in-process otherwise. Created once, lazily. */
export function getRealtimeHub(): RealtimeHub {
  return remember(REALTIME_HUB, () => {
    const config = getConfig()
    return createRealtimeHub({ redisUrl: config.REDIS_URL, redisPrefix: config.REALTIME_REDIS_PREFIX })
  })
}

/** Closes the process's hub (its Redis connections), if one was made. */
export function closeRealtimeHub(): Promise<void> {
  return releaseRemembered(REALTIME_HUB, (hub: RealtimeHub) => hub.close())
}

/** Publishes on the process's hub; see RealtimeHub.publish. */
export function publish(channel: string, message: RealtimeMessage): void {
  getRealtimeHub().publish(channel, message)
}

/** Subscribes on the process's hub; see RealtimeHub.subscribe. */
export function subscribe(channel: string, listener: RealtimeListener): RealtimeSubscription {
  return getRealtimeHub().subscribe(channel, listener)
}
