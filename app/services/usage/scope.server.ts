import { prisma } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAccess, requirePermission, teamAccess, organizationRole } from '../workspaces/access.server'
import type { UsageQuery } from './schemas'

export interface ScopeProject {
  id: string
  name: string
  slug: string
  bucket: { provider: string; prices: unknown } | null
}

/** What a usage query covers: one project (optionally one tenant), a team's projects, or an organization's. */
export interface UsageScope {
  kind: 'project' | 'team' | 'organization'
  id: string
  name: string
  projects: ScopeProject[]
  tenant: { id: string; name: string; slug: string } | null
}

const projectSelect = { id: true, name: true, slug: true, bucket: { select: { provider: true, prices: true } } } as const

/**
 * Resolves and authorizes the scope of a usage query. API keys reach their own project only (with
 * usage:read); users reach what they are members of. Anything else is "not found".
 */
export async function resolveUsageScope(
  actor: Actor,
  query: Pick<UsageQuery, 'projectId' | 'teamId' | 'organizationId' | 'tenantId'>,
): Promise<UsageScope> {
  if (query.teamId || query.organizationId) {
    if (actor.type === 'api-key') throw query.teamId ? notFound('Team') : notFound('Organization')
    if (query.teamId) {
      const { team } = await teamAccess(prisma, actor, query.teamId)
      const projects = await prisma.project.findMany({ where: { teamId: team.id }, select: projectSelect, orderBy: { name: 'asc' } })
      return { kind: 'team', id: team.id, name: team.name, projects, tenant: null }
    }
    const organizationId = query.organizationId!
    await organizationRole(prisma, actor, organizationId)
    const organization = await prisma.organization.findUniqueOrThrow({ where: { id: organizationId }, select: { id: true, name: true } })
    const projects = await prisma.project.findMany({ where: { team: { organizationId } }, select: projectSelect, orderBy: { name: 'asc' } })
    return { kind: 'organization', id: organization.id, name: organization.name, projects, tenant: null }
  }
  const projectId = query.projectId ?? (actor.type === 'api-key' ? actor.projectId : undefined)
  if (!projectId) {
    throw new AppError('VALIDATION', 'Name the scope: projectId, teamId or organizationId', {
      fieldErrors: { projectId: ['Required without teamId or organizationId'] },
    })
  }
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'usage:read', 'read the usage of this project')
  const project = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: projectSelect })
  let tenant: UsageScope['tenant'] = null
  if (query.tenantId) {
    tenant = await prisma.tenant.findFirst({ where: { id: query.tenantId, projectId }, select: { id: true, name: true, slug: true } })
    if (!tenant) throw notFound('Tenant')
  }
  return { kind: 'project', id: project.id, name: project.name, projects: [project], tenant }
}
