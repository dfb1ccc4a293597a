import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { pruneExpiredApiTokens } from './accounts/api-tokens.server'
import { pruneSignInAttempts } from './accounts/sign-in.server'
import { sweepExpiredUploads } from './uploads/sweep-uploads.server'
import { snapshotStorage } from './usage/storage-snapshot.server'

const DAY_MS = 24 * 3600 * 1000

/**
 * Deletes what has outlived its purpose: expired sessions and API tokens, sign-in attempts past the
 * window, expired uploads and their objects, and relayed events, settled webhook deliveries and upload
 * callback attempts older than EVENT_RETENTION_DAYS; and records today's storage snapshot for usage. Runs as the `housekeeping` job (ADR 016); every delete is idempotent.
 */
export async function runHousekeeping() {
  const sessions = await prisma.session.deleteMany({ where: { expiresAt: { lte: new Date() } } })
  await pruneSignInAttempts()
  const expiredApiTokens = await pruneExpiredApiTokens()
  const { expired: expiredUploads } = await sweepExpiredUploads()
  await snapshotStorage()
  const before = new Date(Date.now() - getConfig().EVENT_RETENTION_DAYS * DAY_MS)
  const events = await prisma.event.deleteMany({ where: { createdAt: { lt: before }, dispatchedAt: { not: null } } })
  const deliveries = await prisma.webhookDelivery.deleteMany({ where: { createdAt: { lt: before }, status: { not: 'PENDING' } } })
  const callbackAttempts = await prisma.uploadCallbackAttempt.deleteMany({ where: { attemptedAt: { lt: before } } })
  return {
    expiredSessions: sessions.count,
    expiredApiTokens,
    expiredUploads,
    prunedEvents: events.count,
    prunedDeliveries: deliveries.count,
    prunedCallbackAttempts: callbackAttempts.count,
  }
}
