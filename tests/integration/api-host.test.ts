/**
 * The REST API as the Express host serves it (ADR 027: /api/v1 answered from the operation table,
 * outside Remix), over real HTTP against `server.ts`: the same answers as the in-process client gets
 * (status, type, body, caching, rate-limit headers), with the host's security headers and request id,
 * HEAD without a body, gzip for large answers a client accepts, handler-shaped answers (redirects)
 * intact, and the API claimed on the normalized path only.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import http from 'node:http'
import { gunzipSync } from 'node:zlib'
import { before, describe, test } from 'node:test'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { api } from '../support/api-client'
import { startCarcosa } from '../support/carcosa-server'

let origin: string
let key: string
let fileId: string

before(async () => {
  const { owner, project } = await createWorkspace()
  key = (await createTestApiKey(owner.actor, project.id, ['files:read', 'files:write'])).key
  fileId = (await putTestFile(project.id, { name: 'hello.txt', body: 'hello' })).id
  origin = await startCarcosa()
})

interface RawAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** One request with the path sent exactly as given (fetch would normalize `..` and decompress). */
function raw(method: string, rawPath: string, headers: Record<string, string> = {}, body?: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, method, path: rawPath, headers, agent: false, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }))
      response.on('error', reject)
    })
    request.on('error', reject)
    request.on('timeout', () => request.destroy(new Error('timed out')))
    request.end(body)
  })
}

const bearer = () => ({ Authorization: `Bearer ${key}` })

describe('the host answers the API as the operation table does', () => {
  const calls: Array<{ name: string; method: string; path: () => string; headers?: () => Record<string, string>; body?: string }> = [
    { name: 'a list with a key', method: 'GET', path: () => '/api/v1/files', headers: bearer },
    { name: 'one file with a key', method: 'GET', path: () => `/api/v1/files/${fileId}`, headers: bearer },
    { name: 'no key: 401', method: 'GET', path: () => '/api/v1/files' },
    { name: 'a bad key: 401', method: 'GET', path: () => '/api/v1/files', headers: () => ({ Authorization: 'Bearer ck_nothing' }) },
    { name: 'a bad query: 400', method: 'GET', path: () => '/api/v1/files?limit=nope', headers: bearer },
    { name: 'an unknown path: 404', method: 'GET', path: () => '/api/v1/no-such-thing' },
    { name: 'a method the path lacks: 405', method: 'DELETE', path: () => '/api/v1/health' },
    {
      name: 'a body that is not JSON: 400',
      method: 'POST',
      path: () => '/api/v1/uploads/init',
      headers: () => ({ ...bearer(), 'Content-Type': 'application/json' }),
      body: '{',
    },
    {
      name: 'a body of another type: 415',
      method: 'POST',
      path: () => '/api/v1/uploads/init',
      headers: () => ({ ...bearer(), 'Content-Type': 'text/plain' }),
      body: 'x',
    },
    { name: 'health', method: 'GET', path: () => '/api/v1/health' },
  ]
  for (const call of calls) {
    test(call.name, async () => {
      const headers = call.headers?.() ?? {}
      const overHttp = await raw(
        call.method,
        call.path(),
        call.body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(call.body)) },
        call.body,
      )
      const inProcess = await api(call.method, call.path(), { headers, ...(call.body === undefined ? {} : { body: call.body }) })
      assert.equal(overHttp.status, inProcess.status, overHttp.body.toString().slice(0, 300))
      // Express adds the charset to a JSON type when a handler's own Response passes through res.set.
      assert.equal(
        overHttp.headers['content-type'],
        (inProcess.headers.get('content-type') ?? undefined)?.replace(/^application\/json$/, 'application/json; charset=utf-8'),
      )
      assert.equal(overHttp.headers['cache-control'], inProcess.headers.get('cache-control') ?? undefined)
      for (const name of ['allow', 'www-authenticate', 'x-ratelimit-limit'])
        assert.equal(overHttp.headers[name], inProcess.headers.get(name) ?? undefined, name)
      assert.equal(typeof overHttp.headers['x-ratelimit-remaining'], typeof (inProcess.headers.get('x-ratelimit-remaining') ?? undefined))
      const body = overHttp.body.toString()
      if (/json/.test(String(overHttp.headers['content-type']))) {
        const [http, local] = [JSON.parse(body) as Record<string, unknown>, inProcess.json as Record<string, unknown>]
        // Health reports timings, and each side has its own rate-limit counts: compare the shape.
        if (call.name === 'health') assert.deepEqual(Object.keys(http).sort(), Object.keys(local).sort())
        else assert.deepEqual(http, local)
      }
      // Health shapes its own Response (for its 503), streamed like other such answers.
      if (call.name !== 'health')
        assert.equal(overHttp.headers['content-length'], String(overHttp.body.length), 'JSON answers carry their length')
    })
  }
})

