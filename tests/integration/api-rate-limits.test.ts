/**
 * Rate limits over HTTP: a tier's limit holds exactly at its boundary, the X-RateLimit-* headers say
 * so, the subject is the key, the user or the client IP, per-project overrides take effect at once
 * and need `admin`; and, when TEST_REDIS_URL names a Redis, two server processes sharing it admit no
 * more than the limit in total.
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
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { PERMISSIONS, type Permission } from '~/services/api-keys/permissions'
import { DEFAULT_TIER_LIMITS } from '~/utils/rate-limiter.server'
import { api, assertProblem, type ApiResponse } from '../support/api-client'
import {
  addMember,
  addToTeam,
  createProjectIn,
  createTestApiKey,
  createWorkspace,
  testMeta,
  uniqueIp,
  type TestUser,
} from '../support/factories'
import { freePort } from '../support/carcosa-server'

const WINDOW_SECONDS = 3600
/** A request counts for one window plus at most one slice (1/60 of it): see ADR 006. */
const LONGEST_COUNT_SECONDS = WINDOW_SECONDS + WINDOW_SECONDS / 60

let owner: TestUser
let ownerToken: string
let teamId: string
/** A MEMBER of the team: may change the project, but holds no `admin`. */
let memberToken: string

before(async () => {
  const workspace = await createWorkspace()
  owner = workspace.owner
  teamId = workspace.team.id
  ownerToken = (await issueTokens(owner.user.id, testMeta())).accessToken
  const member = await addMember(workspace.organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, teamId, member, 'MEMBER')
  memberToken = (await issueTokens(member.user.id, testMeta())).accessToken
})

/** A project of its own per test, so overrides and counts never meet. */
const freshProject = () => createProjectIn(owner.actor, teamId)
const keyIn = async (projectId: string, permissions: Permission[]) => (await createTestApiKey(owner.actor, projectId, permissions)).key

const header = (response: ApiResponse, name: string) => {
  const value = response.headers.get(name)
  assert.ok(value !== null && /^\d+$/.test(value), `${name} is a whole number, got ${value}`)
  return Number(value)
}

/** Checks the headers of an admitted call: the limit, what remains, and a reset about one window ahead. */
function assertAdmitted(response: ApiResponse, limit: number, remaining: number) {
  assert.ok(response.status < 300, `admitted: ${response.status} ${response.text.slice(0, 300)}`)
  assert.equal(header(response, 'X-RateLimit-Limit'), limit)
  assert.equal(header(response, 'X-RateLimit-Remaining'), remaining)
  const now = Date.now() / 1000
  const reset = header(response, 'X-RateLimit-Reset')
  assert.ok(reset >= now + WINDOW_SECONDS - 1 && reset <= now + LONGEST_COUNT_SECONDS + 1, `reset ${reset - now} s ahead`)
  assert.equal(response.headers.get('Retry-After'), null)
}

/** Checks a 429: problem+json, Retry-After, nothing remaining, and a reset Retry-After seconds ahead. */
function assertRefused(response: ApiResponse, limit: number, tier: string) {
  assertProblem(response, 429)
  assert.equal(header(response, 'X-RateLimit-Limit'), limit)
  assert.equal(header(response, 'X-RateLimit-Remaining'), 0)
  const retryAfter = header(response, 'Retry-After')
  assert.ok(retryAfter >= 1 && retryAfter <= LONGEST_COUNT_SECONDS, `Retry-After ${retryAfter}`)
  const reset = header(response, 'X-RateLimit-Reset')
  assert.ok(Math.abs(reset - (Date.now() / 1000 + retryAfter)) <= 2, 'X-RateLimit-Reset is when Retry-After points to')
  assert.ok(response.json.detail.includes(tier) && response.json.detail.includes(String(limit)), response.json.detail)
}

