/**
 * The host's fast path for cached signed transforms (ADR 010), through the real host: server.ts as
 * a child process on this file's database and s3rver, since the fast path lives in the Express host
 * ahead of Remix (the in-process api-client never reaches it). Needs build/index.js.
 */
import { testDatabaseUrl } from '../support/test-database'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import sharp from 'sharp'
import { signTransformUrl } from '~/services/transforms/sign-url.server'
import { activeSecrets, signedQuery, transformUrl } from '~/services/transforms/signing.server'
import { updateTenant } from '~/services/tenants/tenants.server'
import { prisma } from '~/utils/db.server'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { attachS3Bucket } from '../support/storage-factories'
import { freePort } from '../support/carcosa-server'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const READY_TIMEOUT_MS = 90_000
// Configuration the server must not inherit from the shell that runs the tests.
const CONFIG_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'APP_URL',
  'DATA_DIR',
  'DATABASE_URL',
  'REDIS_URL',
  'SESSION_SECRET',
  'LOG_LEVEL',
  'TRUST_PROXY',
]
/** Headers that differ per request whichever path answers (Cache-Control counts down to the expiry: checked apart). */
const PER_REQUEST = new Set(['date', 'x-request-id', 'content-security-policy', 'cache-control', 'x-carcosa-cache', 'keep-alive', 'connection'])

let child: ChildProcess | undefined
let exited: Promise<unknown> | undefined
let dataDir: string | undefined
let origin = ''

before(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-fast-path-'))
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of CONFIG_VARIABLES) delete env[name]
  child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: testDatabaseUrl,
      SESSION_SECRET: 'fast-path-test-session-secret-0123456789abcdef',
      CREDENTIALS_ENCRYPTION_KEY: process.env.CREDENTIALS_ENCRYPTION_KEY,
      LOG_LEVEL: 'warn',
      // Long enough that no step of a test outlives what the fast path knows.
      TRANSFORM_FAST_PATH_TTL_SECONDS: '120',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  exited = new Promise((resolve) => child!.on('exit', resolve))
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const ok = await fetch(`${origin}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited before it was ready:\n${output}`)
    if (Date.now() > deadline) throw new Error(`the server was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output}`)
    await sleep(200)
  }
})

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true })
})

/** A project on s3rver with one 400×300 JPEG at `photos/cat.jpg`, and a key that may delete files. */
async function setup() {
  const workspace = await createWorkspace()
  await attachS3Bucket(workspace.project.id)
  const body = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3366cc' } })
    .jpeg({ quality: 90 })
    .toBuffer()
  const file = await putTestFile(workspace.project.id, { name: 'cat.jpg', path: 'photos/cat.jpg', contentType: 'image/jpeg', body })
  const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['files:delete', 'files:read'])
  const sign = async (params: Record<string, string | number>, expiresIn = 600) =>
    new URL((await signTransformUrl(workspace.owner.actor, workspace.project.id, { path: file.path, params, expiresIn }, origin)).url)
  return { ...workspace, file, key, sign }
}

interface Answer {
  status: number
  headers: Headers
  bytes: Buffer
}

async function get(url: URL | string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const response = await fetch(url, { method, headers, signal: AbortSignal.timeout(30_000) })
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) }
}

/** The headers both paths must agree on: everything but what changes per request or per outcome. */
const stableHeaders = (answer: Answer) => [...answer.headers].filter(([name]) => !PER_REQUEST.has(name) && !name.startsWith('x-ratelimit-'))

/** Seconds of max-age left: the second answer's is the first's or at most a second less. */
function assertSameCacheControl(later: Answer, earlier: Answer) {
  const maxAge = (answer: Answer) => Number(/^public, max-age=(\d+), immutable$/.exec(answer.headers.get('cache-control') ?? '')?.[1] ?? NaN)
  const delta = maxAge(earlier) - maxAge(later)
  assert.ok(delta === 0 || delta === 1, `Cache-Control ${later.headers.get('cache-control')} after ${earlier.headers.get('cache-control')}`)
}

const isProblem = (answer: Answer) => (answer.headers.get('content-type') ?? '').startsWith('application/problem+json')

