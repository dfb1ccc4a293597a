import { Readable } from 'node:stream'
import type { ReadableStream as NodeWebStream } from 'node:stream/web'
import Busboy from 'busboy'
import { storageFor } from '~/services/buckets/bucket-storage.server'
import { StorageError } from '~/storage/storage-adapter'
import type { FileView } from '~/services/files/file-view'
import { tenantForUpload } from '~/services/tenants/tenants.server'
import type { Limits } from '~/services/tenants/limits'
import { quotaRefusal } from '~/services/tenants/quota.server'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { completeUpload } from './complete-upload.server'
import { ruleError } from './init-upload.server'
import { contentTypeSchema, streamUploadFieldsSchema } from './schemas'
import { discardUploadObjects, failUpload } from './upload-cleanup.server'
import { contentTypeAllowed, effectiveMaxBytes, ruleViolation } from './upload-rules'
import { projectOfCall } from '../project-scope.server'
import { uploadTarget, type UploadTarget } from './upload-target.server'
import { reserveUpload } from './reserve-upload.server'
import { progressCounter } from './upload-progress.server'

const STREAM_BUFFER_BYTES = 1024 * 1024

/** Room for the form's boundaries, part headers and small fields around the file itself. */
const FORM_OVERHEAD_BYTES = 64 * 1024

/**
 * Receives a multipart/form-data upload through Carcosa (the dashboard's form without JavaScript,
 * `POST /api/v1/files/upload`, CLIs): optional `tenantId` and `size` fields, which must come BEFORE
 * the file, then one part named `file`. With `size` the bytes go to the bucket as one streamed PUT of
 * that length (no part buffers); without it, in bounded parts. The file streams from the request into the bucket with constant
 * memory (backpressure reaches the client's socket), is cut off past the project's limit (413, the
 * partial object deleted), and then goes through the same completion step as every upload.
 */
export async function receiveStreamedUpload(actor: Actor, input: { projectId?: string; request: Request }): Promise<{ file: FileView }> {
  const { request } = input
  const config = getConfig()
  const projectId = projectOfCall(actor, input.projectId)
  const target = await uploadTarget(actor, projectId)
  const maxSize = effectiveMaxBytes(target.rules, {
    uploadMaxBytes: config.UPLOAD_MAX_BYTES,
    streamedMaxBytes: config.STREAMED_UPLOAD_MAX_BYTES,
  })

  const contentType = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the upload as multipart/form-data: an optional tenantId field, then the file in a part named file.',
    )
  }
  const declaredLength = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declaredLength > maxSize + FORM_OVERHEAD_BYTES) throw tooLarge(maxSize)
  if (!request.body) throw new AppError('VALIDATION', 'The body is empty: send the file in a part named file.')

  const uploadId = await streamFirstFile(actor, target, request.body, contentType, maxSize)
  return completeUpload(actor, { uploadId })
}

const tooLarge = (maxSize: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `The file is larger than this project accepts (at most ${maxSize} bytes per file).`)

/** Parses the form and stores its `file` part; resolves to the upload's id once the bytes are in the bucket. */
async function streamFirstFile(
  actor: Actor,
  target: UploadTarget,
  body: ReadableStream<Uint8Array>,
  contentType: string,
  maxSize: number,
): Promise<string> {
  // One byte over the limit tells "too big" from "exactly the limit" (busboy flags a file that reaches it).
  const busboy = Busboy({
    headers: { 'content-type': contentType },
    defParamCharset: 'utf8',
    limits: { fileSize: maxSize + 1, files: 1, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 20 },
    // Buffers of 1 MiB (instead of 16 KiB) keep the socket and the bucket request both busy, still bounded.
    highWaterMark: STREAM_BUFFER_BYTES,
    fileHwm: STREAM_BUFFER_BYTES,
  })
  const fields: Record<string, string> = {}
  let stored: Promise<string> | undefined
  busboy.on('field', (name, value) => {
    fields[name] = value
  })
  busboy.on('file', (name, stream, info) => {
    if (name !== 'file' || stored) {
      stream.resume()
      return
    }
    stored = storeStream(actor, target, fields, stream, info, maxSize).catch((error: unknown) => {
      // Whatever was not read is drained so the form parses to its end and the client gets an answer.
      stream.resume()
      throw error
    })
    stored.catch(() => {})
  })
  const parsed = new Promise<void>((resolve, reject) => {
    busboy.once('close', resolve)
    busboy.once('error', reject)
  })
  const source = Readable.fromWeb(body as NodeWebStream<Uint8Array>, { highWaterMark: STREAM_BUFFER_BYTES })
  source.once('error', (error) => busboy.destroy(error))
  source.pipe(busboy)
  try {
    await parsed
  } catch (error) {
    await stored?.catch(() => {})
    source.destroy()
    throw new AppError(
      'VALIDATION',
      `The body is not a complete multipart/form-data form (${error instanceof Error ? error.message : 'unreadable'}).`,
    )
  }
  if (!stored)
    throw new AppError('VALIDATION', 'The form has no file: send it in a part named file (after the tenantId field, if any).', {
      fieldErrors: { file: ['Required'] },
    })
  return stored
}

