import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import { pruneExpiredApiTokens } from './accounts/api-tokens.server'
import { pruneSignInAttempts } from './accounts/sign-in.server'
import { sweepExpiredUploads } from './uploads/sweep-uploads.server'

const INTERVAL_MS = 10 * 60 * 1000

/** Deletes what has outlived its purpose: expired sessions and API tokens, sign-in attempts past the window, expired uploads and their objects. */
export async function runHousekeeping() {
  const sessions = await prisma.session.deleteMany({ where: { expiresAt: { lte: new Date() } } })
  await pruneSignInAttempts()
  const expiredApiTokens = await pruneExpiredApiTokens()
  const { expired: expiredUploads } = await sweepExpiredUploads()
  return { expiredSessions: sessions.count, expiredApiTokens, expiredUploads }
}

/**
 * Runs housekeeping now and then every ten minutes. Each instance may run it: the deletes are
 * idempotent, so several instances only repeat harmless work. Returns a stop function.
 */
export function startHousekeeping(): () => void {
  const run = () =>
    runHousekeeping().catch((error: unknown) => logger.warn({ err: error as Error }, 'housekeeping failed'))
  void run()
  const timer = setInterval(run, INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
