import { storageFor } from '~/services/buckets/bucket-storage.server'
import { fileSelect, toFileView, type FileView } from '~/services/files/file-view'
import { StorageError } from '~/storage/storage-adapter'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import { oneAtATime } from '~/utils/one-at-a-time'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { recordEvent } from '../events/record-event.server'
import { ruleError } from './init-upload.server'
import type { CompleteUploadInput } from './schemas'
import { failUpload } from './upload-cleanup.server'
import { publishUploadCompleted, publishUploadVerifying } from './upload-progress.server'
import { effectiveMaxBytes, ruleViolation } from './upload-rules'
import { routeViolation } from './upload-route'
import { requirePending } from './upload-state'
import { storedUploadRules, uploadWithAccess, type UploadRow } from './upload-target.server'
import { partCountOf, storedParts } from './upload-view'
import { meterUpload } from '../usage/meter.server'
import { verifyObject } from './verify-object.server'
import { stagingKeyOf } from './object-keys'
import { checkStoredQuota, completionQuotaRefusal } from '../tenants/quota.server'
import { requireTenantWritable } from '../tenants/tenant-status.server'

/** Storage failures that say nothing about the upload itself: the upload stays pending for a retry. */
const TRANSIENT: StorageError['failure'][] = ['unreachable', 'credentials', 'permission', 'endpoint-refused']

async function fileOf(fileId: string): Promise<FileView> {
  return toFileView(await prisma.file.findUniqueOrThrow({ where: { id: fileId }, select: fileSelect }))
}

/**
 * The one completion step of every upload path (presigned PUT, multipart, streamed): assembles a
 * multipart upload's parts, then verifies the object (it exists, has the declared size, its first
 * bytes match the declared type) and the project's rules, and only then creates the file and marks
 * the upload completed, in one transaction with its audit entry. A failed check deletes the object,
 * fails the upload with the reason and answers 422 (413/415 for the project's rules). Completing
 * again returns the same file.
 */
export function completeUpload(actor: Actor, input: CompleteUploadInput): Promise<{ file: FileView }> {
  // Completions of one upload in this process take turns: the second finds the first one's file
  // instead of racing it through the bucket (across instances, the races below are handled).
  return completionTurns(input.uploadId, () => completeOnce(actor, input))
}

const completionTurns = oneAtATime()

async function completeOnce(actor: Actor, input: CompleteUploadInput): Promise<{ file: FileView }> {
  const { upload, access } = await uploadWithAccess(prisma, actor, input.uploadId, 'upload files to this project')
  if (upload.status === 'COMPLETED' && upload.fileId) return { file: await fileOf(upload.fileId) }
  requirePending(upload, 'complete it')
  // Suspended or archived since the upload started: refused, and the reservation expires with the upload.
  requireTenantWritable(upload.tenant, 'upload files to it')
  const organizationId = access.team.organizationId
  const fail = async (reason: string, error: AppError = new AppError('UNPROCESSABLE', reason)) => {
    await failUpload(actor, organizationId, upload, reason)
    throw error
  }

  const config = getConfig()
  const project = await prisma.project.findUniqueOrThrow({ where: { id: upload.projectId }, select: { settings: true } })
  const rules = storedUploadRules(project.settings)
  const maxSize = effectiveMaxBytes(rules, {
    uploadMaxBytes: config.UPLOAD_MAX_BYTES,
    streamedMaxBytes: upload.method === 'STREAM' ? config.STREAMED_UPLOAD_MAX_BYTES : undefined,
  })
  const size = Number(upload.size)
  const violation =
    ruleViolation(rules, maxSize, { contentType: upload.contentType, size }) ??
    routeViolation(
      { slug: upload.routeSlug, maxBytes: upload.routeMaxBytes === null ? null : Number(upload.routeMaxBytes), types: upload.routeTypes },
      { contentType: upload.contentType, size },
    )
  if (violation) await fail(violation.message, ruleError(violation))
  const overQuota = upload.tenantId ? await completionQuotaRefusal(upload.tenantId, size) : null
  if (overQuota) await fail(overQuota.message, overQuota)

  const adapter = await storageFor(upload.bucket)
  if (upload.method === 'MULTIPART') {
    const settled = await assembleParts(upload, input, adapter, fail)
    if (settled) return { file: settled }
  }

  // A presigned PUT's bytes are checked where the URL wrote them, and only copied into place once verified.
  let receivedKey = upload.method === 'PUT' ? stagingKeyOf(upload.objectKey) : upload.objectKey
  publishUploadVerifying(upload, size)
  let verification = await verifyObject(adapter, receivedKey, { size, contentType: upload.contentType })
  if (!verification.ok && upload.method === 'PUT' && !(await adapter.head(receivedKey))) {
    const settled = await completedFile(upload.id)
    if (settled) return { file: settled }
    // No staged bytes, but verified ones in place: a concurrent completion promoted them and is about to
    // record the file (the row lock below lets exactly one of us do it).
    if (await adapter.head(upload.objectKey)) {
      receivedKey = upload.objectKey
      verification = await verifyObject(adapter, receivedKey, { size, contentType: upload.contentType })
    } else {
      // Completing before the PUT has landed is a client's ordering slip, not a bad file.
      throw new AppError('CONFLICT', 'Nothing has been uploaded for this upload yet: PUT the bytes to its URL, then complete it.')
    }
  }
  if (!verification.ok) await fail(verification.reason)
  if (upload.method === 'PUT' && verification.ok && receivedKey !== upload.objectKey) {
    const settled = await promoteStaged(adapter, upload, receivedKey, verification.etag, fail)
    if (settled) return { file: settled }
  }

  const completed = await prisma.$transaction(async (tx) => {
    // Two completions of one upload queue here; the second finds the first one's file.
    await tx.$queryRaw`SELECT id FROM "Upload" WHERE id = ${upload.id} FOR UPDATE`
    const current = await tx.upload.findUniqueOrThrow({
      where: { id: upload.id },
      select: { status: true, fileId: true, expiresAt: true, failureReason: true },
    })
    if (current.status === 'COMPLETED' && current.fileId) return { file: await fileOf(current.fileId), created: false }
    // Verified while still pending: a deadline passing during the checks does not undo them.
    if (current.status !== 'PENDING') requirePending(current, 'complete it')
    const row = await tx.file.create({
      data: {
        projectId: upload.projectId,
        tenantId: upload.tenantId,
        bucketId: upload.bucketId,
        objectKey: upload.objectKey,
        path: upload.path,
        name: upload.fileName,
        contentType: upload.contentType,
        size: upload.size,
        etag: verification.ok ? verification.etag : null,
      },
      select: fileSelect,
    })
    await tx.upload.update({
      where: { id: upload.id },
      data: { status: 'COMPLETED', fileId: row.id, completedAt: new Date(), multipartUploadId: null },
    })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      tenantId: row.tenantId,
      action: 'file.create',
      targetType: 'file',
      targetId: row.id,
      after: {
        projectId: row.projectId,
        tenantId: row.tenantId,
        path: row.path,
        name: row.name,
        contentType: row.contentType,
        size: Number(row.size),
        uploadId: upload.id,
        method: upload.method,
      },
    })
    await recordEvent(tx, {
      type: 'file.uploaded',
      data: {
        projectId: row.projectId,
        uploadId: upload.id,
        file: {
          id: row.id,
          tenantId: row.tenantId,
          path: row.path,
          name: row.name,
          size: Number(row.size),
          contentType: row.contentType,
          createdAt: row.createdAt.toISOString(),
        },
      },
    })
    return { file: toFileView(row), created: true }
  })
  publishUploadCompleted(upload, completed.file)
  if (completed.created) {
    meterUpload(upload.projectId, upload.tenantId, size)
    await checkStoredQuota(upload.tenantId)
  }
  return { file: completed.file }
}

