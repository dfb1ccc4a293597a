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
  const since = new Date(Date.now() - SIGN_IN_WINDOW_MS)
  const lastSuccess = await prisma.signInAttempt.findFirst({
    where: { email: input.email, ipAddress, succeeded: true, createdAt: { gt: since } },
    orderBy: { createdAt: 'desc' },
    select: { createdAt: true },
  })
  const failures = await prisma.signInAttempt.findMany({
    where: { email: input.email, ipAddress, succeeded: false, createdAt: { gt: lastSuccess?.createdAt ?? since } },
    orderBy: { createdAt: 'asc' },
    select: { createdAt: true },
    take: SIGN_IN_MAX_FAILURES,
  })
  if (failures.length >= SIGN_IN_MAX_FAILURES) {
    const retryAt = (failures[0] as { createdAt: Date }).createdAt.getTime() + SIGN_IN_WINDOW_MS
    const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000))
    const minutes = Math.ceil(retryAfterSeconds / 60)
    throw new AppError(
      'RATE_LIMITED',
      `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      { retryAfterSeconds },
    )
  }

  const user = await prisma.user.findUnique({ where: { email: input.email } })
  const valid = user ? await verifyPassword(input.password, user.passwordHash) : (await spendPasswordCheck(input.password), false)

  await prisma.$transaction(async (tx) => {
    await tx.signInAttempt.create({ data: { email: input.email, ipAddress, succeeded: valid } })
    if (!valid) {
      await recordAudit(tx, null, meta, {
        action: 'auth.sign_in_failed',
        targetType: 'user',
        targetId: user?.id ?? null,
        after: { email: input.email },
      })
    }
  })
  if (!user || !valid) throw new AppError('UNAUTHENTICATED', 'Email or password is incorrect')
  return { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt }
}

/** Drops attempts older than the window; called from the periodic housekeeping. */
export async function pruneSignInAttempts() {
  await prisma.signInAttempt.deleteMany({ where: { createdAt: { lt: new Date(Date.now() - SIGN_IN_WINDOW_MS) } } })
}