describe('a tier limit over HTTP', () => {
  test("a project's READ override of 3: three calls pass with 2, 1, 0 remaining, the fourth is 429", async () => {
    const project = await freshProject()
    const admin = await keyIn(project.id, ['admin'])
    const set = await api('PUT', `/api/v1/projects/${project.id}/rate-limits`, { token: admin, body: { overrides: { READ: 3 } } })
    assert.equal(set.status, 200)
    assert.deepEqual([set.json.overrides, set.json.effective.READ], [{ READ: 3 }, 3])

    const key = await keyIn(project.id, ['projects:read', 'projects:write'])
    const get = () => api('GET', `/api/v1/projects/${project.id}`, { token: key, ip: uniqueIp() }) // the key counts, not the IP
    let lastReset = 0
    for (const remaining of [2, 1, 0]) {
      const response = await get()
      assertAdmitted(response, 3, remaining)
      assert.ok(header(response, 'X-RateLimit-Reset') >= lastReset, 'the reset never moves back')
      lastReset = header(response, 'X-RateLimit-Reset')
    }
    assertRefused(await get(), 3, 'READ')
    assertRefused(await get(), 3, 'READ')

    // Other subjects and tiers count apart: another key of the project, the same key's WRITE tier, users.
    assertAdmitted(await api('GET', `/api/v1/projects/${project.id}`, { token: await keyIn(project.id, ['projects:read']) }), 3, 2)
    const write = await api('PUT', `/api/v1/projects/${project.id}/settings`, { token: key, body: { description: 'still writable' } })
    assertAdmitted(write, DEFAULT_TIER_LIMITS.WRITE, DEFAULT_TIER_LIMITS.WRITE - 1)
    const user = await api('GET', `/api/v1/projects/${project.id}`, { token: ownerToken })
    assert.equal(header(user, 'X-RateLimit-Limit'), DEFAULT_TIER_LIMITS.READ, "a project's overrides bind its keys, not its people")
  })

  test('the ADMIN default of 20 for a fresh key: 20 calls pass, the 21st is 429 and changes nothing', async () => {
    const project = await freshProject()
    const key = await keyIn(project.id, ['api-keys:write', 'api-keys:read', 'files:read'])
    const target = (await createTestApiKey(owner.actor, project.id, ['files:read'])).apiKey
    const rename = (name: string) => api('PUT', `/api/v1/api-keys/${target.id}`, { token: key, body: { name } })
    const limit = DEFAULT_TIER_LIMITS.ADMIN
    assert.equal(limit, 20)
    for (let call = 1; call <= limit; call++) assertAdmitted(await rename(`name ${call}`), limit, limit - call)
    assertRefused(await rename('one too many'), limit, 'ADMIN')
    const read = await api('GET', `/api/v1/api-keys/${target.id}`, { token: key })
    assertAdmitted(read, DEFAULT_TIER_LIMITS.READ, DEFAULT_TIER_LIMITS.READ - 1)
    assert.equal(read.json.name, `name ${limit}`, 'the refused call did not rename the key')
  })

  test('anonymous calls are counted per client IP: STANDARD admits 1000 from one address, then 429; another address is untouched', async () => {
    const limit = DEFAULT_TIER_LIMITS.STANDARD
    const [ip, otherIp] = [uniqueIp(), uniqueIp()]
    const validate = (from: string) => api('POST', '/api/v1/tokens/validate', { body: { key: 'ck_not-a-key' }, ip: from })

    assertAdmitted(await validate(ip), limit, limit - 1)
    assertAdmitted(await validate(ip), limit, limit - 2)
    const remaining: number[] = []
    for (let sent = 0; sent < limit - 2; sent += 14) {
      const responses = await Promise.all(Array.from({ length: Math.min(14, limit - 2 - sent) }, () => validate(ip)))
      for (const response of responses) {
        assert.equal(response.status, 200)
        remaining.push(header(response, 'X-RateLimit-Remaining'))
      }
    }
    assert.deepEqual(
      remaining.sort((a, b) => a - b),
      Array.from({ length: limit - 2 }, (_, i) => i),
      'each admitted call took exactly one of the remaining requests',
    )
    assertRefused(await validate(ip), limit, 'STANDARD')
    assertAdmitted(await validate(otherIp), limit, limit - 1)
    assertAdmitted(await api('GET', '/api/v1/health', { ip }), DEFAULT_TIER_LIMITS.READ, DEFAULT_TIER_LIMITS.READ - 1)
  })

  test('refused credentials count against the address: after 20 bad tokens on an ADMIN operation the 21st is 429; a valid caller is unaffected', async () => {
    const ip = uniqueIp()
    const createKey = (token: string) => api('POST', '/api/v1/api-keys', { token, body: {}, ip })
    for (let attempt = 1; attempt <= DEFAULT_TIER_LIMITS.ADMIN; attempt++) {
      const response = await createKey(`ck_guess-${attempt}`)
      assert.equal(response.status, 401)
      assert.equal(header(response, 'X-RateLimit-Remaining'), DEFAULT_TIER_LIMITS.ADMIN - attempt)
    }
    assertRefused(await createKey('ck_guess-21'), DEFAULT_TIER_LIMITS.ADMIN, 'ADMIN')
    // The address's budget is spent for unauthenticated attempts only; a valid caller is its own subject.
    assert.equal((await createKey(ownerToken)).status, 400)
  })

  test('refusals after the call is counted (404, 400) carry the rate-limit headers too', async () => {
    const project = await freshProject()
    const key = await keyIn(project.id, ['projects:read', 'projects:write'])
    const missing = await api('GET', '/api/v1/projects/no-such-project', { token: key, ip: uniqueIp() })
    assertProblem(missing, 404)
    assert.equal(header(missing, 'X-RateLimit-Limit'), DEFAULT_TIER_LIMITS.READ)
    assert.equal(header(missing, 'X-RateLimit-Remaining'), DEFAULT_TIER_LIMITS.READ - 1)
    const invalid = await api('PUT', `/api/v1/projects/${project.id}`, { token: key, body: { slug: 'Not A Slug' }, ip: uniqueIp() })
    assertProblem(invalid, 400)
    assert.equal(header(invalid, 'X-RateLimit-Remaining'), DEFAULT_TIER_LIMITS.WRITE - 1)
  })

  test('a user is counted as one subject across tokens and addresses; an API key across addresses', async () => {
    const [first, second] = [ownerToken, (await issueTokens(owner.user.id, testMeta())).accessToken]
    const before = header(await api('GET', '/api/v1/auth/me', { token: first, ip: uniqueIp() }), 'X-RateLimit-Remaining')
    assert.equal(header(await api('GET', '/api/v1/auth/me', { token: second, ip: uniqueIp() }), 'X-RateLimit-Remaining'), before - 1)

    const project = await freshProject()
    const key = await keyIn(project.id, ['projects:read'])
    assertAdmitted(
      await api('GET', `/api/v1/projects/${project.id}`, { token: key, ip: uniqueIp() }),
      DEFAULT_TIER_LIMITS.READ,
      DEFAULT_TIER_LIMITS.READ - 1,
    )
    assertAdmitted(
      await api('GET', `/api/v1/projects/${project.id}`, { token: key, ip: uniqueIp() }),
      DEFAULT_TIER_LIMITS.READ,
      DEFAULT_TIER_LIMITS.READ - 2,
    )
  })
})