async function storeStream(
  actor: Actor,
  target: UploadTarget,
  fields: Record<string, string>,
  stream: Readable & { truncated?: boolean },
  info: Busboy.FileInfo,
  maxSize: number,
): Promise<string> {
  const parsedFields = streamUploadFieldsSchema
    .pick({ tenantId: true, size: true, clientReference: true })
    .safeParse({ tenantId: fields.tenantId || undefined, size: fields.size || undefined, clientReference: fields.clientReference || undefined })
  if (!parsedFields.success) {
    const fieldErrors: Record<string, string[]> = {}
    for (const issue of parsedFields.error.issues) (fieldErrors[String(issue.path[0])] ??= []).push(issue.message)
    throw new AppError('VALIDATION', `The form's fields did not validate: ${Object.keys(fieldErrors).join(', ')}`, { fieldErrors })
  }
  const projectId = target.access.project.id
  const tenant = await tenantForUpload(actor, projectId, parsedFields.data.tenantId)
  return storeReadable(actor, target, {
    stream,
    fileName: info.filename || 'file',
    declaredType: info.mimeType,
    declaredSize: parsedFields.data.size,
    tenant,
    maxSize,
    clientReference: parsedFields.data.clientReference,
  })
}

/**
 * Streams bytes of a known or unknown length into a new STREAM upload of the project (a form's file
 * part, a URL's body): reserved first, cut off past `maxSize` (413, the partial object removed);
 * resolves to the upload's id once the bytes are in the bucket, ready for the completion step.
 */
export async function storeReadable(
  actor: Actor,
  target: UploadTarget,
  input: {
    stream: Readable & { truncated?: boolean }
    fileName: string
    declaredType: string
    declaredSize: number | undefined
    tenant: { id: string; slug: string; limits?: Limits } | null
    maxSize: number
    metadata?: Record<string, unknown> | null
    /** The client's own name for the upload, for its live progress channel. */
    clientReference?: string
  },
): Promise<string> {
  const { stream, declaredSize, maxSize } = input
  if (declaredSize !== undefined && declaredSize > maxSize) throw tooLarge(maxSize)
  const tenantMaxFile = input.tenant?.limits?.fileSize ?? null
  if (input.tenant && tenantMaxFile !== null && declaredSize !== undefined && declaredSize > tenantMaxFile)
    throw quotaRefusal(input.tenant, 'fileSize', tenantMaxFile, declaredSize)
  const declared = contentTypeSchema.safeParse(input.declaredType)
  const contentType = declared.success ? declared.data : 'application/octet-stream'
  if (!contentTypeAllowed(target.rules, contentType)) throw ruleError(ruleViolation(target.rules, maxSize, { contentType, size: 0 })!)
  const upload = await reserveUpload(actor, target, {
    tenant: input.tenant,
    fileName: input.fileName,
    contentType,
    size: 0,
    method: 'STREAM',
    metadata: input.metadata,
  })
  const { location } = upload
  const objects = {
    id: upload.id,
    projectId: target.access.project.id,
    clientReference: input.clientReference,
    objectKey: location.objectKey,
    multipartUploadId: null,
    bucket: target.bucket,
  }
  const organizationId = target.access.team.organizationId
  let size: number
  try {
    const adapter = await storageFor(target.bucket)
    // Counted on the way through, for the upload's live progress.
    const counted = progressCounter(objects, declaredSize ?? null, STREAM_BUFFER_BYTES)
    stream.once('error', (error) => counted.destroy(error))
    stream.pipe(counted)
    size = (await adapter.put(location.objectKey, counted, { contentType, contentLength: declaredSize })).size
  } catch (error) {
    if (error instanceof StorageError && error.failure === 'length-mismatch') {
      await failUpload(actor, organizationId, objects, `The file's length differs from the declared size (${declaredSize} bytes).`)
      throw new AppError('VALIDATION', `The file's length differs from the declared size: ${error.message}`, {
        fieldErrors: { size: ['Does not match the file'] },
      })
    }
    await failUpload(actor, organizationId, objects, 'The upload was interrupted before the whole file arrived.')
    throw error
  }
  // busboy flags a truncated file; any other stream is measured.
  if (stream.truncated || size > maxSize) {
    await failUpload(actor, organizationId, objects, `The file is larger than this project accepts (at most ${maxSize} bytes per file).`)
    throw tooLarge(maxSize)
  }
  try {
    await prisma.upload.update({ where: { id: upload.id }, data: { size: BigInt(size) } })
  } catch (error) {
    await discardUploadObjects(objects)
    throw error
  }
  return upload.id
}
