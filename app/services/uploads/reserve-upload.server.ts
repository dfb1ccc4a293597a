import type { UploadMethod } from '~/generated/prisma/enums'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { actorId } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { objectLocation, type ObjectLocation } from './object-keys'
import type { UploadTarget } from './upload-target.server'

export interface UploadReservation {
  id: string
  location: ObjectLocation
  expiresAt: Date
}

/**
 * Every upload path starts here: a server-made object key and a PENDING row (with its audit entry)
 * before any byte moves, so whatever happens next the sweeper knows what to remove.
 */
export async function reserveUpload(
  actor: Actor,
  target: UploadTarget,
  input: {
    tenant: { id: string; slug: string } | null
    fileName: string
    contentType: string
    /** Declared size; 0 for a stream whose length is known only at its end. */
    size: number
    method: UploadMethod
    partSize?: number | null
  },
): Promise<UploadReservation> {
  const projectId = target.access.project.id
  const location = objectLocation(
    {
      organizationSlug: target.organizationSlug,
      teamSlug: target.access.team.slug,
      projectSlug: target.access.project.slug,
      tenantSlug: input.tenant?.slug,
    },
    input.fileName,
  )
  const expiresAt = new Date(Date.now() + getConfig().UPLOAD_EXPIRY_MINUTES * 60_000)
  const row = await prisma.$transaction(async (tx) => {
    const created = await tx.upload.create({
      data: {
        projectId,
        tenantId: input.tenant?.id ?? null,
        bucketId: target.bucket.id,
        objectKey: location.objectKey,
        path: location.path,
        fileName: location.name,
        contentType: input.contentType,
        size: BigInt(input.size),
        method: input.method,
        partSize: input.partSize ?? null,
        actorType: actor.type,
        actorId: actorId(actor),
        expiresAt,
      },
      select: { id: true },
    })
    await recordAudit(tx, actor, actor, {
      organizationId: target.access.team.organizationId,
      action: 'upload.create',
      targetType: 'upload',
      targetId: created.id,
      after: {
        projectId,
        tenantId: input.tenant?.id ?? null,
        path: location.path,
        contentType: input.contentType,
        ...(input.method === 'STREAM' ? {} : { size: input.size }),
        method: input.method,
      },
    })
    return created
  })
  return { id: row.id, location, expiresAt }
}
