/**
 * Secrets handed out over HTTP (API keys, access and refresh tokens, a dashboard session) are
 * stored only as hashes: after a full round of creating, using, rotating and revoking them, no
 * column of ApiKey, ApiToken, Session or AuditLog (before/after JSON included), nor of any other
 * table, holds one in plain text; and no answer but the one that creates a key shows it.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { before, describe, test } from 'node:test'
import { prisma } from '~/utils/db.server'
import { api, assertProblem, type ApiResponse } from '../support/api-client'
import { uniqueEmail } from '../support/factories'

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex')

/** Every row of a table as one JSON text (jsonb columns included), to search any column at once. */
async function tableText(table: string) {
  const rows = await prisma.$queryRawUnsafe<{ text: string | null }[]>(`SELECT json_agg(t)::text AS text FROM "${table}" t`)
  return rows[0]?.text ?? ''
}

/** The random part of a secret (after its `ck_` / `cat_` / `crt_` prefix, if any). */
const bodyOf = (secret: string) => secret.replace(/^(?:ck|cat|crt)_/, '')

function expectStatus(response: ApiResponse, status: number) {
  assert.equal(response.status, status, `${response.status} ${response.text.slice(0, 300)}`)
  return response
}

interface Secret {
  kind: 'API key' | 'access token' | 'refresh token' | 'session token' | 'password'
  value: string
  /** The table holding its hash (as the SHA-256 in hex), when it is stored at all. */
  hashedIn?: 'ApiKey' | 'ApiToken' | 'Session'
}

const secrets: Secret[] = []
/** Every answer that is not the one creating a key, to search for keys afterwards. */
const answers: { what: string; text: string }[] = []
let projectId: string

async function call(what: string, method: string, url: string, options: Parameters<typeof api>[2], status: number) {
  const response = expectStatus(await api(method, url, options), status)
  answers.push({ what: `${what} (${method} ${url})`, text: response.text })
  return response
}

before(async () => {
  // An account through the API, then a second sign-in, a rotation and a replayed refresh token.
  const email = uniqueEmail('secrets')
  const password = 'a password nobody should store'
  secrets.push({ kind: 'password', value: password })
  const registered = await call('register', 'POST', '/api/v1/auth/register', { body: { name: 'Secret Keeper', email, password } }, 201)
  const login = await call('login', 'POST', '/api/v1/auth/login', { body: { email, password } }, 200)
  const rotated = await call('refresh', 'POST', '/api/v1/tokens/refresh', { body: { refreshToken: login.json.refreshToken } }, 200)
  // Replaying the spent refresh token revokes its family (the rotated pair included).
  assertProblem(await api('POST', '/api/v1/tokens/refresh', { body: { refreshToken: login.json.refreshToken } }), 401)
  assertProblem(await api('GET', '/api/v1/auth/me', { token: rotated.json.accessToken }), 401)
  for (const pair of [registered.json, login.json, rotated.json]) {
    secrets.push({ kind: 'access token', value: pair.accessToken, hashedIn: 'ApiToken' })
    secrets.push({ kind: 'refresh token', value: pair.refreshToken, hashedIn: 'ApiToken' })
  }
  const token = registered.json.accessToken as string

  // A workspace, keys created by the user and by a key, used, listed, changed and revoked.
  const organization = await call('create organization', 'POST', '/api/v1/organizations', { token, body: { name: 'Vault' } }, 201)
  const team = await call(
    'create team',
    'POST',
    '/api/v1/teams',
    { token, body: { organizationId: organization.json.id, name: 'Keepers' } },
    201,
  )
  const project = await call('create project', 'POST', '/api/v1/projects', { token, body: { teamId: team.json.id, name: 'Safe' } }, 201)
  projectId = project.json.id

  const createKey = async (bearer: string, permissions: string[], extra: Record<string, unknown> = {}) => {
    const response = expectStatus(
      await api('POST', '/api/v1/api-keys', { token: bearer, body: { projectId, name: 'Key', permissions, ...extra } }),
      201,
    )
    assert.match(response.json.key, /^ck_/)
    secrets.push({ kind: 'API key', value: response.json.key, hashedIn: 'ApiKey' })
    return response.json as { id: string; key: string }
  }
  const admin = await createKey(token, ['admin'])
  const reader = await createKey(token, ['files:read', 'projects:read', 'api-keys:read'], { expiresAt: '2099-01-01T00:00:00Z' })
  const byKey = await createKey(admin.key, ['files:read'])
  const doomed = await createKey(token, ['files:write'])

  await call('read a project with a key', 'GET', `/api/v1/projects/${projectId}`, { token: reader.key }, 200)
  await call('validate a key', 'POST', '/api/v1/tokens/validate', { body: { key: reader.key } }, 200)
  await call('list keys as a user', 'GET', `/api/v1/api-keys?projectId=${projectId}`, { token }, 200)
  await call('list keys with a key', 'GET', '/api/v1/api-keys', { token: reader.key }, 200)
  await call('get a key', 'GET', `/api/v1/api-keys/${byKey.id}`, { token }, 200)
  await call(
    'update a key',
    'PUT',
    `/api/v1/api-keys/${byKey.id}`,
    { token: admin.key, body: { name: 'Renamed', permissions: ['files:read', 'files:write'] } },
    200,
  )
  await call('revoke a key', 'DELETE', `/api/v1/api-keys/${doomed.id}`, { token }, 204)
  await call('who am I', 'GET', '/api/v1/auth/me', { token }, 200)
  await call('log out', 'POST', '/api/v1/auth/logout', { token }, 204)

  // A dashboard session: the sign-in form answers with the session cookie.
  const form = new URLSearchParams({ email, password, redirectTo: '/' })
  const signIn = await api('POST', '/login', { body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })
  assert.equal(signIn.status, 302, signIn.text.slice(0, 300))
  const cookie = signIn.headers.getSetCookie().find((c) => c.startsWith('carcosa_session='))
  assert.ok(cookie, 'the sign-in sets the session cookie')
  secrets.push({ kind: 'session token', value: sessionToken(cookie), hashedIn: 'Session' })
})

