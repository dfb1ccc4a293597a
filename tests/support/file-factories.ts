/**
 * Files for tests of what happens after an upload (listing, downloads, deletion, stats): bytes are
 * put in the project's real bucket (s3rver or local) through the storage adapter and the File row
 * is inserted as a completed upload would leave it. Uploads themselves are tested through the uploads service.
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { bucketConnectionSelect, storageFor } from '~/services/buckets/bucket-storage.server'
import { fileSelect, toFileView, type FileView } from '~/services/files/file-view'
import { prisma } from '~/utils/db.server'
import { attachS3Bucket } from './storage-factories'

export interface TestFile extends FileView {
  objectKey: string
  bucketId: string
}

/**
 * Stores `body` in the project's bucket (an s3rver bucket is attached first when it has none) and
 * records the file. Names and paths are unique unless given.
 */
export async function putTestFile(
  projectId: string,
  options: { name?: string; contentType?: string; body?: Buffer | string; tenantId?: string | null; path?: string } = {},
): Promise<TestFile> {
  const project = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { bucket: { select: bucketConnectionSelect } } })
  const bucket =
    project.bucket ??
    (await prisma.bucket.findUniqueOrThrow({ where: { id: (await attachS3Bucket(projectId)).bucket.id }, select: bucketConnectionSelect }))
  const unique = randomBytes(6).toString('hex')
  const name = options.name ?? `file-${unique}.txt`
  const contentType = options.contentType ?? 'text/plain'
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body ?? `contents of ${name}`)
  const objectKey = `tests/${projectId}/${unique}-${name.replace(/[^\w.-]/g, '_')}`
  const storage = await storageFor(bucket)
  await storage.put(objectKey, Readable.from([body]), { contentType, contentLength: body.length })
  const row = await prisma.file.create({
    data: {
      projectId,
      tenantId: options.tenantId ?? null,
      bucketId: bucket.id,
      objectKey,
      path: options.path ?? `${unique}-${name}`,
      name,
      contentType,
      size: BigInt(body.length),
    },
    select: fileSelect,
  })
  return { ...toFileView(row), objectKey, bucketId: bucket.id }
}

/** Whether the object behind a file is still in its bucket. */
export async function objectExists(file: { objectKey: string; bucketId: string }) {
  const bucket = await prisma.bucket.findUniqueOrThrow({ where: { id: file.bucketId }, select: bucketConnectionSelect })
  return (await (await storageFor(bucket)).head(file.objectKey)) !== null
}
