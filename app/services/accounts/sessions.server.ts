import { createHash, randomBytes } from 'node:crypto'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { notFound } from '~/utils/errors.server'
import { sql } from '~/utils/sql.server'
import type { RequestMeta } from '~/utils/request.server'
import { userActor, type UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import type { PublicUser } from './users.server'

// lastSeenAt is refreshed at most this often, so reading a page is not a write.
const TOUCH_INTERVAL_MS = 5 * 60 * 1000

/** Sessions are stored by the SHA-256 of their token: a leaked table cannot be replayed. */
export const sessionIdFor = (token: string) => createHash('sha256').update(token).digest('hex')

export async function createSession(userId: string, meta: RequestMeta) {
  const token = randomBytes(32).toString('base64url')
  const expiresAt = new Date(Date.now() + getConfig().SESSION_MAX_AGE_DAYS * 24 * 60 * 60 * 1000)
  await prisma.$transaction(async (tx) => {
    const session = await tx.session.create({
      data: { id: sessionIdFor(token), userId, expiresAt, ipAddress: meta.ipAddress, userAgent: meta.userAgent },
    })
    await recordAudit(tx, userActor(userId, meta), meta, {
      action: 'session.create',
      targetType: 'session',
      targetId: session.id,
    })
  })
  return { token, expiresAt }
}

export interface SignedInUser {
  user: PublicUser
  sessionId: string
}

interface SessionUserRow {
  expiresAt: Date
  lastSeenAt: Date
  id: string
  email: string
  name: string
  createdAt: Date
}

// Every dashboard page reads this (ADR 019): one hand-written statement, the session with its user.
const SESSION_USER_SQL = `
  SELECT s."expiresAt", s."lastSeenAt", u.id, u.email, u.name, u."createdAt"
    FROM "Session" s JOIN "User" u ON u.id = s."userId"
   WHERE s.id = $1`

/** The user behind a session token, or null when it is unknown, revoked or expired. */
export async function getSessionUser(token: string): Promise<SignedInUser | null> {
  const id = sessionIdFor(token)
  const [session] = await sql<SessionUserRow>(SESSION_USER_SQL, [id])
  if (!session) return null
  if (session.expiresAt.getTime() <= Date.now()) {
    await prisma.session.deleteMany({ where: { id } })
    return null
  }
  if (Date.now() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    await prisma.session.updateMany({ where: { id }, data: { lastSeenAt: new Date() } })
  }
  return { user: { id: session.id, email: session.email, name: session.name, createdAt: session.createdAt }, sessionId: id }
}

export async function listSessions(actor: UserActor) {
  return prisma.session.findMany({
    where: { userId: actor.userId, expiresAt: { gt: new Date() } },
    orderBy: { lastSeenAt: 'desc' },
    take: 100,
    select: { id: true, ipAddress: true, userAgent: true, createdAt: true, lastSeenAt: true, expiresAt: true },
  })
}

/** Revokes one of the actor's own sessions; another user's session is "not found". */
export async function revokeSession(actor: UserActor, sessionId: string) {
  await prisma.$transaction(async (tx) => {
    const deleted = await tx.session.deleteMany({ where: { id: sessionId, userId: actor.userId } })
    if (deleted.count === 0) throw notFound('Session')
    await recordAudit(tx, actor, actor, { action: 'session.revoke', targetType: 'session', targetId: sessionId })
  })
}

export async function signOut(actor: UserActor, sessionId: string) {
  await prisma.$transaction(async (tx) => {
    const deleted = await tx.session.deleteMany({ where: { id: sessionId, userId: actor.userId } })
    if (deleted.count === 0) return
    await recordAudit(tx, actor, actor, { action: 'session.sign_out', targetType: 'session', targetId: sessionId })
  })
}