describe('rate-limit overrides through PUT /api/v1/projects/{id}/rate-limits', () => {
  test('need admin: a key holding everything else and a team MEMBER get 403 (they may still read them); the owner and an admin key may', async () => {
    const project = await freshProject()
    const url = `/api/v1/projects/${project.id}/rate-limits`
    const allButAdmin = await keyIn(
      project.id,
      PERMISSIONS.filter((p) => p !== 'admin'),
    )

    for (const token of [allButAdmin, memberToken]) {
      const refused = await api('PUT', url, { token, body: { overrides: { READ: 1 } } })
      assertProblem(refused, 403)
      const read = await api('GET', url, { token })
      assert.equal(read.status, 200)
      assert.deepEqual(read.json.overrides, {}, 'nothing changed')
    }
    const byOwner = await api('PUT', url, { token: ownerToken, body: { overrides: { DELETE: 7 } } })
    assert.equal(byOwner.status, 200)
    assert.deepEqual(byOwner.json.effective, { ...DEFAULT_TIER_LIMITS, DELETE: 7 })
    const byAdminKey = await api('PUT', url, { token: await keyIn(project.id, ['admin']), body: { overrides: {} } })
    assert.equal(byAdminKey.status, 200)
    assert.deepEqual([byAdminKey.json.overrides, byAdminKey.json.effective], [{}, DEFAULT_TIER_LIMITS], 'an empty object restores the defaults')
  })

  test('refuse values that are not whole numbers of at least 1, and unknown tiers, with field errors', async () => {
    const project = await freshProject()
    const url = `/api/v1/projects/${project.id}/rate-limits`
    for (const [body, field] of [
      [{ READ: 0 }, 'overrides.READ'],
      [{ WRITE: 2.5 }, 'overrides.WRITE'],
      [{ ADMIN: '20' }, 'overrides.ADMIN'],
      [{ READ: 5, SOMETIMES: 5 }, 'overrides'],
    ] as const) {
      const response = await api('PUT', url, { token: ownerToken, body: { overrides: body } })
      assertProblem(response, 400)
      assert.deepEqual(Object.keys(response.json.errors), [field], JSON.stringify(body))
    }
    assert.deepEqual((await api('GET', url, { token: ownerToken })).json.overrides, {})
    const flat = await api('PUT', url, { token: ownerToken, body: { READ: 5 } })
    assertProblem(flat, 400)
    assert.ok('overrides' in flat.json.errors, 'the old flat shape is refused, naming the missing overrides')
  })

  test('GET and PUT share one shape on both paths: what GET answers can be sent back unchanged', async () => {
    const project = await freshProject()
    const key = await keyIn(project.id, ['admin'])
    const atProject = `/api/v1/projects/${project.id}/rate-limits`
    const set = await api('PUT', atProject, { token: ownerToken, body: { overrides: { READ: 42 } } })
    assert.equal(set.status, 200)
    const read = await api('GET', atProject, { token: ownerToken })
    assert.deepEqual(read.json, set.json)
    const ofCall = await api('GET', '/api/v1/rate-limits', { token: key })
    assert.deepEqual(ofCall.json, read.json, "the seed's path answers the key's project in the same shape")
    const sentBack = await api('PUT', '/api/v1/rate-limits', {
      token: key,
      body: { ...read.json, overrides: { ...read.json.overrides, WRITE: 9 } },
    })
    assert.equal(sentBack.status, 200)
    assert.deepEqual(sentBack.json.overrides, { READ: 42, WRITE: 9 })
    assert.deepEqual((await api('GET', atProject, { token: ownerToken })).json, sentBack.json)
  })

  test("take effect at the key's next call on this instance, keeping what it already spent", async () => {
    const project = await freshProject()
    const key = await keyIn(project.id, ['projects:read'])
    const get = () => api('GET', `/api/v1/projects/${project.id}`, { token: key })
    assertAdmitted(await get(), DEFAULT_TIER_LIMITS.READ, DEFAULT_TIER_LIMITS.READ - 1) // caches the project's (absent) overrides
    assert.equal(
      (await api('PUT', `/api/v1/projects/${project.id}/rate-limits`, { token: ownerToken, body: { overrides: { READ: 3 } } })).status,
      200,
    )
    assertAdmitted(await get(), 3, 1)
    assertAdmitted(await get(), 3, 0)
    assertRefused(await get(), 3, 'READ')
  })
})

