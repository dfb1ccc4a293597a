import type { Role } from '~/generated/prisma/enums'
import type { Transaction } from '~/utils/db.server'
import { forbidden, notFound } from '~/utils/errors.server'
import type { Actor, UserActor } from '../actor'
import { ROLE_PERMISSIONS, hasPermission, type Permission } from '../api-keys/permissions'

const RANK: Record<Role, number> = { VIEWER: 0, MEMBER: 1, ADMIN: 2, OWNER: 3 }

export const atLeast = (role: Role, minimum: Role) => RANK[role] >= RANK[minimum]
export const higherRole = (a: Role, b: Role) => (RANK[a] >= RANK[b] ? a : b)

type Db = Pick<Transaction, 'organizationMember' | 'teamMember' | 'team' | 'project' | 'organization'>

/** The actor's role in an organization; a non-member gets "not found", never "forbidden". */
export async function organizationRole(db: Db, actor: UserActor, organizationId: string): Promise<Role> {
  const membership = await db.organizationMember.findUnique({
    where: { organizationId_userId: { organizationId, userId: actor.userId } },
    select: { role: true },
  })
  if (!membership) throw notFound('Organization')
  return membership.role
}

/**
 * The actor's effective role in a team: organization owners and admins act as such in every team;
 * other organization members have their team role, or read-only access to teams they are not in.
 * An organization VIEWER stays read-only everywhere.
 */
export function effectiveTeamRole(orgRole: Role, teamRole: Role | null): Role {
  if (orgRole === 'VIEWER') return 'VIEWER'
  if (orgRole === 'OWNER') return 'OWNER'
  if (orgRole === 'ADMIN') return teamRole ? higherRole('ADMIN', teamRole) : 'ADMIN'
  return teamRole ?? 'VIEWER'
}

export interface TeamAccess {
  team: { id: string; organizationId: string; name: string; slug: string }
  orgRole: Role
  role: Role
}

export async function teamAccess(db: Db, actor: UserActor, teamId: string): Promise<TeamAccess> {
  const team = await db.team.findUnique({
    where: { id: teamId },
    select: {
      id: true,
      organizationId: true,
      name: true,
      slug: true,
      members: { where: { userId: actor.userId }, select: { role: true } },
      organization: { select: { members: { where: { userId: actor.userId }, select: { role: true } } } },
    },
  })
  const orgRole = team?.organization.members[0]?.role
  if (!team || !orgRole) throw notFound('Team')
  const { members, organization: _organization, ...rest } = team
  return { team: rest, orgRole, role: effectiveTeamRole(orgRole, members[0]?.role ?? null) }
}

export interface ProjectAccess {
  project: { id: string; teamId: string; name: string; slug: string; bucketId: string | null; createdAt: Date; updatedAt: Date }
  team: { id: string; organizationId: string; name: string; slug: string }
  /** The user's effective team role; null for an API key. */
  role: Role | null
  /** What the actor may do in this project: the role's permissions, or the key's own. */
  permissions: readonly Permission[]
}

/**
 * The actor's access to a project. A user reaches it through their team role; an API key reaches
 * its own project only. Anything else is "not found".
 */
export async function projectAccess(db: Db, actor: Actor, projectId: string): Promise<ProjectAccess> {
  // Resolved with the page's URL for this request: the same answer, without reading it again.
  if (actor.type === 'user' && actor.projectAccess?.project.id === projectId) return actor.projectAccess
  if (actor.type === 'api-key') {
    // The key brought its project and team along (resolved with it, kept honest by the invalidation bus).
    if (actor.projectId !== projectId) throw notFound('Project')
    return { project: actor.scope.project, team: actor.scope.team, role: null, permissions: actor.permissions }
  }
  const project = await db.project.findUnique({
    where: { id: projectId },
    select: { id: true, teamId: true, name: true, slug: true, bucketId: true, createdAt: true, updatedAt: true },
  })
  if (!project) throw notFound('Project')
  const access = await teamAccess(db, actor, project.teamId).catch(() => {
    throw notFound('Project')
  })
  return { project, team: access.team, role: access.role, permissions: ROLE_PERMISSIONS[access.role] }
}

/** Throws 403 unless the access includes `permission`, saying what was missing. */
export function requirePermission(access: Pick<ProjectAccess, 'role' | 'permissions'>, permission: Permission, action: string) {
  if (hasPermission(access.permissions, permission)) return
  throw forbidden(
    access.role
      ? `Your role ${access.role} does not allow you to ${action}.`
      : `This API key lacks the ${permission} permission, needed to ${action}.`,
  )
}

/**
 * The least organization role each organization action needs. The services check these and the
 * pages offer what `organizationCapabilities` answers, so a rule is written once.
 */
export const ORGANIZATION_ACTIONS = {
  createTeams: 'MEMBER',
  editSettings: 'ADMIN',
  manageMembers: 'ADMIN',
  delete: 'OWNER',
} as const satisfies Record<string, Role>

/** What a user with `role` in an organization may do there. */
export function organizationCapabilities(role: Role) {
  return {
    canCreateTeams: atLeast(role, ORGANIZATION_ACTIONS.createTeams),
    canEdit: atLeast(role, ORGANIZATION_ACTIONS.editSettings),
    canManageMembers: atLeast(role, ORGANIZATION_ACTIONS.manageMembers),
    canDelete: atLeast(role, ORGANIZATION_ACTIONS.delete),
  }
}

/** The least team role each team action needs (organization admins may also delete a team). */
export const TEAM_ACTIONS = {
  createProjects: 'MEMBER',
  editSettings: 'ADMIN',
  manageMembers: 'ADMIN',
  delete: 'OWNER',
} as const satisfies Record<string, Role>

/** What a user may do with a team: its services and its pages read the same flags. */
export function teamCapabilities({ orgRole, role }: { orgRole: Role; role: Role }) {
  return {
    canCreateProjects: atLeast(role, TEAM_ACTIONS.createProjects),
    canEdit: atLeast(role, TEAM_ACTIONS.editSettings),
    canManageMembers: atLeast(role, TEAM_ACTIONS.manageMembers),
    // Organization admins are team admins elsewhere, but may delete a team as its owners can.
    canDelete: atLeast(role, TEAM_ACTIONS.delete) || atLeast(orgRole, 'ADMIN'),
  }
}

/** Throws 403 with a message saying which role is needed. */
export function requireRole(role: Role, minimum: Role, action: string) {
  if (!atLeast(role, minimum)) {
    const needed = minimum === 'OWNER' ? 'an owner' : minimum === 'ADMIN' ? 'an admin or owner' : 'a member, admin or owner'
    throw forbidden(`Only ${needed} can ${action}. Your role is ${role}.`)
  }
}
