import { randomUUID } from 'node:crypto'
import { fileSelect, toFileView, type FileView } from '~/services/files/file-view'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { requirePending } from './upload-state'
import { uploadWithAccess } from './upload-target.server'

interface ClaimBase {
  uploadId: string
  routeSlug: string | null
  metadata: Record<string, unknown> | null
  file: FileView
}

/**
 * `claimed`: the caller runs the completion callback now and settles the claim before its lease
 * ends; `done`: it ran, here is what it returned; `busy`: another caller holds the claim.
 */
export type CallbackClaim = ClaimBase &
  (
    | { state: 'claimed'; claimId: string; leaseExpiresAt: Date }
    | { state: 'done'; serverData: unknown }
    | { state: 'busy'; leaseExpiresAt: Date }
  )

export type CallbackSettlement = { claimId: string; outcome: 'done'; serverData: unknown } | { claimId: string; outcome: 'failed' }

async function completedUpload(actor: Actor, uploadId: string) {
  const found = await uploadWithAccess(prisma, actor, uploadId, 'upload files to this project')
  const { upload } = found
  if (upload.status !== 'COMPLETED' || !upload.fileId) {
    // Pending, failed, aborted or expired: say which, as every other call on an unsettled upload does.
    requirePending(upload, 'run its callback')
    throw new AppError('CONFLICT', 'This upload is not completed yet: complete it, then claim its callback.')
  }
  return { ...found, fileId: upload.fileId }
}

/**
 * Claims the right to run an upload's completion callback (an SDK route handler's
 * `onUploadComplete`). The state lives on the upload row, under its lock, so reports arriving
 * together (the client's and the reconciliation webhook) run the callback once: the first claims,
 * the others see `busy` and then `done` with the stored result. A claim that is never settled
 * lapses after UPLOAD_CALLBACK_LEASE_SECONDS and the next report claims it afresh.
 */
export async function claimUploadCallback(actor: Actor, uploadId: string, now = new Date()): Promise<CallbackClaim> {
  const { upload, fileId } = await completedUpload(actor, uploadId)
  const base = {
    uploadId: upload.id,
    routeSlug: upload.routeSlug,
    metadata: (upload.metadata ?? null) as Record<string, unknown> | null,
    file: toFileView(await prisma.file.findUniqueOrThrow({ where: { id: fileId }, select: fileSelect })),
  }
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Upload" WHERE id = ${upload.id} FOR UPDATE`
    const current = await tx.upload.findUniqueOrThrow({
      where: { id: upload.id },
      select: { callbackClaimId: true, callbackClaimExpiresAt: true, callbackDoneAt: true, callbackResult: true },
    })
    if (current.callbackDoneAt)
      return { ...base, state: 'done' as const, serverData: (current.callbackResult as { serverData?: unknown } | null)?.serverData ?? null }
    if (current.callbackClaimId && current.callbackClaimExpiresAt && current.callbackClaimExpiresAt > now) {
      return { ...base, state: 'busy' as const, leaseExpiresAt: current.callbackClaimExpiresAt }
    }
    const claimId = randomUUID()
    const leaseExpiresAt = new Date(now.getTime() + getConfig().UPLOAD_CALLBACK_LEASE_SECONDS * 1000)
    await tx.upload.update({ where: { id: upload.id }, data: { callbackClaimId: claimId, callbackClaimExpiresAt: leaseExpiresAt } })
    return { ...base, state: 'claimed' as const, claimId, leaseExpiresAt }
  })
}

/**
 * Settles a claim: `done` records the callback's result (answered to every later claim) and ends
 * the reconciliation's deliveries; `failed` releases the claim so the next report runs it again.
 * A claim that lapsed and was taken by another caller is refused (409); settling twice is harmless.
 */
export async function settleUploadCallback(
  actor: Actor,
  uploadId: string,
  settlement: CallbackSettlement,
): Promise<{ uploadId: string; state: 'done' | 'open' }> {
  const { upload, access } = await completedUpload(actor, uploadId)
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Upload" WHERE id = ${upload.id} FOR UPDATE`
    const current = await tx.upload.findUniqueOrThrow({ where: { id: upload.id }, select: { callbackClaimId: true, callbackDoneAt: true } })
    if (current.callbackDoneAt) return { uploadId: upload.id, state: 'done' as const }
    if (current.callbackClaimId !== settlement.claimId) {
      throw new AppError('CONFLICT', 'This claim is no longer held (its lease ended and another report claimed the callback).')
    }
    if (settlement.outcome === 'failed') {
      await tx.upload.update({ where: { id: upload.id }, data: { callbackClaimId: null, callbackClaimExpiresAt: null } })
      return { uploadId: upload.id, state: 'open' as const }
    }
    await tx.upload.update({
      where: { id: upload.id },
      data: {
        callbackDoneAt: new Date(), // Wrapped: a callback that returned null still leaves a (non-null) JSON value.
        callbackResult: { serverData: (settlement.serverData ?? null) as object | null },
        callbackClaimId: null,
        callbackClaimExpiresAt: null,
      },
    })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      tenantId: upload.tenantId,
      action: 'upload.callback',
      targetType: 'upload',
      targetId: upload.id,
      after: { routeSlug: upload.routeSlug, fileId: upload.fileId },
    })
    return { uploadId: upload.id, state: 'done' as const }
  })
}
