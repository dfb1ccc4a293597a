/**
 * Buckets for tests, made straight in the database (the buckets service has its own tests): an
 * s3rver bucket with sealed credentials, or a local-provider directory, assigned to a project.
 * Local buckets live under DATA_DIR/storage, a temporary directory unless the run sets DATA_DIR.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { prisma } from '~/utils/db.server'
import { sealSecret } from '~/utils/credentials.server'
import { createS3Bucket } from './s3'

// Set before the configuration is first read (it is read lazily), so local buckets stay out of the checkout.
process.env.DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'carcosa-test-data-'))

/** An s3rver bucket registered for the project's team and assigned to the project. */
export async function attachS3Bucket(projectId: string) {
  const { teamId } = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { teamId: true } })
  const s3 = await createS3Bucket('uploads')
  const bucket = await prisma.bucket.create({
    data: {
      teamId,
      name: s3.bucketName,
      provider: 's3-compatible',
      bucketName: s3.bucketName,
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: await sealSecret(JSON.stringify({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })),
      accessKeyHint: s3.accessKeyId.slice(-4),
    },
  })
  await prisma.project.update({ where: { id: projectId }, data: { bucketId: bucket.id } })
  return { bucket, s3 }
}

/** A local-provider bucket (a fresh directory) registered for the project's team and assigned to it. */
export async function attachLocalBucket(projectId: string) {
  const { teamId } = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { teamId: true } })
  const bucketName = `local-${randomBytes(5).toString('hex')}`
  const bucket = await prisma.bucket.create({
    data: { teamId, name: bucketName, provider: 'local', bucketName, region: 'local' },
  })
  await prisma.project.update({ where: { id: projectId }, data: { bucketId: bucket.id } })
  return { bucket, directory: path.join(path.resolve(process.env.DATA_DIR!), 'storage', bucketName) }
}
