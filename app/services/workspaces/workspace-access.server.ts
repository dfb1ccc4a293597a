import type { Role } from '~/generated/prisma/enums'
import { notFound } from '~/utils/errors.server'
import { sql } from '~/utils/sql.server'
import type { UserActor } from '../actor'
import { ROLE_PERMISSIONS } from '../api-keys/permissions'
import { effectiveTeamRole, type ProjectAccess, type TeamAccess } from './access.server'

export interface WorkspaceSlugs {
  org: string
  team?: string
  project?: string
}

interface WorkspaceRow {
  orgId: string
  orgName: string
  orgSlug: string
  orgCreatedAt: Date
  orgUpdatedAt: Date
  orgRole: Role | null
  teamId: string | null
  teamName: string | null
  teamSlug: string | null
  teamRole: Role | null
  projectId: string | null
  projectName: string | null
  projectSlug: string | null
  bucketId: string | null
  projectCreatedAt: Date | null
  projectUpdatedAt: Date | null
}

// A dashboard page's organization, team and project by their slugs, with the user's roles: one statement.
const WORKSPACE_SQL = `
  SELECT o.id AS "orgId", o.name AS "orgName", o.slug AS "orgSlug", o."createdAt" AS "orgCreatedAt", o."updatedAt" AS "orgUpdatedAt",
         om.role AS "orgRole", t.id AS "teamId", t.name AS "teamName", t.slug AS "teamSlug", tm.role AS "teamRole",
         p.id AS "projectId", p.name AS "projectName", p.slug AS "projectSlug", p."bucketId",
         p."createdAt" AS "projectCreatedAt", p."updatedAt" AS "projectUpdatedAt"
    FROM "Organization" o
    LEFT JOIN "OrganizationMember" om ON om."organizationId" = o.id AND om."userId" = $1
    LEFT JOIN "Team" t ON t."organizationId" = o.id AND t.slug = $3
    LEFT JOIN "TeamMember" tm ON tm."teamId" = t.id AND tm."userId" = $1
    LEFT JOIN "Project" p ON p."teamId" = t.id AND p.slug = $4
   WHERE o.slug = $2`

export interface OrganizationAccess {
  organization: { id: string; name: string; slug: string; createdAt: Date; updatedAt: Date }
  role: Role
}

export interface WorkspaceAccess extends OrganizationAccess {
  team?: TeamAccess
  project?: ProjectAccess
}

/**
 * Resolves `$org`, `$team` and `$project` for a user in one statement, with the same answers as
 * the services: what the user may not see is "not found" (organization, then team, then project).
 */
export async function resolveWorkspace(actor: UserActor, slugs: WorkspaceSlugs): Promise<WorkspaceAccess> {
  const [row] = await sql<WorkspaceRow>(WORKSPACE_SQL, [actor.userId, slugs.org, slugs.team ?? null, slugs.project ?? null])
  if (!row?.orgRole) throw notFound('Organization')
  const organization = { id: row.orgId, name: row.orgName, slug: row.orgSlug, createdAt: row.orgCreatedAt, updatedAt: row.orgUpdatedAt }
  const resolved: WorkspaceAccess = { organization, role: row.orgRole }
  if (slugs.team === undefined) return resolved
  if (!row.teamId) throw notFound('Team')
  const team = { id: row.teamId, organizationId: row.orgId, name: row.teamName!, slug: row.teamSlug! }
  const role = effectiveTeamRole(row.orgRole, row.teamRole)
  resolved.team = { team, orgRole: row.orgRole, role }
  if (slugs.project === undefined) return resolved
  if (!row.projectId) throw notFound('Project')
  resolved.project = {
    project: {
      id: row.projectId,
      teamId: row.teamId,
      name: row.projectName!,
      slug: row.projectSlug!,
      bucketId: row.bucketId,
      createdAt: row.projectCreatedAt!,
      updatedAt: row.projectUpdatedAt!,
    },
    team,
    role,
    permissions: ROLE_PERMISSIONS[role],
  }
  return resolved
}
