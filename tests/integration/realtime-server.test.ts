/**
 * The realtime endpoint as deployed: `server.ts` started as child processes on this file's database
 * (needs build/index.js; `npm test` builds first). One instance: the upgrade path, credentials, a
 * streamed upload's progress and its domain event, clean shutdown. Two instances on one Redis
 * (TEST_REDIS_URL): an event published on one reaches a subscriber on the other.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, afterEach, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { testDatabaseUrl } from '../support/test-database'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { connectRealtime, refusedUpgrade, type TestRealtimeClient } from '../support/realtime-client'
import { attachS3Bucket } from '../support/storage-factories'
import { freePort } from '../support/carcosa-server'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const READY_TIMEOUT_MS = 90_000

interface Instance {
  child: ChildProcess
  base: string
  ws: string
  output: () => string
  exited: Promise<number | null>
}

const instances: Instance[] = []
const clients: TestRealtimeClient[] = []
let dataDir: string

/** `node --import tsx server.ts` on a free loopback port, on this file's database; resolves once it listens. */
async function startInstance(env: Record<string, string> = {}): Promise<Instance> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: testDatabaseUrl,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      REDIS_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const instance = { child, base: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/api/v1/realtime`, output: () => output, exited }
  instances.push(instance)
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!/Carcosa is running at/.test(output)) {
    if (child.exitCode !== null) throw new Error(`the server exited before it was ready:\n${output}`)
    if (Date.now() > deadline) throw new Error(`the server was not ready in time:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return instance
}

async function connect(url: string, headers: Record<string, string>) {
  const client = await connectRealtime(url, headers)
  clients.push(client)
  return client
}

/** A streamed upload through an instance's REST API, tagged with `reference`. */
async function streamUpload(instance: Instance, key: string, projectId: string, reference: string, content: Buffer) {
  const form = new FormData()
  form.append('size', String(content.length))
  form.append('clientReference', reference)
  form.append('file', new Blob([content as BlobPart], { type: 'application/octet-stream' }), 'live.bin')
  const response = await fetch(`${instance.base}/api/v1/files/upload?projectId=${projectId}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}` },
    body: form,
  })
  assert.equal(response.status, 201, await response.clone().text())
  return ((await response.json()) as { file: { id: string } }).file
}

let projectA: string
let keyA: string
let projectB: string

before(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-realtime-'))
  const a = await createWorkspace()
  const b = await createWorkspace()
  projectA = a.project.id
  projectB = b.project.id
  keyA = (await createTestApiKey(a.owner.actor, projectA, ['files:read', 'files:write'])).key
  await attachS3Bucket(projectA)
})

/**
 * Ends every client and instance a test started, also when it failed midway: an instance left running
 * on this database would relay the next test's events itself (SKIP LOCKED shares the outbox) and
 * publish them where that test does not listen.
 */
async function stopEverything() {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const instance of instances.splice(0)) {
    if (instance.child.exitCode !== null || !instance.child.pid) continue
    // The child leads its own process group.
    try {
      process.kill(-instance.child.pid, 'SIGKILL')
    } catch {
      continue // already gone
    }
    await instance.exited
  }
}

afterEach(stopEverything)

after(async () => {
  await stopEverything()
  await fs.rm(dataDir, { recursive: true, force: true })
})

describe('one instance', () => {
  test('upgrades at /api/v1/realtime only, carries upload progress and domain events, and closes clients on shutdown', async () => {
    const instance = await startInstance()
    assert.equal((await refusedUpgrade(instance.ws.replace('/api/v1/realtime', '/socket'), { Authorization: `Bearer ${keyA}` })).status, 404)
    assert.equal((await refusedUpgrade(instance.ws)).status, 401)
    // HTTP is unaffected by the refused upgrades.
    assert.equal((await fetch(`${instance.base}/api/v1/health`)).status, 200)

    const client = await connect(instance.ws, { Authorization: `Bearer ${keyA}` })
    assert.equal((await client.subscribe(`project:${projectA}`)).type, 'subscribed')
    assert.equal((await client.subscribe(`project:${projectB}`)).type, 'refused')

    const reference = `one-${randomBytes(6).toString('hex')}`
    const file = await streamUpload(instance, keyA, projectA, reference, Buffer.alloc(256 * 1024, 3))
    const progress = await client.next((frame) => frame.type === 'upload.progress' && frame.clientReference === reference)
    assert.equal(progress.total, 256 * 1024)
    // The outbox's relay announces the committed file on the project channel through the same hub.
    const uploaded = await client.next((frame) => frame.type === 'file.uploaded' && frame.data?.file?.id === file.id, 15_000)
    assert.equal(uploaded.channel, `project:${projectA}`)
    assert.equal(uploaded.data.uploadId, progress.uploadId)

    instance.child.kill('SIGTERM')
    assert.equal(await client.closed, 1001, 'going away')
    assert.equal(await instance.exited, 0, instance.output())
  })
})

const redisUrl = process.env.TEST_REDIS_URL
describe('two instances on one Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set: the two-instance test is not run' }, () => {
  test('an upload on one instance reaches a subscriber on the other', async () => {
    const env = { REDIS_URL: redisUrl!, REALTIME_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}:realtime:` }
    const [first, second] = await Promise.all([startInstance(env), startInstance(env)])
    const onSecond = await connect(second!.ws, { Authorization: `Bearer ${keyA}` })
    assert.equal((await onSecond.subscribe(`project:${projectA}`)).type, 'subscribed')
    const reference = `two-${randomBytes(6).toString('hex')}`
    const file = await streamUpload(first!, keyA, projectA, reference, Buffer.alloc(128 * 1024, 5))
    // Live progress is published only where the bytes passed: it can reach the second instance through Redis alone.
    const progress = await onSecond.next((frame) => frame.type === 'upload.progress' && frame.clientReference === reference, 10_000)
    assert.equal(progress.channel, `project:${projectA}`)
    await onSecond.next((frame) => frame.type === 'file.uploaded' && frame.data?.file?.id === file.id, 15_000)
    for (const instance of [first!, second!]) instance.child.kill('SIGTERM')
    assert.deepEqual(await Promise.all([first!.exited, second!.exited]), [0, 0])
  })
})