describe('the fast path answers memory hits of signed URLs', () => {
  test('the first request renders, the second is answered from memory with the same bytes and headers; HEAD and 304 too', async () => {
    const { sign } = await setup()
    const url = await sign({ w: 200, format: 'webp' })
    const first = await get(url)
    assert.equal(first.status, 200, first.bytes.toString().slice(0, 300))
    assert.equal(first.headers.get('x-carcosa-cache'), 'render')
    const second = await get(url)
    assert.equal(second.status, 200)
    assert.equal(second.headers.get('x-carcosa-cache'), 'memory')
    assert.ok(second.bytes.equals(first.bytes), 'the same bytes')
    assert.deepEqual(stableHeaders(second), stableHeaders(first))
    assertSameCacheControl(second, first)
    assert.equal(second.headers.get('content-type'), 'image/webp')
    assert.equal(second.headers.get('content-length'), String(first.bytes.length))
    assert.match(second.headers.get('cache-control') ?? '', /^public, max-age=\d+, immutable$/)
    // helmet's nosniff plus the route's own, appended by Remix's adapter: the fast path appends the same way.
    assert.equal(second.headers.get('x-content-type-options'), 'nosniff, nosniff')
    assert.equal(second.headers.get('cross-origin-resource-policy'), 'cross-origin')
    assert.ok(second.headers.get('x-request-id'), 'the request id middleware still runs')
    assert.ok(second.headers.get('content-security-policy'), 'helmet still runs')
    assert.equal(second.headers.get('vary'), null, 'an explicit format does not vary')

    const head = await get(url, {}, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.bytes.length, 0)
    assert.equal(head.headers.get('content-length'), String(first.bytes.length))
    assert.equal(head.headers.get('etag'), first.headers.get('etag'))

    const etag = first.headers.get('etag')!
    assert.match(etag, /^"[0-9a-f]{40}"$/)
    const notModified = await get(url, { 'if-none-match': etag })
    assert.equal(notModified.status, 304)
    assert.equal(notModified.bytes.length, 0)
    assert.equal(notModified.headers.get('etag'), etag)
    assert.equal(notModified.headers.get('content-type'), 'image/webp')
    assert.equal((await get(url, { 'if-none-match': `W/${etag}, "other"` })).status, 304)
    assert.equal((await get(url, { 'if-none-match': '"something-else"' })).status, 200)
  })

  test('the answer needs no database: a row changed behind the files service is still served from memory (within the TTL)', async () => {
    const { sign, file, project } = await setup()
    const url = await sign({ w: 120, format: 'png' })
    assert.equal((await get(url)).headers.get('x-carcosa-cache'), 'render')
    // Moved in the database without the files service: the full path would now answer 404.
    await prisma.$executeRaw`UPDATE "File" SET path = 'moved/cat.jpg' WHERE id = ${file.id}`
    const fromMemory = await get(url)
    assert.equal(fromMemory.status, 200)
    assert.equal(fromMemory.headers.get('x-carcosa-cache'), 'memory')
    // A variant never rendered is not in memory: the full path answers, and finds no file.
    const other = await get(await sign({ w: 121, format: 'png' }))
    assert.equal(other.status, 404)
    assert.ok(isProblem(other))
    void project
  })

  test('a different Accept gets its own variant, negotiated and marked Vary: Accept', async () => {
    const { sign } = await setup()
    const url = await sign({ w: 160 })
    const webp = await get(url, { accept: 'image/webp,*/*' })
    assert.deepEqual(
      [webp.status, webp.headers.get('content-type'), webp.headers.get('x-carcosa-cache'), webp.headers.get('vary')],
      [200, 'image/webp', 'render', 'Accept'],
    )
    const webpAgain = await get(url, { accept: 'image/webp,*/*' })
    assert.deepEqual([webpAgain.headers.get('content-type'), webpAgain.headers.get('x-carcosa-cache')], ['image/webp', 'memory'])
    assert.deepEqual(stableHeaders(webpAgain), stableHeaders(webp))
    assertSameCacheControl(webpAgain, webp)

    const avif = await get(url, { accept: 'image/avif,image/webp' })
    assert.deepEqual([avif.status, avif.headers.get('content-type'), avif.headers.get('x-carcosa-cache')], [200, 'image/avif', 'render'])
    assert.notEqual(avif.headers.get('etag'), webp.headers.get('etag'))
    const avifAgain = await get(url, { accept: 'image/avif,image/webp' })
    assert.deepEqual(
      [avifAgain.headers.get('content-type'), avifAgain.headers.get('x-carcosa-cache'), avifAgain.headers.get('vary')],
      ['image/avif', 'memory', 'Accept'],
    )
    assert.ok(avifAgain.bytes.equals(avif.bytes))

    const jpeg = await get(url, { accept: '*/*' })
    assert.deepEqual([jpeg.headers.get('content-type'), jpeg.headers.get('x-carcosa-cache')], ['image/jpeg', 'render'])
    // The webp ETag is not a match for the jpeg variant.
    assert.equal((await get(url, { accept: '*/*', 'if-none-match': webp.headers.get('etag')! })).status, 200)
  })
})

