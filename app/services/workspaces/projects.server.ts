import type { z } from 'zod'
import { pageArgs, toPage, type PageQuery } from '../pagination'
import { prisma } from '~/utils/db.server'
import { fieldConflict, notFound } from '~/utils/errors.server'
import type { Actor, UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { forgetProject } from '../transforms/known-sources.server'
import { assertTeamMayWrite } from '../buckets/bucket-access.server'
import { ensureTeamLocalBucket } from '../buckets/buckets.server'
import { isUniqueViolation } from '../db-errors.server'
import { TEAM_ACTIONS, projectAccess, requirePermission, requireRole, teamAccess } from './access.server'
import type { createProjectSchema, updateProjectSchema } from './schemas'
import { availableSlug } from './slugs.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'

const fields = { id: true, teamId: true, name: true, slug: true, bucketId: true, createdAt: true, updatedAt: true } as const
const slugTaken = () => fieldConflict('slug', 'This slug is already taken by another project in this team')

export async function listProjects(actor: UserActor, teamId: string, page: PageQuery) {
  await teamAccess(prisma, actor, teamId)
  return toPage(await prisma.project.findMany({ ...pageArgs(page, { teamId }), select: fields }), page)
}

export async function getProjectBySlug(actor: UserActor, teamId: string, slug: string) {
  const project = await prisma.project.findUnique({ where: { teamId_slug: { teamId, slug } }, select: { id: true } })
  if (!project) throw notFound('Project')
  return projectAccess(prisma, actor, project.id)
}

/**
 * Creates a project. Its bucket is the one given (its team must be allowed to write to it), else the
 * team's default local bucket when the local provider is enabled (created on first need), else none
 * until one is chosen.
 */
export async function createProject(actor: UserActor, teamId: string, input: z.output<typeof createProjectSchema> & { bucketId?: string }) {
  const { team, role } = await teamAccess(prisma, actor, teamId)
  requireRole(role, TEAM_ACTIONS.createProjects, 'create projects in this team')
  const slug =
    input.slug ?? (await availableSlug(input.name, 'project', async (s) => (await prisma.project.count({ where: { teamId, slug: s } })) > 0))
  try {
    return await prisma.$transaction(async (tx) => {
      if (input.bucketId) await assertTeamMayWrite(tx, teamId, input.bucketId)
      const bucketId = input.bucketId ?? (await ensureTeamLocalBucket(tx, actor, team))
      const project = await tx.project.create({ data: { teamId, name: input.name, slug, bucketId }, select: fields })
      await recordAudit(tx, actor, actor, {
        organizationId: team.organizationId,
        teamId,
        projectId: project.id,
        action: 'project.create',
        targetType: 'project',
        targetId: project.id,
        after: { name: project.name, slug: project.slug, teamId, bucketId },
      })
      return project
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

/**
 * Renames a project, changes its slug or gives it another bucket (one its team may write to); a
 * field left out keeps its value.
 */
export async function updateProject(
  actor: Actor,
  projectId: string,
  input: Partial<z.output<typeof updateProjectSchema>> & { bucketId?: string },
) {
  try {
    const updated = await prisma.$transaction(async (tx) => {
      const access = await projectAccess(tx, actor, projectId)
      requirePermission(access, 'projects:write', 'change this project')
      const { project: before, team } = access
      if (input.bucketId !== undefined) await assertTeamMayWrite(tx, team.id, input.bucketId)
      const project = await tx.project.update({
        where: { id: projectId },
        data: { name: input.name, slug: input.slug, bucketId: input.bucketId },
        select: fields,
      })
      const bucketChanged = before.bucketId !== project.bucketId
      await recordAudit(tx, actor, actor, {
        organizationId: team.organizationId,
        teamId: team.id,
        projectId,
        action: 'project.update',
        targetType: 'project',
        targetId: projectId,
        before: { name: before.name, slug: before.slug, ...(bucketChanged ? { bucketId: before.bucketId } : {}) },
        after: { name: project.name, slug: project.slug, ...(bucketChanged ? { bucketId: project.bucketId } : {}) },
      })
      return project
    })
    // API keys carry their project's name, slug and bucket: every instance re-reads them.
    await publishInvalidation('project', projectId)
    return updated
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

export async function deleteProject(actor: Actor, projectId: string) {
  await prisma.$transaction(async (tx) => {
    const access = await projectAccess(tx, actor, projectId)
    requirePermission(access, 'projects:delete', 'delete this project')
    const { project, team } = access
    await tx.project.delete({ where: { id: projectId } })
    await recordAudit(tx, actor, actor, {
      organizationId: team.organizationId,
      teamId: team.id,
      projectId,
      action: 'project.delete',
      targetType: 'project',
      targetId: projectId,
      before: { name: project.name, slug: project.slug, teamId: project.teamId },
    })
  })
  // Its files are gone: the transform fast path must stop answering for them on this instance.
  forgetProject(projectId)
  await publishInvalidation('project', projectId)
}

/** One project, for a user of its team or an API key of its own. */
export async function getProject(actor: Actor, projectId: string) {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'read this project')
  return access.project
}
