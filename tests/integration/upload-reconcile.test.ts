/**
 * Reconciliation of SDK uploads is durable (ADR 020): an upload whose reconcile job was lost with
 * its process (`kill -9` before the batched job write) is still completed after the restart, and
 * its signed `upload.completed` callback is delivered, every attempt in the upload callback log
 * (REST and dashboard). Carcosa runs as server.ts in a child process on the test database.
 * Needs build/index.js (`npm test` builds first).
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import sharp from 'sharp'
import { Webhook } from 'standardwebhooks'
import { commitSessionCookie } from '~/services/accounts/session-cookie.server'
import { createSession } from '~/services/accounts/sessions.server'
import { uploadCallbackSecret } from '~/services/uploads/reconcile-upload.server'
import { prisma } from '~/utils/db.server'
import { api } from '../support/api-client'
import { freePort, startCarcosaProcess } from '../support/carcosa-server'
import { createTestApiKey, createWorkspace, testMeta } from '../support/factories'
import { attachS3Bucket } from '../support/storage-factories'
import { testDatabaseUrl } from '../support/test-database'
import { startWebhookReceiver, waitFor } from '../support/webhook-receiver'

/** Carcosa as its own process on `port`, in its own process group so `kill -9` reaches all of it. */
const startCarcosa = (port: number) =>
  startCarcosaProcess({ UPLOAD_RECONCILE_AFTER_SECONDS: '1', STORAGE_ALLOW_PRIVATE_ENDPOINTS: 'true' }, { port })

const reconcileJobs = (uploadId: string) =>
  prisma.$queryRaw<Array<{ state: string }>>`SELECT state::text FROM pgboss.job WHERE name = 'upload-reconcile' AND singleton_key = ${uploadId}`

test('an upload whose reconcile job died with its process (kill -9) is completed after the restart; its callback attempts are logged', async () => {
  // The application's route handler: the first callback attempt fails, the retry succeeds.
  const receiver = await startWebhookReceiver((_request, index) => (index === 0 ? { status: 503, body: 'handler restarting' } : { status: 200 }))
  after(() => receiver.close())
  const { owner, organization, team, project } = await createWorkspace()
  await attachS3Bucket(project.id)
  const key = await createTestApiKey(owner.actor, project.id, ['files:write', 'files:read', 'projects:read'])
  const bytes = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 10, g: 200, b: 30 } } })
    .png()
    .toBuffer()

  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const first = await startCarcosa(port)
  const init = await fetch(`${origin}/api/v1/uploads/init`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      fileName: 'lost.png',
      contentType: 'image/png',
      size: bytes.length,
      callbackUrl: receiver.url,
      route: { slug: 'avatar' },
    }),
  })
  const initText = await init.text()
  assert.equal(init.status, 201, initText)
  const started = JSON.parse(initText) as { uploadId: string; url: string; headers: Record<string, string> }
  // Within the second in which init's jobs wait in memory (ADR 019).
  await first.killHard()
  // Should a slow machine have let the batch through before the kill, the loss is made here: it is what this test is about.
  if ((await reconcileJobs(started.uploadId)).length > 0) {
    await prisma.$executeRaw`DELETE FROM pgboss.job WHERE name = 'upload-reconcile' AND singleton_key = ${started.uploadId}`
  }
  assert.equal((await reconcileJobs(started.uploadId)).length, 0)

  // The client PUTs its bytes straight to the bucket and goes away without reporting completion.
  const put = await fetch(started.url, { method: 'PUT', headers: started.headers, body: new Uint8Array(bytes) })
  assert.equal(put.status, 200)

  const second = await startCarcosa(port)
  after(() => second.stop())
  const delivered = await waitFor('the callback after the restart', () => receiver.received[1], 90_000)
  const { keyHash } = await prisma.apiKey.findUniqueOrThrow({ where: { id: key.apiKey.id }, select: { keyHash: true } })
  const payload = new Webhook(uploadCallbackSecret(keyHash)).verify(delivered.body, delivered.headers) as {
    type: string
    data: { uploadId: string }
  }
  assert.deepEqual([payload.type, payload.data.uploadId], ['upload.completed', started.uploadId])
  assert.equal(receiver.received[0]!.headers['webhook-id'], delivered.headers['webhook-id'], 'the retry is the same message')
  const upload = await prisma.upload.findUniqueOrThrow({ where: { id: started.uploadId } })
  assert.equal(upload.status, 'COMPLETED')
  assert.ok(upload.fileId)

  // The log, newest first: the success, then the failure with the start of the handler's answer.
  const log = await waitFor('both attempts logged', async () => {
    const response = await fetch(`${origin}/api/v1/upload-callbacks?uploadId=${started.uploadId}`, {
      headers: { authorization: `Bearer ${key.key}` },
    })
    assert.equal(response.status, 200)
    const body = (await response.json()) as {
      items: Array<{ uploadId: string; statusCode: number; responseBody: string; callbackUrl: string; path: string }>
    }
    return body.items.length === 2 ? body.items : null
  })
  assert.deepEqual(
    log.map((attempt) => [attempt.statusCode, attempt.responseBody]),
    [
      [200, 'ok'],
      [503, 'handler restarting'],
    ],
  )
  assert.deepEqual([log[0]!.callbackUrl, log[0]!.path], [receiver.url, upload.path])
  const failed = await fetch(`${origin}/api/v1/upload-callbacks?failed=true`, { headers: { authorization: `Bearer ${key.key}` } })
  assert.deepEqual(
    ((await failed.json()) as { items: Array<{ statusCode: number }> }).items.map((attempt) => attempt.statusCode),
    [503],
  )

  // Another project's key sees none of it.
  const other = await createWorkspace()
  const otherKey = await createTestApiKey(other.owner.actor, other.project.id, ['projects:read'])
  const outsider = await fetch(`${origin}/api/v1/upload-callbacks?projectId=${project.id}`, {
    headers: { authorization: `Bearer ${otherKey.key}` },
  })
  assert.equal(outsider.status, 404)
  const own = await fetch(`${origin}/api/v1/upload-callbacks?uploadId=${started.uploadId}`, {
    headers: { authorization: `Bearer ${otherKey.key}` },
  })
  assert.deepEqual(((await own.json()) as { items: unknown[] }).items, [])

  // The project's Webhooks tab shows the same log to its members.
  const { token } = await createSession(owner.user.id, testMeta())
  const cookie = (await commitSessionCookie(token)).split(';')[0]!
  const page = await api('GET', `/orgs/${organization.slug}/teams/${team.slug}/projects/${project.slug}/webhooks`, {
    headers: { Cookie: cookie },
  })
  assert.equal(page.status, 200)
  const section = page.text.slice(page.text.indexOf('id="upload-callbacks"'))
  assert.match(section, /Upload callbacks/)
  assert.match(section, /handler restarting/)
  assert.ok(section.includes(upload.path), 'the upload is named by its path')
  // The next test works on the job queue alone.
  await second.stop()
})