// ---------------------------------------------------------------------------------------------
// Two server processes sharing one Redis.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const redisUrl = process.env.TEST_REDIS_URL
const READY_TIMEOUT_MS = 60_000
// Configuration the servers must not inherit from the shell that runs the tests.
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

const children: { child: ChildProcess; exited: Promise<unknown> }[] = []
let dataDir: string | undefined

after(async () => {
  for (const { child, exited } of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true })
})

/** `node --import tsx server.ts` (the Docker image's command) on this file's database and the Redis. */
async function startServer(redis: string, directory: string, port: number) {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of CONFIG_VARIABLES) delete env[name]
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: directory,
      DATABASE_URL: testDatabaseUrl,
      REDIS_URL: redis,
      SESSION_SECRET: 'rate-limit-test-session-secret-0123456789abcdef',
      CREDENTIALS_ENCRYPTION_KEY: process.env.CREDENTIALS_ENCRYPTION_KEY,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  children.push({ child, exited })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))

  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!output.includes('Carcosa is running at')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`a server exited before it was ready:\n${output}`)
    if (Date.now() > deadline) throw new Error(`a server was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output}`)
    await sleep(100)
  }
  const baseUrl = `http://127.0.0.1:${port}`
  const health = await fetch(`${baseUrl}/api/v1/health`, { signal: AbortSignal.timeout(10_000) })
  assert.equal(health.status, 200, `health of ${baseUrl}`)
  return { baseUrl, output: () => output }
}

