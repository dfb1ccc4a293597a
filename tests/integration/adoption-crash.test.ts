/**
 * A bucket adoption survives `kill -9`: Carcosa (server.ts as a child process on the test database)
 * is killed while it adopts hundreds of objects, and the next start finishes the run with every
 * object adopted exactly once under its tenant, bytes intact; progress arrives over the WebSocket;
 * a second run changes nothing. Needs build/index.js (`npm test` builds first).
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { buffer } from 'node:stream/consumers'
import { test } from 'node:test'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { createTenant } from '~/services/tenants/tenants.server'
import { prisma } from '~/utils/db.server'
import { startCarcosaProcess } from '../support/carcosa-server'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { connectRealtime } from '../support/realtime-client'
import { rawS3Client } from '../support/s3'
import { attachS3Bucket } from '../support/storage-factories'
import { waitFor } from '../support/webhook-receiver'

const TENANTS = ['north', 'south', 'east', 'west']
const PER_TENANT = 100
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')

test('an adoption killed with SIGKILL midway finishes after a restart, every object adopted exactly once with its bytes', async () => {
  const { owner, project } = await createWorkspace()
  const { s3 } = await attachS3Bucket(project.id)
  const tenantIds = new Map<string, string>()
  for (const slug of TENANTS) tenantIds.set(slug, (await createTenant(owner.actor, { projectId: project.id, slug, name: slug })).id)
  const key = await createTestApiKey(owner.actor, project.id, ['projects:write', 'projects:read', 'files:read'])
  const headers = { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }

  const objects = new Map<string, { tenant: string; digest: string; size: number }>()
  const client = rawS3Client()
  const puts = TENANTS.flatMap((tenant) =>
    Array.from({ length: PER_TENANT }, (_, index) => ({
      tenant,
      key: `${tenant}/files/${String(index).padStart(4, '0')}.bin`,
      body: randomBytes(200 + index),
    })),
  )
  for (let start = 0; start < puts.length; start += 25) {
    await Promise.all(
      puts.slice(start, start + 25).map(async (put) => {
        await client.send(new PutObjectCommand({ Bucket: s3.bucketName, Key: put.key, Body: put.body, ContentType: 'application/octet-stream' }))
        objects.set(put.key, { tenant: put.tenant, digest: sha(put.body), size: put.body.length })
      }),
    )
  }

  const first = await startCarcosaProcess()
  const started = await fetch(`${first.origin}/api/v1/adoptions`, { method: 'POST', headers, body: JSON.stringify({ rule: 'first-segment' }) })
  assert.equal(started.status, 201, await started.clone().text())
  const { id: runId } = (await started.json()) as { id: string }
  // Killed once some objects are adopted, before all are.
  await waitFor(
    'the first objects to be adopted',
    async () => (await prisma.adoptionRun.findUniqueOrThrow({ where: { id: runId } })).adopted >= 20,
    60_000,
  )
  await first.killHard()
  const killed = await prisma.adoptionRun.findUniqueOrThrow({ where: { id: runId } })
  assert.equal(killed.status, 'RUNNING')
  assert.ok(killed.adopted < objects.size, `killed midway (${killed.adopted} of ${objects.size} adopted)`)

  const second = await startCarcosaProcess()
  const live = await connectRealtime(`${second.origin.replace('http', 'ws')}/api/v1/realtime`, { authorization: `Bearer ${key.key}` })
  assert.equal((await live.subscribe(`project:${project.id}`)).type, 'subscribed')
  const finished = await waitFor(
    'the run to complete after the restart',
    async () => {
      const answer = await fetch(`${second.origin}/api/v1/adoptions/${runId}`, { headers })
      const run = (await answer.json()) as { status: string; counts: Record<string, number> }
      return run.status === 'completed' ? run : null
    },
    120_000,
  )
  assert.deepEqual(finished.counts, {
    scanned: objects.size,
    adopted: objects.size,
    adoptedBytes: [...objects.values()].reduce((sum, o) => sum + o.size, 0),
    alreadyAdopted: 0,
    skipped: 0,
    failed: 0,
  })
  const progress = await live.next(
    (frame) => frame.type === 'adoption.progress' && frame.runId === runId && frame.status === 'completed',
    30_000,
  )
  assert.equal(progress.counts.adopted, objects.size)
  await live.next((frame) => frame.type === 'adoption.completed' && frame.data.runId === runId, 30_000)
  await live.close()

  const files = await prisma.file.findMany({
    where: { projectId: project.id },
    select: { objectKey: true, adoptedFromKey: true, tenantId: true, size: true },
  })
  assert.equal(files.length, objects.size, 'one file per object, no duplicates')
  assert.equal(new Set(files.map((file) => file.adoptedFromKey)).size, objects.size)
  for (const file of files) {
    const expected = objects.get(file.adoptedFromKey!)
    assert.ok(expected, `${file.adoptedFromKey} is one of the objects`)
    assert.equal(file.tenantId, tenantIds.get(expected.tenant))
    assert.equal(Number(file.size), expected.size)
  }
  // Bytes intact: a sample from every tenant, read back from the bucket.
  for (const file of files.filter((_, index) => index % 37 === 0)) {
    const answer = await client.send(new GetObjectCommand({ Bucket: s3.bucketName, Key: file.objectKey }))
    assert.equal(sha(await buffer(answer.Body as NodeJS.ReadableStream)), objects.get(file.adoptedFromKey!)!.digest)
  }
  assert.equal(await prisma.adoptionItem.count({ where: { runId } }), objects.size)

  // Running it again adopts nothing.
  const again = await fetch(`${second.origin}/api/v1/adoptions`, { method: 'POST', headers, body: JSON.stringify({}) })
  assert.equal(again.status, 201)
  const { id: againId } = (await again.json()) as { id: string }
  const rerun = await waitFor(
    'the second run to complete',
    async () => {
      const run = await prisma.adoptionRun.findUniqueOrThrow({ where: { id: againId } })
      return run.status === 'COMPLETED' ? run : null
    },
    60_000,
  )
  assert.deepEqual([rerun.adopted, rerun.alreadyAdopted], [0, objects.size])
  assert.equal(await prisma.file.count({ where: { projectId: project.id } }), objects.size)
})
