import { randomBytes } from 'node:crypto'
import type { Transaction } from '~/utils/db.server'
import type { EventMessage } from '../events/event-types'
import { enqueueJob } from '../jobs/enqueue.server'
import { QUEUES } from '../jobs/queues'

/** `msg_` + 16 random bytes: the `webhook-id` header, the same on every attempt of a delivery. */
export const newDeliveryId = () => `msg_${randomBytes(16).toString('base64url')}`

/** Delivery ids are ordered by nothing; the delivery log orders by createdAt. */
export async function createDelivery(tx: Transaction, endpointId: string, event: { id: string; message: EventMessage }) {
  const id = newDeliveryId()
  await tx.webhookDelivery.create({
    data: {
      id,
      endpointId,
      eventId: event.id,
      eventType: event.message.type,
      payload: JSON.stringify(event.message),
      nextAttemptAt: new Date(),
    },
  })
  await enqueueJob(tx, QUEUES.webhookDeliver.name, { deliveryId: id }, { group: { id: endpointId } })
  return id
}

/** Creates, in the relay's transaction, one delivery (and its job) per event and enabled endpoint subscribed to its type. */
export async function createDeliveries(tx: Transaction, events: { id: string; projectId: string; message: EventMessage }[]) {
  const projectIds = [...new Set(events.map((event) => event.projectId))]
  const endpoints = await tx.webhookEndpoint.findMany({
    where: { projectId: { in: projectIds }, enabled: true },
    select: { id: true, projectId: true, eventTypes: true },
  })
  if (endpoints.length === 0) return 0
  let created = 0
  for (const event of events) {
    for (const endpoint of endpoints) {
      if (endpoint.projectId !== event.projectId) continue
      if (endpoint.eventTypes.length > 0 && !endpoint.eventTypes.includes(event.message.type)) continue
      await createDelivery(tx, endpoint.id, event)
      created++
    }
  }
  return created
}
