import { randomBytes } from 'node:crypto'
import type { Prisma } from '~/generated/prisma/client'
import type { Transaction } from '~/utils/db.server'
import type { EventData, EventType } from './event-types'

/** Listened to by every instance's relay; PostgreSQL sends it only when the transaction commits. */
export const EVENTS_CHANNEL = 'carcosa_events'

/** `evt_` + 16 random bytes: ids sort by nothing; events are ordered by createdAt. */
export const newEventId = () => `evt_${randomBytes(16).toString('base64url')}`

/**
 * Records a domain event in the outbox. Call it inside the transaction that makes the change, beside
 * recordAudit: the event is announced if and only if the change commits (ADR 016).
 */
export async function recordEvent<T extends EventType>(tx: Transaction, event: { type: T; data: EventData<T> & { projectId: string } }) {
  const id = newEventId()
  await tx.event.create({ data: { id, projectId: event.data.projectId, type: event.type, data: event.data as Prisma.InputJsonObject } })
  await tx.$executeRaw`SELECT pg_notify(${EVENTS_CHANNEL}, '')`
  return id
}
