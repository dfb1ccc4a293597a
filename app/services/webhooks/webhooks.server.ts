import { getConfig } from '~/utils/config.server'
import { sealSecret } from '~/utils/credentials.server'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import { EndpointRefused, assertHostAllowed, parseWebhookUrl } from '~/storage/endpoint-guard.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { newEventId } from '../events/record-event.server'
import { toMessage } from '../events/relay.server'
import { enqueueJob } from '../jobs/enqueue.server'
import { QUEUES } from '../jobs/queues'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { webhookPolicy } from './deliver.server'
import { createDelivery } from './fan-out.server'
import { MAX_ENDPOINTS_PER_PROJECT, type CreateWebhookInput, type UpdateWebhookInput } from './schemas'
import { newWebhookSecret } from './signing.server'

/** What callers see of an endpoint: never its secrets. */
export interface WebhookView {
  id: string
  projectId: string
  url: string
  description: string
  eventTypes: string[]
  enabled: boolean
  /** Why Carcosa disabled it (410 Gone, failing for days); null otherwise. */
  disabledReason: string | null
  /** Since when every attempt has failed; null while deliveries succeed. */
  failingSince: Date | null
  /** Until when the secret before the last rotation still signs; null outside a rotation. */
  previousSecretExpiresAt: Date | null
  createdAt: Date
  updatedAt: Date
}

export interface WebhookAttemptView {
  attemptedAt: Date
  statusCode: number | null
  latencyMs: number
  responseBody: string
  error: string | null
}

export interface WebhookDeliveryView {
  id: string
  endpointId: string
  eventId: string
  eventType: string
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED'
  attemptCount: number
  nextAttemptAt: Date | null
  lastAttemptAt: Date | null
  createdAt: Date
  /** Newest first, at most MAX_ATTEMPTS_SHOWN. */
  attempts: WebhookAttemptView[]
}

export const MAX_ATTEMPTS_SHOWN = 25
/** Deliveries one "replay failed since" call sends again. */
export const MAX_REPLAY = 1000

const endpointSelect = {
  id: true,
  projectId: true,
  url: true,
  description: true,
  eventTypes: true,
  enabled: true,
  disabledReason: true,
  failingSince: true,
  previousSecretExpiresAt: true,
  createdAt: true,
  updatedAt: true,
} as const

const deliverySelect = {
  id: true,
  endpointId: true,
  eventId: true,
  eventType: true,
  status: true,
  attemptCount: true,
  nextAttemptAt: true,
  lastAttemptAt: true,
  createdAt: true,
  attempts: {
    select: { attemptedAt: true, statusCode: true, latencyMs: true, responseBody: true, error: true },
    orderBy: { attemptedAt: 'desc' },
    take: MAX_ATTEMPTS_SHOWN,
  },
} as const

const toView = (row: WebhookView): WebhookView => ({
  ...row,
  previousSecretExpiresAt: row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date() ? row.previousSecretExpiresAt : null,
})

/** Checks the URL's text and what its host resolves to now; it is checked again at every connection. */
async function checkedUrl(text: string): Promise<string> {
  const policy = webhookPolicy()
  try {
    const url = parseWebhookUrl(text, policy)
    await assertHostAllowed(url.hostname, policy)
    return url.toString()
  } catch (error) {
    if (error instanceof EndpointRefused) throw new AppError('VALIDATION', error.message, { fieldErrors: { url: [error.message] } })
    throw error
  }
}

/** An endpoint and the actor's access to its project; one of a project the actor cannot see is "not found". */
async function endpointWithAccess(db: Transaction, actor: Actor, endpointId: string, projectId?: string) {
  const endpoint = await db.webhookEndpoint.findUnique({ where: { id: endpointId }, select: endpointSelect })
  if (!endpoint || (projectId && endpoint.projectId !== projectId)) throw notFound('Webhook endpoint')
  const access = await projectAccess(db, actor, endpoint.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Webhook endpoint') : error
  })
  return { endpoint, access }
}

function audit(
  tx: Transaction,
  actor: Actor,
  access: ProjectAccess,
  action: string,
  endpointId: string,
  change: { before?: object; after?: object },
) {
  return recordAudit(tx, actor, actor, { ...projectAuditScope(access), action, targetType: 'webhook_endpoint', targetId: endpointId, ...change })
}

const auditFields = (row: Pick<WebhookView, 'url' | 'description' | 'eventTypes' | 'enabled'>) => ({
  url: row.url,
  description: row.description,
  eventTypes: row.eventTypes,
  enabled: row.enabled,
})

export async function listWebhooks(actor: Actor, projectId: string, page: PageQuery): Promise<Page<WebhookView>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'list the webhooks of this project')
  const rows = await prisma.webhookEndpoint.findMany({ select: endpointSelect, ...pageArgs(page, { projectId }) })
  return toPage(rows.map(toView), page)
}

export async function getWebhook(actor: Actor, endpointId: string, options: { projectId?: string } = {}): Promise<WebhookView> {
  const { endpoint, access } = await endpointWithAccess(prisma, actor, endpointId, options.projectId)
  requirePermission(access, 'projects:read', 'read the webhooks of this project')
  return toView(endpoint)
}