test('the sweep hands each due upload to reconciliation once, and a reconcile queue of an older policy is rebuilt at start-up', async () => {
  const { prepareJobStore } = await import('~/services/jobs/job-store.server')
  const { requeueDueReconciles } = await import('~/services/uploads/reconcile-upload.server')
  const { PgBoss } = await import('pg-boss')
  // The queue as it was made before it became `exclusive`: start-up drops and recreates it.
  const boss = new PgBoss({ connectionString: testDatabaseUrl, max: 1, supervise: false, schedule: false, migrate: false })
  boss.on('error', () => {})
  await boss.start()
  await boss.deleteQueue('upload-reconcile')
  await boss.createQueue('upload-reconcile', { policy: 'standard' })
  await prepareJobStore(testDatabaseUrl)
  assert.equal((await boss.getQueue('upload-reconcile'))?.policy, 'exclusive')
  await boss.stop({ graceful: false, close: true })

  const { project } = await createWorkspace()
  const { bucket } = await attachS3Bucket(project.id)
  const old = new Date(Date.now() - 10 * 60_000)
  const upload = (name: string, data: Record<string, unknown> = {}) =>
    prisma.upload.create({
      data: {
        projectId: project.id,
        bucketId: bucket.id,
        objectKey: `sweep/${name}`,
        path: name,
        fileName: name,
        contentType: 'image/png',
        size: 10,
        method: 'PUT',
        actorType: 'api-key',
        createdAt: old,
        expiresAt: new Date(Date.now() + 3600_000),
        callbackUrl: 'http://127.0.0.1:9/callback',
        ...data,
      },
    })
  const due = await upload('due.png')
  const fresh = await upload('fresh.png', { createdAt: new Date() })
  const noCallback = await upload('plain.png', { callbackUrl: null })
  const settled = await upload('settled.png', { status: 'COMPLETED', callbackDoneAt: new Date() })
  const expired = await upload('expired.png', { expiresAt: new Date(Date.now() - 1000) })

  await requeueDueReconciles()
  await requeueDueReconciles()
  const jobs = await prisma.$queryRaw<
    Array<{ singleton_key: string }>
  >`SELECT singleton_key FROM pgboss.job WHERE name = 'upload-reconcile' AND singleton_key IN (${due.id}, ${fresh.id}, ${noCallback.id}, ${settled.id}, ${expired.id})`
  assert.deepEqual(
    jobs.map((job) => job.singleton_key),
    [due.id],
    'one job for the due upload (the second sweep found it waiting), none for the others',
  )
})
