import { bucketConnectionSelect, type BucketConnectionRow } from '~/services/buckets/bucket-storage.server'
import { projectSettingsSchema, type UploadRules } from '~/services/settings/schemas'
import type { Role } from '~/generated/prisma/enums'
import type { Transaction } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import { sql } from '~/utils/sql.server'
import type { Actor } from '../actor'
import { ROLE_PERMISSIONS } from '../api-keys/permissions'
import { effectiveTeamRole, projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { DEFAULT_UPLOAD_RULES } from './upload-rules'
import { actorTenantId } from '../actor'
import { EFFECTIVE_LIMIT_COLUMNS, limitsOfRow, type Limits } from '../tenants/limits'
import { requireTenantWritable, type TenantStatusValue } from '../tenants/tenant-status.server'

type Db = Pick<Transaction, 'organizationMember' | 'teamMember' | 'team' | 'project' | 'organization' | 'bucket' | 'upload'>

/** Everything an upload into a project needs: who may, where the bytes go, and the rules. */
export interface UploadTarget {
  access: ProjectAccess
  organizationSlug: string
  bucket: BucketConnectionRow
  rules: UploadRules
  /** The tenant asked for, when one was (null when none was asked for), with its effective limits. */
  tenant: { id: string; slug: string; name: string; limits: Limits } | null
}

export const NO_BUCKET_MESSAGE = 'This project has no bucket yet; choose one in its settings.'

/** The project's upload rules as stored; a value that no longer validates falls back to the defaults. */
export function storedUploadRules(settings: unknown): UploadRules {
  const stored = typeof settings === 'object' && settings !== null ? (settings as { uploads?: unknown }).uploads : undefined
  const parsed = projectSettingsSchema.shape.uploads.safeParse(stored)
  return (parsed.success ? parsed.data : undefined) ?? DEFAULT_UPLOAD_RULES
}

interface TargetRow {
  id: string
  teamId: string
  name: string
  slug: string
  bucketId: string | null
  createdAt: Date
  updatedAt: Date
  settings: unknown
  organizationId: string
  teamName: string
  teamSlug: string
  organizationSlug: string
  provider: string | null
  bucketName: string | null
  region: string | null
  endpoint: string | null
  forcePathStyle: boolean | null
  credentials: string | null
  bucketUpdatedAt: Date | null
  orgRole: Role | null
  teamRole: Role | null
  tenantId: string | null
  tenantSlug: string | null
  tenantName: string | null
  tenantStatus: TenantStatusValue | null
  maxStoredBytes: bigint | null
  maxFiles: number | null
  maxFileBytes: bigint | null
  maxUploadsPerHour: number | null
  maxTransformsPerHour: number | null
}

// The project with its team, organization, bucket and rules, the user's roles (none for a key) and
// the tenant asked for: one statement.
const TARGET_SQL = `
  SELECT p.id, p."teamId", p.name, p.slug, p."bucketId", p."createdAt", p."updatedAt", p.settings,
         t."organizationId", t.name AS "teamName", t.slug AS "teamSlug", o.slug AS "organizationSlug",
         b.provider, b."bucketName", b.region, b.endpoint, b."forcePathStyle", b.credentials, b."updatedAt" AS "bucketUpdatedAt",
         om.role AS "orgRole", tm.role AS "teamRole",
         tn.id AS "tenantId", tn.slug AS "tenantSlug", tn.name AS "tenantName", tn.status AS "tenantStatus",
         ${EFFECTIVE_LIMIT_COLUMNS}
    FROM "Project" p
    JOIN "Team" t ON t.id = p."teamId"
    JOIN "Organization" o ON o.id = t."organizationId"
    LEFT JOIN "Bucket" b ON b.id = p."bucketId"
    LEFT JOIN "OrganizationMember" om ON om."organizationId" = t."organizationId" AND om."userId" = $2
    LEFT JOIN "TeamMember" tm ON tm."teamId" = t.id AND tm."userId" = $2
    LEFT JOIN "Tenant" tn ON (tn.id = $3 OR tn.slug = $4) AND tn."projectId" = p.id
    LEFT JOIN "Plan" pl ON pl.id = tn."planId"
   WHERE p.id = $1`

/**
 * Authorizes an upload into a project (files:write) and loads its bucket, rules and the tenant
 * asked for, in one statement. A project the actor cannot see is 404, an unknown tenant 404, a
 * project without a bucket 409.
 */
export async function uploadTarget(
  actor: Actor,
  projectId: string,
  tenantChoice?: string | { id?: string | null; slug?: string | null } | null,
): Promise<UploadTarget> {
  if (actor.type === 'api-key' && actor.projectId !== projectId) throw notFound('Project')
  // A tenant by id, or by slug (what an application knows it by: a subdomain, a header).
  const asked = typeof tenantChoice === 'string' ? { id: tenantChoice } : (tenantChoice ?? {})
  // A tenant-scoped key uploads into its own tenant, named or not.
  const keyTenant = actorTenantId(actor)
  const tenantSlug = asked.slug?.trim().toLowerCase() || null
  const tenantId = asked.id ?? (keyTenant && !tenantSlug ? keyTenant : null)
  const [row] = await sql<TargetRow>(TARGET_SQL, [projectId, actor.type === 'user' ? actor.userId : null, tenantId, tenantSlug])
  if (!row) throw notFound('Project')
  let access: ProjectAccess
  const project = {
    id: row.id,
    teamId: row.teamId,
    name: row.name,
    slug: row.slug,
    bucketId: row.bucketId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
  const team = { id: row.teamId, organizationId: row.organizationId, name: row.teamName, slug: row.teamSlug }
  if (actor.type === 'api-key') {
    access = { project, team, role: null, permissions: actor.permissions }
  } else {
    if (!row.orgRole) throw notFound('Project')
    const role = effectiveTeamRole(row.orgRole, row.teamRole)
    access = { project, team, role, permissions: ROLE_PERMISSIONS[role] }
  }
  requirePermission(access, 'files:write', 'upload files to this project')
  if (!row.bucketId || !row.provider) throw new AppError('CONFLICT', NO_BUCKET_MESSAGE)
  if ((tenantId || tenantSlug) && !row.tenantId) throw notFound('Tenant')
  if (keyTenant && row.tenantId !== keyTenant) throw notFound('Tenant')
  if (row.tenantId) requireTenantWritable({ slug: row.tenantSlug!, status: row.tenantStatus! }, 'upload files to it')
  const bucket: BucketConnectionRow = {
    id: row.bucketId,
    provider: row.provider,
    bucketName: row.bucketName!,
    region: row.region!,
    endpoint: row.endpoint,
    forcePathStyle: row.forcePathStyle!,
    credentials: row.credentials,
    updatedAt: row.bucketUpdatedAt!,
  }
  const tenant = row.tenantId ? { id: row.tenantId, slug: row.tenantSlug!, name: row.tenantName!, limits: limitsOfRow(row) } : null
  return { access, organizationSlug: row.organizationSlug, bucket, rules: storedUploadRules(row.settings), tenant }
}

export const uploadSelect = {
  id: true,
  projectId: true,
  tenantId: true,
  bucketId: true,
  objectKey: true,
  path: true,
  fileName: true,
  contentType: true,
  size: true,
  method: true,
  status: true,
  multipartUploadId: true,
  partSize: true,
  parts: true,
  failureReason: true,
  fileId: true,
  createdAt: true,
  expiresAt: true,
  completedAt: true,
  routeSlug: true,
  routeMaxBytes: true,
  routeTypes: true,
  metadata: true,
  callbackUrl: true,
  bucket: { select: bucketConnectionSelect },
  tenant: { select: { slug: true, status: true } },
} as const

/**
 * An upload the actor may work on (files:write in its project). Another project's upload, or one
 * the actor cannot see, is "not found".
 */
export async function uploadWithAccess(db: Db, actor: Actor, uploadId: string, action: string) {
  const upload = await db.upload.findUnique({ where: { id: uploadId }, select: uploadSelect })
  // A tenant-scoped key sees only its tenant's uploads.
  const keyTenant = actorTenantId(actor)
  if (!upload || (keyTenant && upload.tenantId !== keyTenant)) throw notFound('Upload')
  const access = await projectAccess(db, actor, upload.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Upload') : error
  })
  requirePermission(access, 'files:write', action)
  return { upload, access }
}

export type UploadRow = Awaited<ReturnType<typeof uploadWithAccess>>['upload']