describe('what the fast path never answers', () => {
  test('tampered parameter, tampered path, expired signature, signature moved: the full path refuses as before', async () => {
    const { sign, project, file } = await setup()
    const url = await sign({ w: 200, format: 'webp' })
    assert.equal((await get(url)).status, 200)
    assert.equal((await get(url)).headers.get('x-carcosa-cache'), 'memory')

    const tamperedParam = new URL(url)
    tamperedParam.search = url.search.replace('w=200', 'w=201')
    const param = await get(tamperedParam)
    assert.equal(param.status, 403)
    assert.ok(isProblem(param))

    // The same signed query on another file of the project.
    const tamperedPath = new URL(url)
    tamperedPath.pathname = url.pathname.replace('/photos/cat.jpg', '/photos/dog.jpg')
    const pathAnswer = await get(tamperedPath)
    assert.equal(pathAnswer.status, 403)
    assert.ok(isProblem(pathAnswer))

    const [secret] = await activeSecrets(project.id)
    const expired = transformUrl(
      origin,
      project.id,
      file.path,
      signedQuery(secret!.secret, project.id, file.path, { w: 200, format: 'webp' }, Math.floor(Date.now() / 1000) - 5),
    )
    const expiredAnswer = await get(expired)
    assert.equal(expiredAnswer.status, 403)
    assert.match(JSON.parse(expiredAnswer.bytes.toString()).detail, /expired/)

    const sig = url.searchParams.get('sig')!
    const moved = new URL(url)
    moved.search = `sig=${sig}&${url.search.slice(1).replace(`&sig=${sig}`, '')}`
    const movedAnswer = await get(moved)
    assert.equal(movedAnswer.status, 400)
    assert.ok(isProblem(movedAnswer))

    const unsigned = new URL(url)
    unsigned.search = 'format=webp&w=200'
    const unsignedAnswer = await get(unsigned)
    assert.equal(unsignedAnswer.status, 401)
    assert.ok(isProblem(unsignedAnswer))

    const post = await get(url, {}, 'POST')
    assert.equal(post.status, 405)
  })

  test('after the file is deleted through the API on this instance, the next request is a 404 from the full path', async () => {
    const { sign, file, key } = await setup()
    const url = await sign({ w: 90, format: 'jpeg' })
    assert.equal((await get(url)).status, 200)
    const cached = await get(url)
    assert.deepEqual([cached.status, cached.headers.get('x-carcosa-cache')], [200, 'memory'])
    const deleted = await fetch(`${origin}/api/v1/files/${file.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } })
    assert.equal(deleted.status, 204, await deleted.text())
    const after = await get(url)
    assert.equal(after.status, 404)
    assert.ok(isProblem(after))
    // An If-None-Match of the old variant is no shortcut either.
    assert.equal((await get(url, { 'if-none-match': cached.headers.get('etag')! })).status, 404)
  })
})

describe('a tenant status change reaches the fast path', () => {
  test('suspending a tenant refuses its cached transforms at once, whether this instance or another made the change', async () => {
    const workspace = await createWorkspace()
    await attachS3Bucket(workspace.project.id)
    const tenant = await prisma.tenant.create({ data: { projectId: workspace.project.id, slug: 'acme', name: 'Acme' } })
    const body = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#cc3366' } })
      .jpeg()
      .toBuffer()
    await putTestFile(workspace.project.id, { tenantId: tenant.id, name: 'cat.jpg', path: 'acme/cat.jpg', contentType: 'image/jpeg', body })
    const url = new URL(
      (await signTransformUrl(workspace.owner.actor, workspace.project.id, { path: 'acme/cat.jpg', params: { w: 50 }, expiresIn: 600 }, origin))
        .url,
    )
    const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['tenants:manage'])
    const warm = async () => {
      assert.equal((await get(url)).status, 200)
      assert.equal((await get(url)).headers.get('x-carcosa-cache'), 'memory')
    }
    await warm()

    // The server itself suspends it (its own API): the next hit is refused.
    const suspend = await fetch(`${origin}/api/v1/tenants/${tenant.id}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'suspended' }),
    })
    assert.equal(suspend.status, 200)
    const refused = await get(url)
    assert.equal(refused.status, 403)
    assert.match(refused.bytes.toString(), /acme is suspended/)

    // Another instance (this test process) suspends another tenant whose transforms the server answers
    // from memory (for 120 s without the bus): the server hears it on the invalidation bus.
    const globex = await prisma.tenant.create({ data: { projectId: workspace.project.id, slug: 'globex', name: 'Globex' } })
    await putTestFile(workspace.project.id, { tenantId: globex.id, name: 'dog.jpg', path: 'globex/dog.jpg', contentType: 'image/jpeg', body })
    const other = new URL(
      (
        await signTransformUrl(
          workspace.owner.actor,
          workspace.project.id,
          { path: 'globex/dog.jpg', params: { w: 50 }, expiresIn: 600 },
          origin,
        )
      ).url,
    )
    assert.equal((await get(other)).status, 200)
    assert.equal((await get(other)).headers.get('x-carcosa-cache'), 'memory')
    await updateTenant(workspace.owner.actor, globex.id, { status: 'suspended' })
    const deadline = Date.now() + 30_000
    let answer = await get(other)
    while (answer.status === 200) {
      assert.ok(Date.now() < deadline, 'the suspension reached the server within a bus delivery, not after the fast path TTL')
      await sleep(100)
      answer = await get(other)
    }
    assert.equal(answer.status, 403)
    assert.equal(answer.headers.get('x-carcosa-cache'), null)
  })
})
