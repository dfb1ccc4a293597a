import pg from 'pg'
import type { Prisma } from '~/generated/prisma/client'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import { publish, type RealtimeMessage } from '~/utils/realtime-hub.server'
import { createDeliveries } from '../webhooks/fan-out.server'
import type { EventMessage, EventType } from './event-types'
import { EVENTS_CHANNEL } from './record-event.server'

/** Events claimed per transaction; a relay pass repeats until the outbox is empty. */
export const RELAY_BATCH_SIZE = 100
/** The backstop poll, for notifications missed while no listener was connected. */
const POLL_INTERVAL_MS = 2_000
const RECONNECT_DELAY_MS = 1_000

export interface DispatchedEvent {
  id: string
  projectId: string
  message: EventMessage
}

interface OutboxRow {
  id: string
  projectId: string
  type: string
  data: Prisma.JsonValue
  createdAt: Date
}

export const toMessage = (row: Pick<OutboxRow, 'type' | 'data' | 'createdAt'>): EventMessage =>
  ({ type: row.type as EventType, timestamp: row.createdAt.toISOString(), data: row.data }) as EventMessage

/** Live channels: every event goes to `project:<id>` as `{type, timestamp, data}` (best effort, after the commit). */
function announce(events: DispatchedEvent[]) {
  for (const event of events) publish(`project:${event.projectId}`, event.message as unknown as RealtimeMessage)
}

/**
 * Moves committed events out of the outbox: in one transaction per batch it claims undispatched
 * events (SKIP LOCKED, so instances relaying at once share the work), creates a webhook delivery and
 * its job for each subscribed endpoint, and stamps the events dispatched, then publishes them to
 * live channels. A crash before the commit leaves the events for the next pass; after it, every
 * delivery has its durable job (a live message may be missed: live channels are not durable).
 */
export async function relayEvents(): Promise<number> {
  let relayed = 0
  for (;;) {
    const batch = await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<OutboxRow[]>`
        SELECT id, "projectId", type, data, "createdAt" FROM "Event"
        WHERE "dispatchedAt" IS NULL ORDER BY "createdAt", id LIMIT ${RELAY_BATCH_SIZE} FOR UPDATE SKIP LOCKED`
      if (rows.length === 0) return []
      const events = rows.map((row) => ({ id: row.id, projectId: row.projectId, message: toMessage(row) }))
      await createDeliveries(tx, events)
      await tx.event.updateMany({ where: { id: { in: rows.map((row) => row.id) } }, data: { dispatchedAt: new Date() } })
      return events
    })
    relayed += batch.length
    announce(batch)
    if (batch.length < RELAY_BATCH_SIZE) return relayed
  }
}

/**
 * Relays on every commit notification and on a slow poll. One pass runs at a time per instance; a
 * notification during a pass asks for one more. Returns a stop function that waits for the pass.
 */
export function startEventRelay(databaseUrl: string): () => Promise<void> {
  let stopped = false
  let running: Promise<void> | null = null
  let again = false
  let listener: pg.Client | null = null

  const pass = () => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = relayEvents()
      .then(() => undefined)
      .catch((error: unknown) => logger.warn({ err: error as Error }, 'event relay pass failed; retrying on the next poll'))
      .finally(() => {
        running = null
        if (again) {
          again = false
          pass()
        }
      })
  }

  const listen = async () => {
    if (stopped) return
    const client = new pg.Client({ connectionString: databaseUrl })
    // A lost connection (database restart, failover) must never crash the process: listen again.
    client.on('error', (error) => logger.warn({ err: error }, 'event relay listener lost its connection'))
    client.on('end', () => {
      if (listener !== client) return
      listener = null
      listenLater()
    })
    client.on('notification', pass)
    try {
      await client.connect()
      await client.query(`LISTEN ${EVENTS_CHANNEL}`)
      listener = client
      pass() // whatever committed while nobody listened
    } catch (error) {
      logger.warn({ err: error as Error }, 'event relay could not listen; polling until it can')
      await client.end().catch(() => {})
      listenLater()
    }
  }
  const listenLater = () => {
    if (!stopped) setTimeout(() => void listen(), RECONNECT_DELAY_MS).unref()
  }

  void listen()
  const poll = setInterval(pass, POLL_INTERVAL_MS)
  poll.unref()

  return async () => {
    stopped = true
    clearInterval(poll)
    const client = listener
    listener = null
    await client?.end().catch(() => {})
    await running
  }
}
