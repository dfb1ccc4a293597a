import type { z } from 'zod'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { RequestMeta } from '~/utils/request.server'
import { recordAudit } from '../audit/record-audit.server'
import { spendPasswordCheck, verifyPassword } from './passwords.server'
import type { signInSchema } from './schemas'
import type { PublicUser } from './users.server'

export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000
export const SIGN_IN_MAX_FAILURES = 5

/**
 * Checks an email and password. Failures are counted per account and IP in the database, so the
 * limit holds across instances; the sixth attempt inside the window is refused before the password
 * is even checked.
 */
export async function signIn(input: Pick<z.output<typeof signInSchema>, 'email' | 'password'>, meta: RequestMeta): Promise<PublicUser> {
  const ipAddress = meta.ipAddress ?? 'unknown'
  const attemptId = await claimAttempt(input.email, ipAddress)

  const user = await prisma.user.findUnique({ where: { email: input.email } })
  const valid = user ? await verifyPassword(input.password, user.passwordHash) : (await spendPasswordCheck(input.password), false)

  if (valid) {
    await prisma.signInAttempt.update({ where: { id: attemptId }, data: { succeeded: true } })
  } else {
    await prisma.$transaction(async (tx) => {
      await recordAudit(tx, null, meta, {
        action: 'auth.sign_in_failed',
        targetType: 'user',
        targetId: user?.id ?? null,
        after: { email: input.email },
      })
    })
  }
  if (!user || !valid) throw new AppError('UNAUTHENTICATED', 'Email or password is incorrect')
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt }
}

/**
 * Counts recent failures and records this attempt as one (until its password checks out) under a
 * lock per email and IP, so a burst of concurrent guesses cannot all pass the count before any of
 * them is recorded.
 */
async function claimAttempt(email: string, ipAddress: string): Promise<string> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`sign-in:${email}:${ipAddress}`}, 0))`
    const since = new Date(Date.now() - SIGN_IN_WINDOW_MS)
    const lastSuccess = await tx.signInAttempt.findFirst({
      where: { email, ipAddress, succeeded: true, createdAt: { gt: since } },
      orderBy: { createdAt: 'desc' },
      select: { createdAt: true },
    })
    const failures = await tx.signInAttempt.findMany({
      where: { email, ipAddress, succeeded: false, createdAt: { gt: lastSuccess?.createdAt ?? since } },
      orderBy: { createdAt: 'asc' },
      select: { createdAt: true },
      take: SIGN_IN_MAX_FAILURES,
    })
    if (failures.length >= SIGN_IN_MAX_FAILURES) {
      const retryAt = (failures[0] as { createdAt: Date }).createdAt.getTime() + SIGN_IN_WINDOW_MS
      const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000))
      const minutes = Math.ceil(retryAfterSeconds / 60)
      throw new AppError('RATE_LIMITED', `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
        retryAfterSeconds,
      })
    }
    const attempt = await tx.signInAttempt.create({ data: { email, ipAddress, succeeded: false }, select: { id: true } })
    return attempt.id
  })
}

/** Drops attempts older than the window; called from the periodic housekeeping. */
export async function pruneSignInAttempts() {
  await prisma.signInAttempt.deleteMany({ where: { createdAt: { lt: new Date(Date.now() - SIGN_IN_WINDOW_MS) } } })
}