describe('what the host adds and keeps', () => {
  test('security headers and the request id on API answers; an incoming request id is kept', async () => {
    const answer = await raw('GET', '/api/v1/files', { ...bearer(), 'X-Request-Id': 'trace-123' })
    assert.equal(answer.status, 200)
    assert.equal(answer.headers['x-request-id'], 'trace-123')
    assert.equal(answer.headers['x-content-type-options'], 'nosniff')
    assert.equal(answer.headers['x-frame-options'], 'DENY')
    assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'none'/)
    assert.equal(answer.headers['x-powered-by'], undefined)
    assert.doesNotMatch(String(answer.headers['content-security-policy']), /nonce-/, 'JSON runs no script: no nonce')
    // Pages keep a fresh nonce per request.
    const [first, second] = [await raw('GET', '/login'), await raw('GET', '/login')]
    const nonceOf = (page: RawAnswer) => /'nonce-([^']+)'/.exec(String(page.headers['content-security-policy']))?.[1]
    assert.ok(nonceOf(first) && nonceOf(second) && nonceOf(first) !== nonceOf(second))
    assert.ok(first.body.toString().includes(`nonce="${nonceOf(first)}"`), "the page's scripts carry its nonce")
  })

  test('HEAD answers the headers of GET without a body', async () => {
    const answer = await raw('HEAD', '/api/v1/files', bearer())
    assert.equal(answer.status, 200)
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(answer.body.length, 0)
  })

  test('a large answer is gzipped for a client that accepts it, and sent plain to one that does not', async () => {
    const zipped = await raw('GET', '/api/v1/openapi.json', { 'Accept-Encoding': 'gzip' })
    assert.equal(zipped.headers['content-encoding'], 'gzip')
    assert.match(String(zipped.headers.vary), /Accept-Encoding/i)
    const document = JSON.parse(gunzipSync(zipped.body).toString()) as { openapi: string }
    assert.match(document.openapi, /^3\.1/)
    const plain = await raw('GET', '/api/v1/openapi.json')
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.deepEqual(JSON.parse(plain.body.toString()), document)
  })

  test('an answer a handler shapes itself (a download redirect) goes out as it was made', async () => {
    const answer = await raw('GET', `/api/v1/files/${fileId}/download`, bearer())
    assert.equal(answer.status, 302)
    assert.match(String(answer.headers.location), /^http/)
    assert.equal(answer.headers['cache-control'], 'no-store')
    assert.ok(answer.headers['x-ratelimit-limit'])
  })

  test('the API is claimed on the normalized path: /api/v1/../../ leaves it, and a detour into it arrives', async () => {
    const left = await raw('GET', '/api/v1/../../login')
    assert.equal(left.status, 200)
    assert.match(String(left.headers['content-type']), /^text\/html/)
    const arrived = await raw('GET', '/elsewhere/../api/v1/health')
    assert.equal(arrived.status, 200)
    assert.match(String(arrived.headers['content-type']), /^application\/json/)
  })
})
