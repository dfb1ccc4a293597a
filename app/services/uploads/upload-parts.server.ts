import { publicBaseUrl, storageFor } from '~/services/buckets/bucket-storage.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import type { RecordPartInput } from './schemas'
import { publishUploadProgress } from './upload-progress.server'
import { requirePending } from './upload-state'
import { uploadWithAccess, type UploadRow } from './upload-target.server'
import { partCountOf, storedParts, type RecordedPart } from './upload-view'

export interface SignedPart {
  partNumber: number
  url: string
  headers: Record<string, string>
}

function requireMultipart(upload: UploadRow) {
  if (upload.method !== 'MULTIPART' || !upload.multipartUploadId || !upload.partSize) {
    throw new AppError('CONFLICT', 'This upload is a single PUT, not a multipart upload; it has no parts.')
  }
  return { multipartUploadId: upload.multipartUploadId, partCount: partCountOf(Number(upload.size), upload.partSize)! }
}

function requireInRange(partNumbers: number[], partCount: number, field: string) {
  const outside = partNumbers.filter((n) => n > partCount)
  if (outside.length > 0) {
    const message = `This upload has ${partCount} part${partCount === 1 ? '' : 's'}; there is no part ${outside.join(', ')}.`
    throw new AppError('VALIDATION', message, { fieldErrors: { [field]: [message] } })
  }
}

/**
 * Signs PUT URLs for parts of a pending multipart upload (a batch at a time), valid until the
 * upload itself expires. A client resuming after a reload asks again for the parts it still lacks.
 */
export async function signUploadParts(
  actor: Actor,
  uploadId: string,
  partNumbers: number[],
  options: { baseUrl?: string } = {},
): Promise<{ uploadId: string; partSize: number; partCount: number; expiresAt: Date; parts: SignedPart[] }> {
  const { upload } = await uploadWithAccess(prisma, actor, uploadId, 'upload files to this project')
  requirePending(upload, 'upload parts')
  const { multipartUploadId, partCount } = requireMultipart(upload)
  requireInRange(partNumbers, partCount, 'partNumbers')
  const adapter = await storageFor(upload.bucket, options.baseUrl ?? publicBaseUrl())
  const expiresInSeconds = Math.max(1, Math.floor((upload.expiresAt.getTime() - Date.now()) / 1000))
  const parts = await Promise.all(
    partNumbers.map(async (partNumber) => {
      const signed = await adapter.presignPart(upload.objectKey, multipartUploadId, partNumber, { expiresInSeconds })
      return { partNumber, url: signed.url, headers: signed.headers }
    }),
  )
  return { uploadId, partSize: upload.partSize!, partCount, expiresAt: upload.expiresAt, parts }
}

/**
 * Records that a part was uploaded (its ETag and size), so a client can resume from the upload's
 * status. Concurrent calls for one upload queue on the row's lock: no recorded part is lost.
 */
export async function recordUploadPart(
  actor: Actor,
  uploadId: string,
  partNumber: number,
  input: RecordPartInput,
): Promise<{ parts: RecordedPart[] }> {
  const recorded = await prisma.$transaction(async (tx) => {
    const { upload } = await uploadWithAccess(tx, actor, uploadId, 'upload files to this project')
    await tx.$queryRaw`SELECT id FROM "Upload" WHERE id = ${upload.id} FOR UPDATE`
    // Re-read under the lock: another request may have recorded a part or settled the upload.
    const current = await tx.upload.findUniqueOrThrow({
      where: { id: upload.id },
      select: { status: true, expiresAt: true, failureReason: true, parts: true },
    })
    requirePending(current, 'record parts')
    const { partCount } = requireMultipart(upload)
    requireInRange([partNumber], partCount, 'partNumber')
    const isLast = partNumber === partCount
    const expected = isLast ? Number(upload.size) - upload.partSize! * (partCount - 1) : upload.partSize!
    if (input.size !== expected) {
      const message = `Part ${partNumber} must be ${expected} bytes${isLast ? ' (the last part)' : ''}; ${input.size} were reported.`
      throw new AppError('VALIDATION', message, { fieldErrors: { size: [message] } })
    }
    const parts = [
      ...storedParts(current.parts).filter((part) => part.partNumber !== partNumber),
      { partNumber, etag: input.etag, size: input.size },
    ].sort((a, b) => a.partNumber - b.partNumber)
    await tx.upload.update({ where: { id: upload.id }, data: { parts: parts as unknown as object[] } })
    return { parts, upload: { id: upload.id, projectId: upload.projectId, size: Number(upload.size) } }
  })
  const { parts, upload } = recorded
  publishUploadProgress(
    upload,
    parts.reduce((sum, part) => sum + part.size, 0),
    upload.size,
  )
  return { parts }
}
