import type { z } from 'zod'
import { prisma } from '~/utils/db.server'
import { AppError, fieldConflict, notFound } from '~/utils/errors.server'
import type { RequestMeta } from '~/utils/request.server'
import { userActor, type UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { isUniqueViolation } from '../db-errors.server'
import { hashPassword, verifyPassword } from './passwords.server'
import type { changeEmailSchema, changePasswordSchema, registerSchema, updateProfileSchema } from './schemas'

export interface PublicUser {
  id: string
  email: string
  name: string
  createdAt: Date
}

const publicFields = { id: true, email: true, name: true, createdAt: true } as const
const emailTaken = () => fieldConflict('email', 'An account with this email already exists')

export async function registerUser(input: z.output<typeof registerSchema>, meta: RequestMeta): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password)
  try {
    return await prisma.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: { email: input.email, name: input.name, passwordHash },
        select: publicFields,
      })
      await recordAudit(tx, userActor(user.id, meta), meta, {
        action: 'user.register',
        targetType: 'user',
        targetId: user.id,
        after: { email: user.email, name: user.name },
      })
      return user
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken()
    throw error
  }
}

export async function getUser(actor: UserActor): Promise<PublicUser> {
  const user = await prisma.user.findUnique({ where: { id: actor.userId }, select: publicFields })
  if (!user) throw notFound('Account')
  return user
}

export async function updateProfile(actor: UserActor, input: z.output<typeof updateProfileSchema>) {
  return prisma.$transaction(async (tx) => {
    const before = await tx.user.findUniqueOrThrow({ where: { id: actor.userId }, select: publicFields })
    const user = await tx.user.update({ where: { id: actor.userId }, data: { name: input.name }, select: publicFields })
    await recordAudit(tx, actor, actor, {
      action: 'user.update',
      targetType: 'user',
      targetId: user.id,
      before: { name: before.name },
      after: { name: user.name },
    })
    return user
  })
}

async function requireCurrentPassword(userId: string, password: string) {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { passwordHash: true } })
  if (!(await verifyPassword(password, user.passwordHash))) {
    throw new AppError('VALIDATION', 'Current password is incorrect', {
      fieldErrors: { currentPassword: ['Current password is incorrect'] },
    })
  }
}

export async function changeEmail(actor: UserActor, input: z.output<typeof changeEmailSchema>) {
  await requireCurrentPassword(actor.userId, input.currentPassword)
  try {
    return await prisma.$transaction(async (tx) => {
      const before = await tx.user.findUniqueOrThrow({ where: { id: actor.userId }, select: publicFields })
      const user = await tx.user.update({ where: { id: actor.userId }, data: { email: input.email }, select: publicFields })
      await recordAudit(tx, actor, actor, {
        action: 'user.email.change',
        targetType: 'user',
        targetId: user.id,
        before: { email: before.email },
        after: { email: user.email },
      })
      return user
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken()
    throw error
  }
}

/** Changes the password and signs out every other session of the account. */
export async function changePassword(actor: UserActor, input: z.output<typeof changePasswordSchema>, currentSessionId: string) {
  await requireCurrentPassword(actor.userId, input.currentPassword)
  const passwordHash = await hashPassword(input.newPassword)
  await prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: actor.userId }, data: { passwordHash } })
    const revoked = await tx.session.deleteMany({ where: { userId: actor.userId, id: { not: currentSessionId } } })
    await recordAudit(tx, actor, actor, {
      action: 'user.password.change',
      targetType: 'user',
      targetId: actor.userId,
      after: { otherSessionsRevoked: revoked.count },
    })
  })
}