async function completedFile(uploadId: string): Promise<FileView | null> {
  const current = await prisma.upload.findUniqueOrThrow({ where: { id: uploadId }, select: { status: true, fileId: true } })
  return current.status === 'COMPLETED' && current.fileId ? fileOf(current.fileId) : null
}

/**
 * Copies verified staged bytes to the upload's object key, only while they are still the bytes that
 * were verified (the copy's If-Match on the verified ETag; the copy's own size checked after), then
 * removes the staging copy. From then on the PUT URL can only rewrite staging, which
 * nothing reads. Returns the file when a concurrent completion got there first.
 */
async function promoteStaged(
  adapter: Awaited<ReturnType<typeof storageFor>>,
  upload: UploadRow,
  stagingKey: string,
  etag: string | null,
  fail: (reason: string, error?: AppError) => Promise<never>,
): Promise<FileView | null> {
  const changed = 'The bytes changed while they were being verified; upload the file again.'
  try {
    await adapter.copy(stagingKey, upload.objectKey, etag ? { ifMatch: etag } : {})
  } catch (error) {
    const settled = await completedFile(upload.id)
    if (settled) return settled
    if (error instanceof StorageError && error.failure === 'changed') await fail(changed)
    // A concurrent completion copied the same verified bytes into place and removed the staging copy first.
    const placed = await adapter.head(upload.objectKey)
    if (placed && placed.size === Number(upload.size) && !(await adapter.head(stagingKey))) return null
    throw error
  }
  const copied = await adapter.head(upload.objectKey)
  if (!copied || copied.size !== Number(upload.size)) await fail(changed)
  await adapter.delete(stagingKey).catch(() => {})
  return null
}

/**
 * Completes the bucket's multipart upload from the parts given (or those recorded). Returns the
 * file when a concurrent completion got there first.
 */
async function assembleParts(
  upload: UploadRow,
  input: CompleteUploadInput,
  adapter: Awaited<ReturnType<typeof storageFor>>,
  fail: (reason: string, error?: AppError) => Promise<never>,
): Promise<FileView | null> {
  const partCount = partCountOf(Number(upload.size), upload.partSize)!
  const parts = input.parts ?? storedParts(upload.parts).map(({ partNumber, etag }) => ({ partNumber, etag }))
  const numbers = [...new Set(parts.map((part) => part.partNumber))].sort((a, b) => a - b)
  const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !numbers.includes(n))
  if (missing.length > 0 || numbers.length !== parts.length || numbers.some((n) => n > partCount)) {
    const message =
      missing.length > 0
        ? `Parts ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''} of ${partCount} are missing; upload them (and record them or send them in parts), then complete.`
        : `Send each of the ${partCount} parts once, numbered 1 to ${partCount}.`
    throw new AppError('VALIDATION', message, { fieldErrors: { parts: [message] } })
  }
  if (!upload.multipartUploadId) throw new AppError('CONFLICT', 'This multipart upload has no parts in the bucket any more.')
  try {
    await adapter.completeMultipart(upload.objectKey, upload.multipartUploadId, parts)
  } catch (error) {
    const current = await prisma.upload.findUniqueOrThrow({ where: { id: upload.id }, select: { status: true, fileId: true } })
    if (current.status === 'COMPLETED' && current.fileId) return fileOf(current.fileId)
    if (error instanceof StorageError && !TRANSIENT.includes(error.failure)) {
      await fail(`The bucket could not assemble the parts: ${error.message}`)
    }
    throw error
  }
  return null
}