/** Creates an endpoint; its signing secret is returned here once and never again. */
export async function createWebhook(
  actor: Actor,
  input: CreateWebhookInput & { projectId: string },
): Promise<{ webhook: WebhookView; secret: string }> {
  const access = await projectAccess(prisma, actor, input.projectId)
  requirePermission(access, 'projects:write', 'add webhooks to this project')
  const url = await checkedUrl(input.url)
  const secret = newWebhookSecret()
  const sealed = await sealSecret(secret)
  const webhook = await prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Project" WHERE id = ${input.projectId} FOR UPDATE`
    const count = await tx.webhookEndpoint.count({ where: { projectId: input.projectId } })
    if (count >= MAX_ENDPOINTS_PER_PROJECT) {
      throw new AppError('CONFLICT', `A project has at most ${MAX_ENDPOINTS_PER_PROJECT} webhook endpoints; delete one first.`)
    }
    const row = await tx.webhookEndpoint.create({
      data: {
        projectId: input.projectId,
        url,
        description: input.description,
        eventTypes: input.eventTypes,
        enabled: input.enabled,
        secret: sealed,
      },
      select: endpointSelect,
    })
    await audit(tx, actor, access, 'webhook.create', row.id, { after: auditFields(row) })
    return toView(row)
  })
  return { webhook, secret }
}

/** Changes an endpoint; enabling one Carcosa had disabled clears the reason and its failure streak. */
export async function updateWebhook(
  actor: Actor,
  endpointId: string,
  input: UpdateWebhookInput,
  options: { projectId?: string } = {},
): Promise<WebhookView> {
  const url = input.url === undefined ? undefined : await checkedUrl(input.url)
  return prisma.$transaction(async (tx) => {
    const { endpoint, access } = await endpointWithAccess(tx, actor, endpointId, options.projectId)
    requirePermission(access, 'projects:write', 'change the webhooks of this project')
    const row = await tx.webhookEndpoint.update({
      where: { id: endpointId },
      data: {
        url,
        description: input.description,
        eventTypes: input.eventTypes,
        enabled: input.enabled,
        ...(input.enabled === true && !endpoint.enabled ? { disabledReason: null, failingSince: null } : {}),
        ...(input.enabled === false ? { disabledReason: null } : {}),
      },
      select: endpointSelect,
    })
    await audit(tx, actor, access, 'webhook.update', endpointId, { before: auditFields(endpoint), after: auditFields(row) })
    return toView(row)
  })
}

export async function deleteWebhook(actor: Actor, endpointId: string, options: { projectId?: string } = {}): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { endpoint, access } = await endpointWithAccess(tx, actor, endpointId, options.projectId)
    requirePermission(access, 'projects:write', 'delete the webhooks of this project')
    await tx.webhookEndpoint.delete({ where: { id: endpointId } })
    await audit(tx, actor, access, 'webhook.delete', endpointId, { before: auditFields(endpoint) })
  })
}

/**
 * Replaces the signing secret. The old one keeps signing beside the new one (two signatures per
 * attempt) for WEBHOOK_SECRET_ROTATION_HOURS, so receivers can switch without missing a delivery.
 */
export async function rotateWebhookSecret(
  actor: Actor,
  endpointId: string,
  options: { projectId?: string } = {},
): Promise<{ webhook: WebhookView; secret: string }> {
  const secret = newWebhookSecret()
  const sealed = await sealSecret(secret)
  const webhook = await prisma.$transaction(async (tx) => {
    const { access } = await endpointWithAccess(tx, actor, endpointId, options.projectId)
    requirePermission(access, 'projects:write', "rotate the secrets of this project's webhooks")
    const current = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id: endpointId }, select: { secret: true } })
    const previousSecretExpiresAt = new Date(Date.now() + getConfig().WEBHOOK_SECRET_ROTATION_HOURS * 3600 * 1000)
    const row = await tx.webhookEndpoint.update({
      where: { id: endpointId },
      data: { secret: sealed, previousSecret: current.secret, previousSecretExpiresAt },
      select: endpointSelect,
    })
    await audit(tx, actor, access, 'webhook.rotate_secret', endpointId, {
      after: { previousSecretExpiresAt: previousSecretExpiresAt.toISOString() },
    })
    return toView(row)
  })
  return { webhook, secret }
}

/** Sends a `webhook.test` event to this endpoint only (even a disabled one's owner may want to try it: it must be enabled). */
export async function sendTestEvent(actor: Actor, endpointId: string, options: { projectId?: string } = {}): Promise<WebhookDeliveryView> {
  const deliveryId = await prisma.$transaction(async (tx) => {
    const { endpoint, access } = await endpointWithAccess(tx, actor, endpointId, options.projectId)
    requirePermission(access, 'projects:write', "send test events to this project's webhooks")
    if (!endpoint.enabled) throw new AppError('CONFLICT', 'This endpoint is disabled; enable it to send a test event.')
    // Recorded as already dispatched: it goes to this endpoint alone, not to the others or to live channels.
    const event = await tx.event.create({
      data: {
        id: newEventId(),
        projectId: endpoint.projectId,
        type: 'webhook.test',
        data: { projectId: endpoint.projectId, endpointId, message: 'A test event sent from Carcosa.' },
        dispatchedAt: new Date(),
      },
    })
    const deliveryId = await createDelivery(tx, endpointId, { id: event.id, message: toMessage(event) })
    await audit(tx, actor, access, 'webhook.test', endpointId, { after: { eventId: event.id, deliveryId } })
    return deliveryId
  })
  return getDeliveryRow(deliveryId)
}

