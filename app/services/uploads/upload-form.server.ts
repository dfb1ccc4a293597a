import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { hasPermission } from '../api-keys/permissions'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { effectiveMaxBytes } from './upload-rules'
import { storedUploadRules } from './upload-target.server'

/** Tenants offered by the upload form; a project with more is better served by the API. */
const FORM_TENANTS = 200

/** What the dashboard's upload form shows: may the actor upload, where, how big, which types. */
export async function uploadFormContext(actor: Actor, projectId: string) {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'see this project')
  const [project, tenants] = await Promise.all([
    prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { settings: true, bucketId: true } }),
    prisma.tenant.findMany({ where: { projectId }, select: { id: true, slug: true, name: true }, orderBy: { name: 'asc' }, take: FORM_TENANTS }),
  ])
  const rules = storedUploadRules(project.settings)
  const config = getConfig()
  return {
    canUpload: hasPermission(access.permissions, 'files:write'),
    hasBucket: project.bucketId !== null,
    tenants,
    allowedContentTypes: rules.allowedContentTypes,
    maxBytes: effectiveMaxBytes(rules, { uploadMaxBytes: config.UPLOAD_MAX_BYTES, streamedMaxBytes: config.STREAMED_UPLOAD_MAX_BYTES }),
  }
}
