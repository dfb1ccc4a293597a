import sharp from 'sharp'
import { prisma } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { bucketConnectionSelect, storageFor } from '../buckets/bucket-storage.server'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { THUMBNAIL_TYPES } from './download-headers.server'

/** Thumbnails fit in a square this many pixels wide. */
export const THUMBNAIL_SIZE = 160
/** Sources larger than this get no thumbnail: the browser list must stay cheap. */
export const THUMBNAIL_MAX_SOURCE_BYTES = 25 * 1024 * 1024
/** Refuses decompression bombs before decoding (a tiny PNG claiming 50000x50000). */
export const THUMBNAIL_MAX_INPUT_PIXELS = 40_000_000

/**
 * A small WebP of a raster image file for the dashboard's file browser, or null when the file gets
 * none (not a raster image, too large, object missing, undecodable). The source streams from the
 * bucket through sharp; only the thumbnail itself is held in memory.
 */
export async function fileThumbnail(actor: Actor, fileId: string, scope: { projectId?: string } = {}): Promise<Buffer | null> {
  const file = await prisma.file.findUnique({
    where: { id: fileId },
    select: {
      projectId: true,
      objectKey: true,
      contentType: true,
      size: true,
      bucket: { select: bucketConnectionSelect },
      tenant: { select: { status: true } },
    },
  })
  if (!file || (scope.projectId && file.projectId !== scope.projectId)) throw notFound('File')
  const access = await projectAccess(prisma, actor, file.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('File') : error
  })
  requirePermission(access, 'files:read', 'see the files of this project')
  // A suspended tenant's bytes are not served, thumbnails included.
  if (file.tenant?.status === 'SUSPENDED') return null
  if (!THUMBNAIL_TYPES.has(file.contentType.toLowerCase()) || file.size > BigInt(THUMBNAIL_MAX_SOURCE_BYTES)) return null

  const storage = await storageFor(file.bucket)
  const object = await storage.get(file.objectKey)
  if (!object) return null
  const resize = sharp({ limitInputPixels: THUMBNAIL_MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 70 })
  object.body.on('error', (error) => resize.destroy(error))
  object.body.pipe(resize)
  try {
    return await resize.toBuffer()
  } catch {
    object.body.destroy()
    return null
  }
}
