import type { Transaction } from '~/utils/db.server'
import { recordEvent } from '../events/record-event.server'

/** Records `upload.failed` (with its reason) or `upload.expired` for an upload, in the transaction that settled it. */
export async function recordUploadEvent(
  tx: Transaction,
  uploadId: string,
  outcome: { type: 'upload.failed'; reason: string } | { type: 'upload.expired' },
) {
  const upload = await tx.upload.findUniqueOrThrow({ where: { id: uploadId }, select: { projectId: true, tenantId: true, path: true } })
  const data = { projectId: upload.projectId, uploadId, tenantId: upload.tenantId, path: upload.path }
  if (outcome.type === 'upload.failed') await recordEvent(tx, { type: 'upload.failed', data: { ...data, reason: outcome.reason } })
  else await recordEvent(tx, { type: 'upload.expired', data })
}
