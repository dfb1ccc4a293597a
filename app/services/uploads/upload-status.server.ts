import { fileSelect, toFileView } from '~/services/files/file-view'
import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { isExpired } from './upload-state'
import { uploadWithAccess } from './upload-target.server'
import { toUploadStatus, type UploadStatusView } from './upload-view'

/** Where an upload stands: state, recorded parts, expiry, the failure reason, and the file once complete. */
export async function getUploadStatus(actor: Actor, uploadId: string): Promise<UploadStatusView> {
  const { upload } = await uploadWithAccess(prisma, actor, uploadId, 'see uploads of this project')
  const file = upload.fileId ? await prisma.file.findUnique({ where: { id: upload.fileId }, select: fileSelect }) : null
  // A pending upload past its expiry is expired whether or not the sweeper has been by.
  const status = isExpired(upload) ? 'EXPIRED' : upload.status
  return toUploadStatus({ ...upload, status }, file ? toFileView(file) : null)
}
