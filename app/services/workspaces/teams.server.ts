import type { z } from 'zod'
import { pageArgs, toPage, type PageQuery } from '../pagination'
import type { Role } from '~/generated/prisma/enums'
import { prisma } from '~/utils/db.server'
import { AppError, fieldConflict, forbidden, notFound } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { isUniqueViolation } from '../db-errors.server'
import { ORGANIZATION_ACTIONS, TEAM_ACTIONS, organizationRole, requireRole, teamAccess, teamCapabilities } from './access.server'
import type { createTeamSchema, updateTeamSchema } from './schemas'
import { availableSlug } from './slugs.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'

const fields = { id: true, organizationId: true, name: true, slug: true, createdAt: true, updatedAt: true } as const
const slugTaken = () => fieldConflict('slug', 'This slug is already taken by another team in this organization')

export async function listTeams(actor: UserActor, organizationId: string, page: PageQuery) {
  await organizationRole(prisma, actor, organizationId)
  const teams = await prisma.team.findMany({
    ...pageArgs(page, { organizationId }),
    select: { ...fields, _count: { select: { projects: true, members: true } } },
  })
  return toPage(teams, page)
}

export async function getTeamBySlug(actor: UserActor, organizationId: string, slug: string) {
  const team = await prisma.team.findUnique({ where: { organizationId_slug: { organizationId, slug } }, select: { id: true } })
  if (!team) throw notFound('Team')
  return teamAccess(prisma, actor, team.id)
}

export async function getTeam(actor: UserActor, teamId: string) {
  const { team, role } = await teamAccess(prisma, actor, teamId)
  return { ...team, role }
}

