import { remember } from '@epic-web/remember'
import { Redis } from 'ioredis'
import pg from 'pg'
import { getConfig } from './config.server'
import { pool } from './db.server'
import { logger } from './logger.server'
import { releaseRemembered } from './singletons.server'

/**
 * Tells every instance that something its caches may hold has changed (a key revoked, a project
 * renamed), so a cache of a few seconds never outlives the change by more than a delivery.
 *
 * Topics are `<kind>:<id>` strings. The instance that publishes hears its own message at once;
 * the others through Redis pub/sub when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY. While the
 * transport is down `connected()` is false, and caches must not answer from memory: messages sent
 * meanwhile are lost, so every (re)connection also tells listeners to forget everything.
 */
export type InvalidationKind = 'api-key' | 'api-token-family' | 'user' | 'project' | 'team' | 'organization' | 'tenant'
export type InvalidationListener = (message: { kind: InvalidationKind; id: string } | { kind: 'all' }) => void

const CHANNEL = 'carcosa_invalidation'
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5_000
const KINDS = new Set<string>(['api-key', 'api-token-family', 'user', 'project', 'team', 'organization', 'tenant'])

interface Transport {
  publish(payload: string): Promise<void>
  close(): Promise<void>
}

interface Bus {
  listeners: Set<InvalidationListener>
  connected: boolean
  transport: Transport
}

const BUS = 'carcosa.invalidation-bus'

function deliver(bus: Bus, payload: string) {
  const at = payload.indexOf(':')
  const kind = payload.slice(0, at)
  if (at < 1 || !KINDS.has(kind)) return
  const message = { kind: kind as InvalidationKind, id: payload.slice(at + 1) }
  for (const listener of bus.listeners) listener(message)
}

function setConnected(bus: Bus, connected: boolean) {
  if (bus.connected === connected) return
  bus.connected = connected
  // Whatever was published while we were not listening is unknown: forget it all.
  for (const listener of bus.listeners) listener({ kind: 'all' })
}

function redisTransport(bus: Bus, url: string): Transport {
  const subscriber = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null, enableOfflineQueue: true })
  const publisher = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
  subscriber.on('error', (error: Error) => logger.warn({ err: error }, 'invalidation bus: Redis subscriber error'))
  publisher.on('error', (error: Error) => logger.warn({ err: error }, 'invalidation bus: Redis publisher error'))
  subscriber.on('ready', () => {
    subscriber.subscribe(CHANNEL).then(
      () => setConnected(bus, true),
      (error: Error) => logger.warn({ err: error }, 'invalidation bus: subscribe failed'),
    )
  })
  subscriber.on('close', () => setConnected(bus, false))
  subscriber.on('message', (_channel: string, payload: string) => deliver(bus, payload))
  return {
    async publish(payload) {
      await publisher.publish(CHANNEL, payload)
    },
    async close() {
      subscriber.disconnect()
      publisher.disconnect()
    },
  }
}

function postgresTransport(bus: Bus, connectionString: string): Transport {
  let client: pg.Client | null = null
  let closed = false
  let delay = RECONNECT_MIN_MS
  let timer: NodeJS.Timeout | undefined

  const retry = () => {
    setConnected(bus, false)
    if (closed || timer) return
    timer = setTimeout(() => {
      timer = undefined
      void connect()
    }, delay)
    timer.unref()
    delay = Math.min(delay * 2, RECONNECT_MAX_MS)
  }

  const connect = async () => {
    const listener = new pg.Client({ connectionString })
    // A database restart ends this connection: reconnect with backoff, never crash the process.
    listener.on('error', (error) => {
      logger.warn({ err: error }, 'invalidation bus: LISTEN connection failed; reconnecting')
      void listener.end().catch(() => {})
      if (client === listener) client = null
      retry()
    })
    listener.on('end', () => {
      if (client === listener) client = null
      retry()
    })
    listener.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) deliver(bus, message.payload)
    })
    try {
      await listener.connect()
      await listener.query(`LISTEN ${CHANNEL}`)
      if (closed) return void (await listener.end())
      // The socket must not keep a finished test or a stopping server alive on its own.
      ;(listener as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.()
      client = listener
      delay = RECONNECT_MIN_MS
      setConnected(bus, true)
    } catch (error) {
      logger.warn({ err: error as Error }, 'invalidation bus: could not LISTEN; retrying')
      void listener.end().catch(() => {})
      retry()
    }
  }
  void connect()

  return {
    async publish(payload) {
      // Through the shared pool: publishing must not wait for the listener to reconnect.
      await pool().query('SELECT pg_notify($1, $2)', [CHANNEL, payload])
    },
    async close() {
      closed = true
      clearTimeout(timer)
      const open = client
      client = null
      await open?.end().catch(() => {})
    },
  }
}

// One bus per process, shared by the host and the app build (both load this module).
const bus = (): Bus =>
  remember(BUS, () => {
    const redisUrl = getConfig().REDIS_URL
    const databaseUrl = process.env.DATABASE_URL
    if (!redisUrl && !databaseUrl) throw new Error('DATABASE_URL is not set: the invalidation bus starts after the database')
    const created = { listeners: new Set(), connected: false } as unknown as Bus
    created.transport = redisUrl ? redisTransport(created, redisUrl) : postgresTransport(created, databaseUrl!)
    return created
  })

/** Hears every invalidation, from this instance and the others. Starts the bus on first use. */
export function onInvalidation(listener: InvalidationListener): () => void {
  const current = bus()
  current.listeners.add(listener)
  return () => current.listeners.delete(listener)
}

/** Whether messages from other instances are being heard right now (caches may answer from memory). */
export const invalidationBusConnected = () => bus().connected

/**
 * Announces a change: this instance's listeners hear it before this resolves, the other instances
 * within a delivery. A failed delivery is logged (their caches expire on their own within seconds).
 */
export async function publishInvalidation(kind: InvalidationKind, id: string): Promise<void> {
  const current = bus()
  const payload = `${kind}:${id}`
  deliver(current, payload)
  await current.transport
    .publish(payload)
    .catch((error: unknown) => logger.warn({ err: error as Error, kind }, 'invalidation bus: publish failed'))
}

/** Stops listening (server shutdown, end of a test file). */
export function closeInvalidationBus(): Promise<void> {
  return releaseRemembered(BUS, (current: Bus) => current.transport.close())
}
