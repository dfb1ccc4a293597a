import type { z } from 'zod'
import type { Role } from '~/generated/prisma/enums'
import { pageArgs, toPage, type PageQuery } from '../pagination'
import { prisma } from '~/utils/db.server'
import { fieldConflict, notFound } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { isUniqueViolation } from '../db-errors.server'
import { ORGANIZATION_ACTIONS, organizationRole, requireRole } from './access.server'
import type { createOrganizationSchema, updateOrganizationSchema } from './schemas'
import { availableSlug } from './slugs.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'

const fields = { id: true, name: true, slug: true, createdAt: true, updatedAt: true } as const
const slugTaken = () => fieldConflict('slug', 'This slug is already taken by another organization')

/** Organizations the actor belongs to, with the actor's role in each, a page at a time. */
export async function listOrganizations(actor: UserActor, page: PageQuery) {
  const organizations = await prisma.organization.findMany({
    ...pageArgs(page, { members: { some: { userId: actor.userId } } }),
    select: { ...fields, members: { where: { userId: actor.userId }, select: { role: true } } },
  })
  return toPage(
    organizations.map(({ members, ...organization }) => ({ ...organization, role: (members[0] as { role: Role }).role })),
    page,
  )
}

export async function getOrganization(actor: UserActor, organizationId: string) {
  const role = await organizationRole(prisma, actor, organizationId)
  const organization = await prisma.organization.findUniqueOrThrow({ where: { id: organizationId }, select: fields })
  return { ...organization, role }
}

export async function getOrganizationBySlug(actor: UserActor, slug: string) {
  const organization = await prisma.organization.findUnique({ where: { slug }, select: fields })
  if (!organization) throw notFound('Organization')
  const role = await organizationRole(prisma, actor, organization.id)
  return { organization, role }
}

/** Creates an organization with the actor as its owner. */
export async function createOrganization(actor: UserActor, input: z.output<typeof createOrganizationSchema>) {
  const slug = input.slug ?? (await availableSlug(input.name, 'org', async (s) => (await prisma.organization.count({ where: { slug: s } })) > 0))
  try {
    return await prisma.$transaction(async (tx) => {
      const organization = await tx.organization.create({
        data: { name: input.name, slug, members: { create: { userId: actor.userId, role: 'OWNER' } } },
        select: fields,
      })
      await recordAudit(tx, actor, actor, {
        organizationId: organization.id,
        action: 'organization.create',
        targetType: 'organization',
        targetId: organization.id,
        after: { name: organization.name, slug: organization.slug },
      })
      return organization
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

export async function updateOrganization(actor: UserActor, organizationId: string, input: Partial<z.output<typeof updateOrganizationSchema>>) {
  try {
    const updated = await prisma.$transaction(async (tx) => {
      requireRole(await organizationRole(tx, actor, organizationId), ORGANIZATION_ACTIONS.editSettings, 'change organization settings')
      const before = await tx.organization.findUniqueOrThrow({ where: { id: organizationId }, select: fields })
      const organization = await tx.organization.update({
        where: { id: organizationId },
        data: { name: input.name, slug: input.slug },
        select: fields,
      })
      await recordAudit(tx, actor, actor, {
        organizationId,
        action: 'organization.update',
        targetType: 'organization',
        targetId: organizationId,
        before: { name: before.name, slug: before.slug },
        after: { name: organization.name, slug: organization.slug },
      })
      return organization
    })
    await publishInvalidation('organization', organizationId)
    return updated
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

/** Deletes an organization with its teams, projects, members and invitations. Owners only. */
export async function deleteOrganization(actor: UserActor, organizationId: string) {
  await prisma.$transaction(async (tx) => {
    requireRole(await organizationRole(tx, actor, organizationId), ORGANIZATION_ACTIONS.delete, 'delete this organization')
    const before = await tx.organization.findUniqueOrThrow({ where: { id: organizationId }, select: fields })
    await tx.organization.delete({ where: { id: organizationId } })
    await recordAudit(tx, actor, actor, {
      organizationId,
      action: 'organization.delete',
      targetType: 'organization',
      targetId: organizationId,
      before: { name: before.name, slug: before.slug },
    })
  })
  await publishInvalidation('organization', organizationId)
}