/** Creates a team; its creator becomes the team's owner. Viewers cannot. */
export async function createTeam(actor: UserActor, organizationId: string, input: z.output<typeof createTeamSchema>) {
  const orgRole = await organizationRole(prisma, actor, organizationId)
  requireRole(orgRole, ORGANIZATION_ACTIONS.createTeams, 'create teams')
  const slug =
    input.slug ?? (await availableSlug(input.name, 'team', async (s) => (await prisma.team.count({ where: { organizationId, slug: s } })) > 0))
  try {
    return await prisma.$transaction(async (tx) => {
      const team = await tx.team.create({
        data: { organizationId, name: input.name, slug, members: { create: { userId: actor.userId, role: 'OWNER' } } },
        select: fields,
      })
      await recordAudit(tx, actor, actor, {
        organizationId,
        teamId: team.id,
        action: 'team.create',
        targetType: 'team',
        targetId: team.id,
        after: { name: team.name, slug: team.slug },
      })
      return team
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

export async function updateTeam(actor: UserActor, teamId: string, input: Partial<z.output<typeof updateTeamSchema>>) {
  try {
    const updated = await prisma.$transaction(async (tx) => {
      const { team: before, role } = await teamAccess(tx, actor, teamId)
      requireRole(role, TEAM_ACTIONS.editSettings, 'change team settings')
      const team = await tx.team.update({ where: { id: teamId }, data: { name: input.name, slug: input.slug }, select: fields })
      await recordAudit(tx, actor, actor, {
        organizationId: team.organizationId,
        teamId,
        action: 'team.update',
        targetType: 'team',
        targetId: teamId,
        before: { name: before.name, slug: before.slug },
        after: { name: team.name, slug: team.slug },
      })
      return team
    })
    await publishInvalidation('team', teamId)
    return updated
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

/** Deletes a team and its projects. Team owners and organization owners/admins only. */
export async function deleteTeam(actor: UserActor, teamId: string) {
  await prisma.$transaction(async (tx) => {
    const access = await teamAccess(tx, actor, teamId)
    const { team } = access
    if (!teamCapabilities(access).canDelete) requireRole(access.role, TEAM_ACTIONS.delete, 'delete this team')
    // The team's buckets go with it: refuse while another team's project still keeps files in one.
    const borrower = await tx.project.findFirst({
      where: { teamId: { not: teamId }, OR: [{ bucket: { teamId } }, { files: { some: { bucket: { teamId } } } }] },
      select: { name: true, team: { select: { name: true } } },
    })
    if (borrower) {
      throw new AppError(
        'CONFLICT',
        `Project "${borrower.name}" of team "${borrower.team.name}" keeps files in a bucket of this team; move it to another bucket or delete its files first.`,
      )
    }
    await tx.team.delete({ where: { id: teamId } })
    await recordAudit(tx, actor, actor, {
      organizationId: team.organizationId,
      teamId,
      action: 'team.delete',
      targetType: 'team',
      targetId: teamId,
      before: { name: team.name, slug: team.slug },
    })
  })
  await publishInvalidation('team', teamId)
}

export async function listTeamMembers(actor: UserActor, teamId: string) {
  await teamAccess(prisma, actor, teamId)
  return prisma.teamMember.findMany({
    where: { teamId },
    orderBy: { createdAt: 'asc' },
    take: 500,
    select: { id: true, role: true, createdAt: true, user: { select: { id: true, name: true, email: true } } },
  })
}

/** Adds a member of the organization to the team. Nobody grants a role above their own. */
export async function addTeamMember(actor: UserActor, teamId: string, userId: string, role: Role) {
  return prisma.$transaction(async (tx) => {
    const { team, role: actorRole } = await teamAccess(tx, actor, teamId)
    requireRole(actorRole, TEAM_ACTIONS.manageMembers, 'manage team members')
    if (role === 'OWNER' && actorRole !== 'OWNER') throw forbidden('Only an owner can make someone a team owner.')
    const orgMember = await tx.organizationMember.findUnique({
      where: { organizationId_userId: { organizationId: team.organizationId, userId } },
    })
    if (!orgMember) {
      throw new AppError('VALIDATION', 'Only members of the organization can join its teams', {
        fieldErrors: { userId: ['Choose a member of this organization'] },
      })
    }
    const existing = await tx.teamMember.findUnique({ where: { teamId_userId: { teamId, userId } } })
    if (existing) throw fieldConflict('userId', 'This person is already in the team')
    const member = await tx.teamMember.create({ data: { teamId, userId, role } })
    await recordAudit(tx, actor, actor, {
      organizationId: team.organizationId,
      teamId,
      action: 'team.member.add',
      targetType: 'user',
      targetId: userId,
      after: { teamId, role },
    })
    return member
  })
}

export async function changeTeamMemberRole(actor: UserActor, teamId: string, memberId: string, role: Role) {
  return prisma.$transaction(async (tx) => {
    const { team, role: actorRole } = await teamAccess(tx, actor, teamId)
    requireRole(actorRole, TEAM_ACTIONS.manageMembers, 'manage team members')
    const member = await tx.teamMember.findFirst({ where: { id: memberId, teamId } })
    if (!member) throw notFound('Team member')
    if ((member.role === 'OWNER' || role === 'OWNER') && actorRole !== 'OWNER') {
      throw forbidden('Only an owner can grant or remove the team owner role.')
    }
    const updated = await tx.teamMember.update({ where: { id: member.id }, data: { role } })
    await recordAudit(tx, actor, actor, {
      organizationId: team.organizationId,
      teamId,
      action: 'team.member.update',
      targetType: 'user',
      targetId: member.userId,
      before: { teamId, role: member.role },
      after: { teamId, role },
    })
    return updated
  })
}

export async function removeTeamMember(actor: UserActor, teamId: string, memberId: string) {
  await prisma.$transaction(async (tx) => {
    const { team, role: actorRole } = await teamAccess(tx, actor, teamId)
    const member = await tx.teamMember.findFirst({ where: { id: memberId, teamId } })
    if (!member) throw notFound('Team member')
    if (member.userId !== actor.userId) {
      requireRole(actorRole, TEAM_ACTIONS.manageMembers, 'manage team members')
      if (member.role === 'OWNER' && actorRole !== 'OWNER') throw forbidden('Only an owner can remove a team owner.')
    }
    await tx.teamMember.delete({ where: { id: member.id } })
    await recordAudit(tx, actor, actor, {
      organizationId: team.organizationId,
      teamId,
      action: 'team.member.remove',
      targetType: 'user',
      targetId: member.userId,
      before: { teamId, role: member.role },
    })
  })
}