async function getDeliveryRow(deliveryId: string): Promise<WebhookDeliveryView> {
  return prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, select: deliverySelect })
}

/** The endpoint's delivery log, newest first, with each delivery's attempts. */
export async function listDeliveries(
  actor: Actor,
  endpointId: string,
  page: PageQuery,
  options: { projectId?: string; status?: WebhookDeliveryView['status'] } = {},
): Promise<Page<WebhookDeliveryView>> {
  const { access } = await endpointWithAccess(prisma, actor, endpointId, options.projectId)
  requirePermission(access, 'projects:read', "read the delivery log of this project's webhooks")
  // Newest first, so the keyset is (createdAt, id) below the cursor's; pruning removes the oldest, so a gone cursor has nothing after it.
  const after = page.cursor
    ? await prisma.webhookDelivery.findFirst({ where: { id: page.cursor, endpointId }, select: { id: true, createdAt: true } })
    : null
  if (page.cursor && !after) return { items: [], nextCursor: null }
  const rows = await prisma.webhookDelivery.findMany({
    where: {
      endpointId,
      status: options.status,
      ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
    },
    select: deliverySelect,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
  })
  return toPage(rows, page)
}

async function deliveryWithAccess(actor: Actor, deliveryId: string, options: { projectId?: string; endpointId?: string }) {
  const delivery = await prisma.webhookDelivery.findUnique({ where: { id: deliveryId }, select: { endpointId: true } })
  if (!delivery || (options.endpointId && delivery.endpointId !== options.endpointId)) throw notFound('Webhook delivery')
  const { endpoint, access } = await endpointWithAccess(prisma, actor, delivery.endpointId, options.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Webhook delivery') : error
  })
  return { endpoint, access }
}

export async function getDelivery(
  actor: Actor,
  deliveryId: string,
  options: { projectId?: string; endpointId?: string } = {},
): Promise<WebhookDeliveryView> {
  const { access } = await deliveryWithAccess(actor, deliveryId, options)
  requirePermission(access, 'projects:read', "read the delivery log of this project's webhooks")
  return getDeliveryRow(deliveryId)
}

/** Puts a settled delivery back in the queue: same webhook-id and body, a fresh retry schedule. */
async function requeue(tx: Transaction, deliveryId: string, endpointId: string) {
  const changed = await tx.webhookDelivery.updateMany({
    where: { id: deliveryId, status: { not: 'PENDING' } },
    data: { status: 'PENDING', attemptCount: 0, nextAttemptAt: new Date() },
  })
  if (changed.count === 0) return false
  await enqueueJob(tx, QUEUES.webhookDeliver.name, { deliveryId }, { group: { id: endpointId } })
  return true
}

export async function replayDelivery(
  actor: Actor,
  deliveryId: string,
  options: { projectId?: string; endpointId?: string } = {},
): Promise<WebhookDeliveryView> {
  const { endpoint, access } = await deliveryWithAccess(actor, deliveryId, options)
  requirePermission(access, 'projects:write', "replay this project's webhook deliveries")
  if (!endpoint.enabled) throw new AppError('CONFLICT', 'This endpoint is disabled; enable it to replay deliveries.')
  await prisma.$transaction(async (tx) => {
    if (!(await requeue(tx, deliveryId, endpoint.id))) throw new AppError('CONFLICT', 'This delivery is still being attempted.')
    await audit(tx, actor, access, 'webhook.replay', endpoint.id, { after: { deliveryId } })
  })
  return getDeliveryRow(deliveryId)
}

/** Replays every failed delivery of the endpoint created at or after `since` (at most MAX_REPLAY). */
export async function replayFailedDeliveries(
  actor: Actor,
  endpointId: string,
  since: Date,
  options: { projectId?: string } = {},
): Promise<{ replayed: number }> {
  return prisma.$transaction(async (tx) => {
    const { endpoint, access } = await endpointWithAccess(tx, actor, endpointId, options.projectId)
    requirePermission(access, 'projects:write', "replay this project's webhook deliveries")
    if (!endpoint.enabled) throw new AppError('CONFLICT', 'This endpoint is disabled; enable it to replay deliveries.')
    const failed = await tx.webhookDelivery.findMany({
      where: { endpointId, status: 'FAILED', createdAt: { gte: since } },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
      take: MAX_REPLAY,
    })
    let replayed = 0
    for (const { id } of failed) if (await requeue(tx, id, endpointId)) replayed++
    await audit(tx, actor, access, 'webhook.replay', endpointId, { after: { since: since.toISOString(), replayed } })
    return { replayed }
  })
}
