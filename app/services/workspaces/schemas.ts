import { z } from 'zod'

export const ROLES = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'] as const
export type RoleName = (typeof ROLES)[number]

export const ROLE_DESCRIPTIONS: Record<RoleName, string> = {
  OWNER: 'Owner: full control, including deletion',
  ADMIN: 'Admin: manages members, settings and everything below',
  MEMBER: 'Member: creates and changes teams and projects',
  VIEWER: 'Viewer: reads only',
}

/** Names that would collide with dashboard paths. */
const RESERVED_SLUGS = new Set(['new', 'settings', 'members', 'teams', 'projects', 'invitations', 'api', 'admin'])

export const slugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(2, 'Slug must be at least 2 characters')
  .max(48, 'Slug must be at most 48 characters')
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'Slug may contain only lowercase letters, digits and single hyphens between them')
  .refine((slug) => !RESERVED_SLUGS.has(slug), { message: 'This slug is reserved; choose another' })

const nameSchema = (what: string) =>
  z
    .string({ error: `${what} name is required` })
    .trim()
    .min(1, `${what} name is required`)
    .max(80, `${what} name must be at most 80 characters`)

export const roleSchema = z.enum(ROLES, { error: 'Choose a role: OWNER, ADMIN, MEMBER or VIEWER' })

export const createOrganizationSchema = z.object({ name: nameSchema('Organization'), slug: slugSchema.optional() })
export const updateOrganizationSchema = z.object({ name: nameSchema('Organization'), slug: slugSchema })

export const createTeamSchema = z.object({ name: nameSchema('Team'), slug: slugSchema.optional() })
export const updateTeamSchema = z.object({ name: nameSchema('Team'), slug: slugSchema })

export const createProjectSchema = z.object({ name: nameSchema('Project'), slug: slugSchema.optional() })
/** The bucket a project stores its files in: one its team owns or holds READ_WRITE or ADMIN on. */
export const projectBucketIdSchema = z
  .string({ error: 'bucketId must be a bucket id' })
  .min(1, 'Choose a bucket')
  .max(64, 'Bucket id is too long')
export const updateProjectSchema = z.object({ name: nameSchema('Project'), slug: slugSchema })

export const createInvitationSchema = z.object({ role: roleSchema })
export const changeRoleSchema = z.object({ memberId: z.string().min(1), role: roleSchema })
export const removeMemberSchema = z.object({ memberId: z.string().min(1) })
export const addTeamMemberSchema = z.object({ userId: z.string({ error: 'Choose a member' }).min(1, 'Choose a member'), role: roleSchema })

/** Deleting asks the user to type the slug, so a slip of the mouse deletes nothing. */
export const confirmDeletionSchema = (slug: string) =>
  z.object({
    confirm: z
      .string({ error: `Type ${slug} to confirm` })
      .trim()
      .refine((value) => value === slug, { message: `Type ${slug} to confirm` }),
  })