/** The token in a signed Remix cookie: base64 of its JSON value, then `.` and the signature. */
function sessionToken(setCookie: string) {
  const value = decodeURIComponent(setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';')))
  const token = JSON.parse(Buffer.from(value.slice(0, value.lastIndexOf('.')), 'base64').toString('utf8')) as unknown
  assert.ok(typeof token === 'string' && token.length >= 32, 'the cookie holds a random token')
  return token
}

describe('secrets at rest', () => {
  test('the round produced every kind of secret', () => {
    const kinds = new Set(secrets.map((s) => s.kind))
    assert.deepEqual([...kinds].sort(), ['API key', 'access token', 'password', 'refresh token', 'session token'])
    assert.equal(secrets.filter((s) => s.kind === 'API key').length, 4)
    assert.equal(secrets.filter((s) => s.kind === 'refresh token').length, 3)
  })

  for (const table of ['ApiKey', 'ApiToken', 'Session', 'AuditLog'] as const) {
    test(`no column of ${table} holds a key, token or password in plain text`, async () => {
      const text = await tableText(table)
      assert.ok(text.length > 2, `${table} has rows`)
      for (const secret of secrets) {
        assert.ok(!text.includes(bodyOf(secret.value)), `${table} holds a plaintext ${secret.kind}`)
        if (secret.hashedIn === table)
          assert.ok(text.includes(sha256(secret.value)), `${table} holds the ${secret.kind}'s hash (so the rows were read)`)
      }
    })
  }

  test('the audit log recorded the round, and its before/after JSON holds no secret', async () => {
    const entries = await prisma.auditLog.findMany({ select: { action: true, before: true, after: true } })
    const actions = new Set(entries.map((entry) => entry.action))
    for (const action of [
      'user.register',
      'api_token.issue',
      'api_token.refresh',
      'api_token.reuse_detected',
      'api_token.revoke',
      'api_key.create',
      'api_key.update',
      'api_key.revoke',
      'session.create',
    ]) {
      assert.ok(actions.has(action), `an ${action} entry`)
    }
    const json = JSON.stringify(entries.map((entry) => [entry.before, entry.after]))
    for (const secret of secrets) assert.ok(!json.includes(bodyOf(secret.value)), `an audit before/after holds a ${secret.kind}`)
  })

  test('no table of the database holds one in plain text', async () => {
    const tables = await prisma.$queryRawUnsafe<{ tablename: string }[]>(
      `SELECT tablename::text AS tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    )
    assert.ok(tables.length >= 10)
    for (const { tablename } of tables) {
      const text = await tableText(tablename)
      for (const secret of secrets) assert.ok(!text.includes(bodyOf(secret.value)), `${tablename} holds a plaintext ${secret.kind}`)
    }
  })
})

describe('secrets in answers', () => {
  test('no answer but the creating one shows an API key, and none shows a stored hash', async () => {
    assert.ok(answers.length >= 10)
    const keys = secrets.filter((s) => s.kind === 'API key')
    for (const { what, text } of answers) {
      for (const key of keys) {
        assert.ok(!text.includes(bodyOf(key.value)), `${what} shows an API key`)
        assert.ok(!text.includes(sha256(key.value)), `${what} shows a key's hash`)
      }
      assert.doesNotMatch(text, /keyHash|tokenHash|passwordHash/, `${what} shows a hash column`)
    }
  })

  test('key lists and a key show only its prefix and last four characters', async () => {
    const owner = answers.find((a) => a.what.startsWith('list keys as a user'))!
    const listed = JSON.parse(owner.text) as { items: { id: string; displayKey: string }[] }
    assert.equal(listed.items.length, 4)
    const keys = secrets.filter((s) => s.kind === 'API key').map((s) => s.value)
    const shown = listed.items.map((item) => item.displayKey).sort()
    assert.deepEqual(shown, keys.map((key) => `ck_…${key.slice(-4)}`).sort())
    const fresh = await api('GET', `/api/v1/api-keys?projectId=${projectId}`, { token: keys[0] })
    assert.equal(fresh.status, 200)
    for (const key of keys) assert.ok(!fresh.text.includes(bodyOf(key)))
  })
})
