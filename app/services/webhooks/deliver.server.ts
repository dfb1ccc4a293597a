import { getConfig } from '~/utils/config.server'
import { openSecret } from '~/utils/credentials.server'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import { enqueueJob } from '../jobs/enqueue.server'
import { QUEUES } from '../jobs/queues'
import { postWebhook, type PostOutcome } from './post-webhook.server'
import { webhookHeaders } from './signing.server'

const DAY_MS = 24 * 3600 * 1000

export const webhookPolicy = () => ({ allowPrivate: getConfig().WEBHOOK_ALLOW_PRIVATE_URLS, setting: 'WEBHOOK_ALLOW_PRIVATE_URLS' })

/** The secrets that sign now: the current one, and the previous one until its rotation window closes. */
export async function signingSecrets(
  endpoint: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now = new Date(),
) {
  const secrets = [await openSecret(endpoint.secret)]
  if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now) {
    secrets.push(await openSecret(endpoint.previousSecret))
  }
  return secrets
}

const succeeded = (outcome: PostOutcome) => outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300

/**
 * The seconds to wait before the next attempt after `attemptCount` failed attempts, or null when the
 * schedule is used up. A 429 or 503 with Retry-After waits as long as the endpoint asked (never less
 * than the schedule says).
 */
export function nextDelaySeconds(attemptCount: number, outcome: PostOutcome, delays = getConfig().WEBHOOK_RETRY_DELAYS_SECONDS): number | null {
  const scheduled = delays[attemptCount - 1]
  if (scheduled === undefined) return null
  const asked = outcome.statusCode === 429 || outcome.statusCode === 503 ? outcome.retryAfterSeconds : null
  return asked === null ? scheduled : Math.max(scheduled, asked)
}

/**
 * One attempt of a delivery (the `webhook-deliver` job). The attempt, the delivery's new state, the
 * endpoint's health and the next attempt's job are written in one transaction, so a crash leaves
 * either the attempt fully recorded or the job to run again.
 */
export async function attemptDelivery(deliveryId: string): Promise<void> {
  const delivery = await prisma.webhookDelivery.findUnique({
    where: { id: deliveryId },
    select: {
      id: true,
      payload: true,
      status: true,
      attemptCount: true,
      endpoint: {
        select: { id: true, url: true, enabled: true, secret: true, previousSecret: true, previousSecretExpiresAt: true, failingSince: true },
      },
    },
  })
  // Gone (endpoint deleted), already settled, or its endpoint was disabled meanwhile: nothing to send.
  if (!delivery || delivery.status !== 'PENDING') return
  const { endpoint } = delivery
  if (!endpoint.enabled) {
    await prisma.webhookDelivery.updateMany({ where: { id: deliveryId, status: 'PENDING' }, data: { status: 'FAILED', nextAttemptAt: null } })
    return
  }

  const config = getConfig()
  const now = new Date()
  const outcome = await postWebhook({
    url: endpoint.url,
    headers: webhookHeaders(await signingSecrets(endpoint, now), delivery.id, delivery.payload, now),
    body: delivery.payload,
    timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    policy: webhookPolicy(),
  })
  const attemptCount = delivery.attemptCount + 1
  const ok = succeeded(outcome)
  const gone = outcome.statusCode === 410
  const failingSince = ok ? null : (endpoint.failingSince ?? now)
  const failingTooLong = !ok && now.getTime() - failingSince!.getTime() >= config.WEBHOOK_DISABLE_AFTER_DAYS * DAY_MS
  const delay = ok || gone || failingTooLong ? null : nextDelaySeconds(attemptCount, outcome)
  const disabledReason = gone
    ? `Disabled on ${now.toISOString()}: the endpoint answered 410 Gone.`
    : failingTooLong
      ? `Disabled on ${now.toISOString()}: every attempt has failed since ${failingSince!.toISOString()} (${config.WEBHOOK_DISABLE_AFTER_DAYS} days).`
      : null

  await prisma.$transaction(async (tx) => {
    await tx.webhookAttempt.create({
      data: {
        deliveryId,
        attemptedAt: now,
        statusCode: outcome.statusCode,
        latencyMs: outcome.latencyMs,
        responseBody: outcome.responseBody,
        error: outcome.error,
      },
    })
    const nextAttemptAt = delay === null ? null : new Date(Date.now() + delay * 1000)
    await tx.webhookDelivery.update({
      where: { id: deliveryId },
      data: { attemptCount, lastAttemptAt: now, nextAttemptAt, status: ok ? 'SUCCEEDED' : delay === null ? 'FAILED' : 'PENDING' },
    })
    // Written only when the endpoint's health changes: concurrent attempts to one endpoint would
    // otherwise queue on its row lock.
    if (disabledReason) {
      await tx.webhookEndpoint.update({ where: { id: endpoint.id }, data: { failingSince, enabled: false, disabledReason } })
    } else if (ok && endpoint.failingSince) {
      await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, failingSince: { not: null } }, data: { failingSince: null } })
    } else if (!ok && !endpoint.failingSince) {
      await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, failingSince: null }, data: { failingSince } })
    }
    if (nextAttemptAt)
      await enqueueJob(tx, QUEUES.webhookDeliver.name, { deliveryId }, { startAfter: nextAttemptAt, group: { id: endpoint.id } })
  })
  if (disabledReason) logger.warn({ endpointId: endpoint.id }, disabledReason)
}
