import { bucketConnectionSelect, type BucketConnectionRow } from '~/services/buckets/bucket-storage.server'
import { projectSettingsSchema, type UploadRules } from '~/services/settings/schemas'
import type { Transaction } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { DEFAULT_UPLOAD_RULES } from './upload-rules'

type Db = Pick<Transaction, 'organizationMember' | 'teamMember' | 'team' | 'project' | 'organization' | 'bucket' | 'upload'>

/** Everything an upload into a project needs: who may, where the bytes go, and the rules. */
export interface UploadTarget {
  access: ProjectAccess
  organizationSlug: string
  bucket: BucketConnectionRow
  rules: UploadRules
}

export const NO_BUCKET_MESSAGE = 'This project has no bucket yet; choose one in its settings.'

/** The project's upload rules as stored; a value that no longer validates falls back to the defaults. */
export function storedUploadRules(settings: unknown): UploadRules {
  const stored = typeof settings === 'object' && settings !== null ? (settings as { uploads?: unknown }).uploads : undefined
  const parsed = projectSettingsSchema.shape.uploads.safeParse(stored)
  return (parsed.success ? parsed.data : undefined) ?? DEFAULT_UPLOAD_RULES
}

/**
 * Authorizes an upload into a project (files:write) and loads its bucket and rules. A project the
 * actor cannot see is 404; one without a bucket is 409.
 */
export async function uploadTarget(db: Db, actor: Actor, projectId: string): Promise<UploadTarget> {
  const access = await projectAccess(db, actor, projectId)
  requirePermission(access, 'files:write', 'upload files to this project')
  const project = await db.project.findUniqueOrThrow({
    where: { id: projectId },
    select: { settings: true, bucket: { select: bucketConnectionSelect }, team: { select: { organization: { select: { slug: true } } } } },
  })
  if (!project.bucket) throw new AppError('CONFLICT', NO_BUCKET_MESSAGE)
  return { access, organizationSlug: project.team.organization.slug, bucket: project.bucket, rules: storedUploadRules(project.settings) }
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
  bucket: { select: bucketConnectionSelect },
} as const

/**
 * An upload the actor may work on (files:write in its project). Another project's upload, or one
 * the actor cannot see, is "not found".
 */
export async function uploadWithAccess(db: Db, actor: Actor, uploadId: string, action: string) {
  const upload = await db.upload.findUnique({ where: { id: uploadId }, select: uploadSelect })
  if (!upload) throw notFound('Upload')
  const access = await projectAccess(db, actor, upload.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Upload') : error
  })
  requirePermission(access, 'files:write', action)
  return { upload, access }
}

export type UploadRow = Awaited<ReturnType<typeof uploadWithAccess>>['upload']
