import '../support/test-database'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSession } from '~/services/accounts/sessions.server'
import { registerUser } from '~/services/accounts/users.server'
import { runHousekeeping } from '~/services/housekeeping.server'
import { prisma } from '~/utils/db.server'
import { createWorkspace } from '../support/factories'
import { attachLocalBucket } from '../support/storage-factories'

const meta = { ipAddress: '203.0.113.9', userAgent: 'housekeeping-test' }

test('housekeeping deletes expired sessions and old sign-in attempts, and keeps the rest', async () => {
  const user = await registerUser({ name: 'Hk', email: 'hk@example.com', password: 'password123' }, meta)
  await createSession(user.id, meta)
  await createSession(user.id, meta)
  const [expired] = await prisma.session.findMany({ where: { userId: user.id }, take: 1 })
  await prisma.session.update({ where: { id: expired!.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
  await prisma.signInAttempt.createMany({
    data: [
      { email: 'hk@example.com', ipAddress: meta.ipAddress, succeeded: false, createdAt: new Date(Date.now() - 16 * 60 * 1000) },
      { email: 'hk@example.com', ipAddress: meta.ipAddress, succeeded: false },
    ],
  })

  const result = await runHousekeeping()

  assert.equal(result.expiredSessions, 1)
  assert.equal(await prisma.session.count({ where: { userId: user.id } }), 1)
  assert.equal(await prisma.session.count({ where: { id: expired!.id } }), 0)
  assert.equal(await prisma.signInAttempt.count(), 1)
})

test('housekeeping prunes upload callback attempts older than EVENT_RETENTION_DAYS and keeps recent ones', async () => {
  const { project } = await createWorkspace()
  const { bucket } = await attachLocalBucket(project.id)
  const upload = await prisma.upload.create({
    data: {
      projectId: project.id,
      bucketId: bucket.id,
      objectKey: 'hk/old.bin',
      path: 'old.bin',
      fileName: 'old.bin',
      contentType: 'application/octet-stream',
      size: 1,
      method: 'PUT',
      actorType: 'api-key',
      expiresAt: new Date(Date.now() + 3600_000),
      callbackUrl: 'http://127.0.0.1:9/callback',
    },
  })
  const attempt = (daysAgo: number) => ({
    uploadId: upload.id,
    projectId: project.id,
    attemptedAt: new Date(Date.now() - daysAgo * 86_400_000),
    statusCode: 500,
    latencyMs: 1,
  })
  await prisma.uploadCallbackAttempt.createMany({ data: [attempt(31), attempt(1)] })

  const result = await runHousekeeping()

  assert.ok(result.prunedCallbackAttempts >= 1)
  const left = await prisma.uploadCallbackAttempt.findMany({ where: { uploadId: upload.id } })
  assert.equal(left.length, 1)
  assert.ok(left[0]!.attemptedAt.getTime() > Date.now() - 2 * 86_400_000)
})
