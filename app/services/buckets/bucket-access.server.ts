import type { BucketAccess, Role } from '~/generated/prisma/enums'
import type { Transaction } from '~/utils/db.server'
import { forbidden, notFound } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { atLeast, effectiveTeamRole } from '../workspaces/access.server'

/**
 * Who may do what with a bucket. Buckets belong to a team; other teams of the same organization
 * reach them through a share. Every organization member may see the organization's buckets (as they
 * see its teams); the owning team's admins manage them; a team's admins holding an ADMIN share may
 * edit and test them; a project may store files only in a bucket its team owns or holds READ_WRITE
 * or ADMIN on.
 */

/** A team's level on a bucket: the owning team is OWNER. */
export type BucketAccessLevel = 'OWNER' | BucketAccess

const LEVEL_RANK: Record<BucketAccessLevel, number> = { READ_ONLY: 0, READ_WRITE: 1, ADMIN: 2, OWNER: 3 }
export const higherLevel = (a: BucketAccessLevel, b: BucketAccessLevel) => (LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b)
export const mayWrite = (level: BucketAccessLevel | null) => level !== null && LEVEL_RANK[level] >= LEVEL_RANK.READ_WRITE

type Db = Pick<Transaction, 'bucket' | 'bucketShare' | 'team' | 'teamMember' | 'organizationMember'>

/**
 * A team's level on a bucket, or null when it has none. The bucket must be in the team's
 * organization, else "not found".
 */
export async function teamBucketLevel(db: Db, teamId: string, bucketId: string): Promise<BucketAccessLevel | null> {
  const bucket = await db.bucket.findUnique({
    where: { id: bucketId },
    select: { teamId: true, team: { select: { organizationId: true } }, shares: { where: { teamId }, select: { access: true } } },
  })
  const team = await db.team.findUnique({ where: { id: teamId }, select: { organizationId: true } })
  if (!bucket || !team || bucket.team.organizationId !== team.organizationId) throw notFound('Bucket')
  if (bucket.teamId === teamId) return 'OWNER'
  return bucket.shares[0]?.access ?? null
}

/**
 * Throws unless the team may store files in the bucket (owns it or holds READ_WRITE or ADMIN):
 * 404 when the bucket is in another organization, 403 when the team may only read it or has no share.
 */
export async function assertTeamMayWrite(db: Db, teamId: string, bucketId: string): Promise<BucketAccessLevel> {
  const level = await teamBucketLevel(db, teamId, bucketId)
  if (!mayWrite(level)) {
    throw forbidden(
      level === 'READ_ONLY'
        ? 'This team may only read this bucket (READ_ONLY share); a project needs a bucket its team may write to.'
        : 'This bucket is not shared with this team; a project needs a bucket its team owns or holds READ_WRITE or ADMIN on.',
    )
  }
  return level!
}

export interface BucketActorAccess {
  bucket: { id: string; teamId: string; name: string; organizationId: string }
  /** The user's effective role in the owning team. */
  ownerRole: Role
  /** Admins of the owning team: edit, test, share, delete. */
  canManage: boolean
  /** Managers, and admins of a team holding an ADMIN share: edit and test. */
  canEdit: boolean
  /** The best level among the teams through which the user reaches the bucket (READ_ONLY at least). */
  level: BucketAccessLevel
}

/** The user's access to a bucket; a bucket outside the user's organizations is "not found". */
export async function bucketAccess(db: Db, actor: UserActor, bucketId: string): Promise<BucketActorAccess> {
  const bucket = await db.bucket.findUnique({
    where: { id: bucketId },
    select: {
      id: true,
      teamId: true,
      name: true,
      team: { select: { organizationId: true } },
      shares: { select: { teamId: true, access: true } },
    },
  })
  if (!bucket) throw notFound('Bucket')
  const organizationId = bucket.team.organizationId
  const membership = await db.organizationMember.findUnique({
    where: { organizationId_userId: { organizationId, userId: actor.userId } },
    select: { role: true },
  })
  if (!membership) throw notFound('Bucket')
  const orgRole = membership.role
  const teamRoles = new Map(
    (
      await db.teamMember.findMany({
        where: { userId: actor.userId, teamId: { in: [bucket.teamId, ...bucket.shares.map((share) => share.teamId)] } },
        select: { teamId: true, role: true },
      })
    ).map((member) => [member.teamId, member.role]),
  )
  const roleIn = (teamId: string) => effectiveTeamRole(orgRole, teamRoles.get(teamId) ?? null)
  // Reached "through" a team: a member of it, or an organization owner or admin (who act in every team).
  const through = (teamId: string) => teamRoles.has(teamId) || orgRole === 'OWNER' || orgRole === 'ADMIN'
  const ownerRole = roleIn(bucket.teamId)
  const canManage = atLeast(ownerRole, 'ADMIN')
  const canEdit = canManage || bucket.shares.some((share) => share.access === 'ADMIN' && atLeast(roleIn(share.teamId), 'ADMIN'))
  let level: BucketAccessLevel = 'READ_ONLY'
  if (through(bucket.teamId)) level = 'OWNER'
  else for (const share of bucket.shares) if (through(share.teamId)) level = higherLevel(level, share.access)
  return { bucket: { id: bucket.id, teamId: bucket.teamId, name: bucket.name, organizationId }, ownerRole, canManage, canEdit, level }
}

export function requireManage(access: BucketActorAccess, action: string) {
  if (!access.canManage) {
    throw forbidden(`Only admins and owners of the team that owns this bucket can ${action}. Your role there is ${access.ownerRole}.`)
  }
}

export function requireEdit(access: BucketActorAccess, action: string) {
  if (!access.canEdit) {
    throw forbidden(`Only admins of the owning team, or of a team holding an ADMIN share, can ${action}.`)
  }
}
