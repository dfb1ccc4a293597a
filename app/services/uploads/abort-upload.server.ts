import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { discardUploadObjects } from './upload-cleanup.server'
import { recordUploadEvent } from './upload-events.server'
import { requirePending } from './upload-state'
import { uploadWithAccess } from './upload-target.server'
import { toUploadStatus, type UploadStatusView } from './upload-view'

/**
 * Aborts a pending upload: state ABORTED (recorded and audited), then the multipart upload and any
 * object are removed from the bucket. Aborting anything but a pending upload is refused.
 */
export async function abortUpload(actor: Actor, uploadId: string): Promise<UploadStatusView> {
  const { upload, access } = await uploadWithAccess(prisma, actor, uploadId, 'upload files to this project')
  requirePending(upload, 'abort it')
  const aborted = await prisma.$transaction(async (tx) => {
    const changed = await tx.upload.updateMany({ where: { id: upload.id, status: 'PENDING' }, data: { status: 'ABORTED' } })
    if (changed.count === 0) return false
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      tenantId: upload.tenantId,
      action: 'upload.abort',
      targetType: 'upload',
      targetId: upload.id,
      before: { status: 'PENDING' },
      after: { status: 'ABORTED' },
    })
    await recordUploadEvent(tx, upload.id, { type: 'upload.failed', reason: 'The upload was aborted.' })
    return true
  })
  if (!aborted) {
    // Settled by another request between the read and the write: say what it became.
    const current = await prisma.upload.findUniqueOrThrow({
      where: { id: upload.id },
      select: { status: true, expiresAt: true, failureReason: true },
    })
    requirePending(current, 'abort it')
  }
  await discardUploadObjects(upload)
  return toUploadStatus({ ...upload, status: 'ABORTED' }, null)
}
