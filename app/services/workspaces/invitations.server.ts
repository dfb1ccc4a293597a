import { createHash, randomBytes } from 'node:crypto'
import type { Role } from '~/generated/prisma/enums'
import { prisma } from '~/utils/db.server'
import { AppError, forbidden, notFound } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { ORGANIZATION_ACTIONS, organizationRole, requireRole } from './access.server'

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000

/** Invitations are stored by the SHA-256 of their token; the link is shown once, to its creator. */
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

export async function createInvitation(actor: UserActor, organizationId: string, role: Role) {
  return prisma.$transaction(async (tx) => {
    const actorRole = await organizationRole(tx, actor, organizationId)
    requireRole(actorRole, ORGANIZATION_ACTIONS.manageMembers, 'invite people')
    if (role === 'OWNER' && actorRole !== 'OWNER') throw forbidden('Only an owner can invite another owner.')
    const token = randomBytes(32).toString('base64url')
    const invitation = await tx.invitation.create({
      data: {
        organizationId,
        role,
        tokenHash: hashToken(token),
        createdById: actor.userId,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      },
      select: { id: true, role: true, expiresAt: true, createdAt: true },
    })
    await recordAudit(tx, actor, actor, {
      organizationId,
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: invitation.id,
      after: { role },
    })
    return { invitation, token }
  })
}

/** Invitations that can still be accepted. */
export async function listPendingInvitations(actor: UserActor, organizationId: string) {
  requireRole(await organizationRole(prisma, actor, organizationId), ORGANIZATION_ACTIONS.manageMembers, 'see invitations')
  return prisma.invitation.findMany({
    where: { organizationId, acceptedAt: null, declinedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
    orderBy: { createdAt: 'desc' },
    take: 200,
    select: { id: true, role: true, createdAt: true, expiresAt: true, createdBy: { select: { name: true } } },
  })
}

export async function revokeInvitation(actor: UserActor, organizationId: string, invitationId: string) {
  await prisma.$transaction(async (tx) => {
    requireRole(await organizationRole(tx, actor, organizationId), ORGANIZATION_ACTIONS.manageMembers, 'revoke invitations')
    const revoked = await tx.invitation.updateMany({
      where: { id: invitationId, organizationId, acceptedAt: null, declinedAt: null, revokedAt: null },
      data: { revokedAt: new Date() },
    })
    if (revoked.count === 0) throw notFound('Invitation')
    await recordAudit(tx, actor, actor, {
      organizationId,
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: invitationId,
    })
  })
}

export type InvitationStatus = 'pending' | 'accepted' | 'declined' | 'revoked' | 'expired'

/** What an invitation link offers, for the page that asks to accept or decline. */
export async function getInvitation(token: string) {
  const invitation = await prisma.invitation.findUnique({
    where: { tokenHash: hashToken(token) },
    select: {
      id: true,
      role: true,
      expiresAt: true,
      acceptedAt: true,
      declinedAt: true,
      revokedAt: true,
      organization: { select: { id: true, name: true, slug: true } },
      createdBy: { select: { name: true } },
    },
  })
  if (!invitation) throw notFound('Invitation')
  const status: InvitationStatus = invitation.acceptedAt
    ? 'accepted'
    : invitation.declinedAt
      ? 'declined'
      : invitation.revokedAt
        ? 'revoked'
        : invitation.expiresAt.getTime() <= Date.now()
          ? 'expired'
          : 'pending'
  return {
    id: invitation.id,
    role: invitation.role,
    expiresAt: invitation.expiresAt,
    organization: invitation.organization,
    invitedBy: invitation.createdBy.name,
    status,
  }
}

async function settleInvitation(actor: UserActor, token: string, answer: 'accept' | 'decline') {
  const invitation = await getInvitation(token)
  if (invitation.status !== 'pending') {
    throw new AppError('CONFLICT', `This invitation can no longer be used: it was ${invitation.status}.`)
  }
  const organizationId = invitation.organization.id
  return prisma.$transaction(async (tx) => {
    // The conditional update makes a link single-use even when two people click at once.
    const claimed = await tx.invitation.updateMany({
      where: { id: invitation.id, acceptedAt: null, declinedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
      data: answer === 'accept' ? { acceptedAt: new Date(), acceptedById: actor.userId } : { declinedAt: new Date() },
    })
    if (claimed.count === 0) throw new AppError('CONFLICT', 'This invitation can no longer be used.')
    if (answer === 'accept') {
      const existing = await tx.organizationMember.findUnique({
        where: { organizationId_userId: { organizationId, userId: actor.userId } },
      })
      if (existing) throw new AppError('CONFLICT', `You are already a member of ${invitation.organization.name}.`)
      await tx.organizationMember.create({ data: { organizationId, userId: actor.userId, role: invitation.role } })
    }
    await recordAudit(tx, actor, actor, {
      organizationId,
      action: answer === 'accept' ? 'invitation.accept' : 'invitation.decline',
      targetType: 'invitation',
      targetId: invitation.id,
      after: answer === 'accept' ? { userId: actor.userId, role: invitation.role } : undefined,
    })
    return invitation.organization
  })
}

export const acceptInvitation = (actor: UserActor, token: string) => settleInvitation(actor, token, 'accept')
export const declineInvitation = (actor: UserActor, token: string) => settleInvitation(actor, token, 'decline')