describe('several instances', () => {
  test(
    'two server processes sharing one Redis admit no more than the limit in total',
    { skip: redisUrl ? false : 'TEST_REDIS_URL is not set: the two-process Redis rate-limit test is not run', timeout: 120_000 },
    async () => {
      const limit = 10
      const project = await freshProject()
      // Set before either server reads the project's overrides (they cache them for 10 s).
      assert.equal(
        (await api('PUT', `/api/v1/projects/${project.id}/rate-limits`, { token: ownerToken, body: { overrides: { READ: limit } } })).status,
        200,
      )
      const key = await keyIn(project.id, ['projects:read'])

      dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-rate-limits-'))
      const ports = [await freePort()]
      while (ports.length < 2) ports.push(...[await freePort()].filter((port) => !ports.includes(port)))
      const servers = await Promise.all(ports.map((port) => startServer(redisUrl!, dataDir!, port)))

      const get = async (server: number) => {
        const response = await fetch(`${servers[server]!.baseUrl}/api/v1/projects/${project.id}`, {
          headers: { Authorization: `Bearer ${key}` },
          signal: AbortSignal.timeout(20_000),
        })
        await response.arrayBuffer()
        return { status: response.status, remaining: Number(response.headers.get('X-RateLimit-Remaining')) }
      }
      // One call on each, in turn: the second server already counts the first one's call.
      const first = [await get(0), await get(1)]
      assert.deepEqual(first, [
        { status: 200, remaining: limit - 1 },
        { status: 200, remaining: limit - 2 },
      ])
      // Then both at once, far past the limit.
      const attempts = 40
      const responses = [...first, ...(await Promise.all(Array.from({ length: attempts }, (_, i) => get(i % 2))))]
      const admitted = responses.filter((r) => r.status === 200)
      const refused = responses.filter((r) => r.status === 429)
      assert.equal(admitted.length + refused.length, responses.length, `only 200 and 429: ${JSON.stringify(responses.map((r) => r.status))}`)
      assert.equal(admitted.length, limit, `admitted in total across both servers (per-instance counts would admit up to ${2 * limit})`)
      assert.deepEqual(
        admitted.map((r) => r.remaining).sort((a, b) => a - b),
        Array.from({ length: limit }, (_, i) => i),
        'one shared count: each admitted call took the next of the remaining requests',
      )
      for (const server of servers) assert.doesNotMatch(server.output(), /Redis unavailable/, 'no server fell back to memory')
    },
  )
})
