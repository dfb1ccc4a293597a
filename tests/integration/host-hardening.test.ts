/**
 * The Express host's own guards, over real HTTP against `server.ts` on this file's database: the
 * CSRF check (full origins; exemptions on the normalized path), methods it does not serve, URLs
 * holding NUL or malformed UTF-8, and JSON bodies over the limit sent chunked.
 */
import { testDatabaseUrl } from '../support/test-database'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { createSession } from '~/services/accounts/sessions.server'
import { commitSessionCookie } from '~/services/accounts/session-cookie.server'
import { prisma } from '~/utils/db.server'
import { createWorkspace, testMeta } from '../support/factories'
import { freePort } from '../support/carcosa-server'

let child: ChildProcess
let port: number
let output = ''

before(async () => {
  port = await freePort()
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-host-'))
  child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: '',
      DATA_DIR: dataDir,
      DATABASE_URL: testDatabaseUrl,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const deadline = Date.now() + 60_000
  while (!/Carcosa is running at/.test(output)) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output}`)
    if (Date.now() > deadline) throw new Error(`the server did not start:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
})

after(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
})

interface RawAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request with the path sent exactly as given (fetch would normalize `..` before sending). */
function raw(
  method: string,
  rawPath: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[] } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // A connection per request: one answered early must not take the next request with it.
    const request = http.request(
      { host: '127.0.0.1', port, method, path: rawPath, headers: options.headers, timeout: 30_000, agent: false },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.on('timeout', () => request.destroy(new Error('timed out')))
    if (options.chunks) {
      // No Content-Length: Node sends the body chunked.
      const write = (index: number) => {
        if (index >= options.chunks!.length) return request.end()
        if (request.destroyed) return
        request.write(options.chunks![index], () => write(index + 1))
      }
      write(0)
    } else request.end(options.body)
  })
}

function assertProblemAnswer(answer: RawAnswer, status: number, code: string) {
  assert.equal(answer.status, status, answer.body.slice(0, 300))
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/)
  const problem = JSON.parse(answer.body) as { status: number; code: string; detail: string }
  assert.equal(problem.status, status)
  assert.equal(problem.code, code)
  assert.ok(problem.detail.length > 0)
  return problem
}

async function signedInOrganization() {
  const { owner, organization } = await createWorkspace()
  const { token } = await createSession(owner.user.id, testMeta())
  const cookie = (await commitSessionCookie(token)).split(';')[0]!
  return { organization, cookie }
}

const renameForm = (name: string, slug: string) => new URLSearchParams({ intent: 'update', name, slug }).toString()

test('CSRF: /api/../ does not make a dashboard form exempt, and another scheme is another origin', async () => {
  const { organization, cookie } = await signedInOrganization()
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie }
  const sneaky = await raw('POST', `/api/../orgs/${organization.slug}/settings`, {
    headers: form,
    body: renameForm('Renamed by a sneaky path', organization.slug),
  })
  assert.equal(sneaky.status, 403, sneaky.body.slice(0, 200))
  const encoded = await raw('POST', `/api/%2e%2e/orgs/${organization.slug}/settings`, {
    headers: form,
    body: renameForm('Renamed by an encoded path', organization.slug),
  })
  assert.equal(encoded.status, 403)
  const https = await raw('POST', `/orgs/${organization.slug}/settings`, {
    headers: { ...form, Origin: `https://127.0.0.1:${port}` },
    body: renameForm('Renamed from https', organization.slug),
  })
  assert.equal(https.status, 403)
  assert.equal((await prisma.organization.findUniqueOrThrow({ where: { id: organization.id } })).name, organization.name, 'nothing was renamed')

  const same = await raw('POST', `/orgs/${organization.slug}/settings`, {
    headers: { ...form, Origin: `http://127.0.0.1:${port}` },
    body: renameForm('Renamed from here', organization.slug),
  })
  assert.notEqual(same.status, 403, 'the same origin passes')
  assert.equal((await prisma.organization.findUniqueOrThrow({ where: { id: organization.id } })).name, 'Renamed from here')
})

test('TRACE and other methods nobody serves answer 405 problem+json with Allow', async () => {
  for (const [method, target] of [
    ['TRACE', '/'],
    ['TRACE', '/api/v1/health'],
    ['PROPFIND', '/orgs'],
  ] as const) {
    const answer = await raw(method, target)
    assertProblemAnswer(answer, 405, 'METHOD_NOT_ALLOWED')
    assert.match(String(answer.headers.allow), /GET/)
  }
})

test('NUL bytes and malformed UTF-8 in paths and queries answer 400, on the API and the dashboard', async () => {
  const { organization, cookie } = await signedInOrganization()
  for (const target of [
    '/api/v1/files/%00',
    '/api/v1/files?namePrefix=a%00b',
    `/orgs/%00`,
    `/orgs/${organization.slug}%ED%A0%80`,
    `/orgs/${organization.slug}?tab=%00`,
  ]) {
    const problem = assertProblemAnswer(await raw('GET', target, { headers: { Cookie: cookie } }), 400, 'VALIDATION')
    assert.match(problem.detail, /NUL|UTF-8/, target)
  }
})

test('a JSON body over the limit sent chunked gets the same 413 as one with a Content-Length', async () => {
  const body = JSON.stringify({ email: 'a@example.test', password: 'x'.repeat(1024 * 1024) })
  const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => Buffer.from(body.slice(i * 65536, (i + 1) * 65536)))
  const chunked = await raw('POST', '/api/v1/auth/login', { headers: { 'Content-Type': 'application/json' }, chunks })
  assertProblemAnswer(chunked, 413, 'PAYLOAD_TOO_LARGE')
  const withLength = await raw('POST', '/api/v1/auth/login', {
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
    body,
  })
  assertProblemAnswer(withLength, 413, 'PAYLOAD_TOO_LARGE')
  // The server is still answering afterwards.
  assert.equal((await raw('GET', '/api/v1/health')).status, 200)
})

test('files in public/ are served, with an hour of caching; other paths never reach them', async () => {
  for (const file of ['/favicon.svg', '/robots.txt', '/favicon%2Esvg']) {
    const answer = await raw('GET', file)
    assert.equal(answer.status, 200, file)
    assert.match(String(answer.headers['cache-control']), /max-age=3600/, file)
  }
  // A public file's name under another path is that path's page (here the sign-in redirect), not the file.
  const underPage = await raw('GET', '/orgs/favicon.svg')
  assert.equal(underPage.status, 302)
  assert.doesNotMatch(String(underPage.headers['content-type']), /svg/)
  assert.equal((await raw('GET', '/no-such-file.svg')).status, 404)
})
