import type { Role } from '~/generated/prisma/enums'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, forbidden, notFound } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { ORGANIZATION_ACTIONS, organizationRole, requireRole } from './access.server'

export async function listOrganizationMembers(actor: UserActor, organizationId: string) {
  await organizationRole(prisma, actor, organizationId)
  return prisma.organizationMember.findMany({
    where: { organizationId },
    orderBy: [{ createdAt: 'asc' }],
    take: 500,
    select: { id: true, role: true, createdAt: true, user: { select: { id: true, name: true, email: true } } },
  })
}

async function findMember(tx: Transaction, organizationId: string, memberId: string) {
  const member = await tx.organizationMember.findFirst({ where: { id: memberId, organizationId } })
  if (!member) throw notFound('Member')
  return member
}

/**
 * Makes role changes and removals in one organization take turns: two owners demoting each other
 * (or leaving) at once would each still see the other as an owner and leave none.
 */
async function lockOrganization(tx: Transaction, organizationId: string) {
  await tx.$executeRaw`SELECT 1 FROM "Organization" WHERE "id" = ${organizationId} FOR UPDATE`
}

async function assertAnotherOwner(tx: Transaction, organizationId: string, leavingUserId: string) {
  const owners = await tx.organizationMember.count({
    where: { organizationId, role: 'OWNER', userId: { not: leavingUserId } },
  })
  if (owners === 0) throw new AppError('CONFLICT', 'An organization needs at least one owner. Make someone else an owner first.')
}

/**
 * Changes a member's role. Admins manage admins, members and viewers; only owners grant or take
 * away ownership. The last owner cannot be demoted.
 */
export async function changeMemberRole(actor: UserActor, organizationId: string, memberId: string, role: Role) {
  return prisma.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId)
    const actorRole = await organizationRole(tx, actor, organizationId)
    requireRole(actorRole, ORGANIZATION_ACTIONS.manageMembers, 'change member roles')
    const member = await findMember(tx, organizationId, memberId)
    if ((member.role === 'OWNER' || role === 'OWNER') && actorRole !== 'OWNER') {
      throw forbidden('Only an owner can grant or remove the owner role.')
    }
    if (member.role === 'OWNER' && role !== 'OWNER') await assertAnotherOwner(tx, organizationId, member.userId)
    const updated = await tx.organizationMember.update({ where: { id: member.id }, data: { role } })
    await recordAudit(tx, actor, actor, {
      organizationId,
      action: 'organization.member.update',
      targetType: 'user',
      targetId: member.userId,
      before: { role: member.role },
      after: { role: updated.role },
    })
    return updated
  })
}

/** Removes a member (or lets members leave). Their team memberships in the organization go too. */
export async function removeMember(actor: UserActor, organizationId: string, memberId: string) {
  await prisma.$transaction(async (tx) => {
    await lockOrganization(tx, organizationId)
    const actorRole = await organizationRole(tx, actor, organizationId)
    const member = await findMember(tx, organizationId, memberId)
    const leaving = member.userId === actor.userId
    if (!leaving) {
      requireRole(actorRole, ORGANIZATION_ACTIONS.manageMembers, 'remove members')
      if (member.role === 'OWNER' && actorRole !== 'OWNER') throw forbidden('Only an owner can remove another owner.')
    }
    if (member.role === 'OWNER') await assertAnotherOwner(tx, organizationId, member.userId)
    await tx.teamMember.deleteMany({ where: { userId: member.userId, team: { organizationId } } })
    await tx.organizationMember.delete({ where: { id: member.id } })
    await recordAudit(tx, actor, actor, {
      organizationId,
      action: leaving ? 'organization.member.leave' : 'organization.member.remove',
      targetType: 'user',
      targetId: member.userId,
      before: { role: member.role },
    })
  })
}
