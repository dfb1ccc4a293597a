/** CarcosaApi's HTTP behaviour against a real (local) HTTP server: retries on 429/503 after Retry-After, typed problem errors. */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, test } from 'node:test'
import { CarcosaApi, CarcosaError } from '@carcosa/sdk'

const answers: Array<{ status: number; headers?: Record<string, string>; body: unknown }> = []
const seen: Array<{ at: number; authorization: string | undefined }> = []
const server = http.createServer((req, res) => {
  seen.push({ at: Date.now(), authorization: req.headers.authorization })
  const answer = answers.shift() ?? { status: 500, body: { type: 'x', title: 'Unexpected', status: 500, detail: 'no answer queued' } }
  const problem = answer.status >= 400
  res.writeHead(answer.status, { 'Content-Type': problem ? 'application/problem+json' : 'application/json', ...answer.headers })
  res.end(JSON.stringify(answer.body))
})
const baseUrl = await new Promise<string>((resolve) =>
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
)
after(() => server.close())

const api = new CarcosaApi({ apiKey: 'ck_test', baseUrl, retry: { baseDelayMs: 10 } })

test('429 and 503 are retried after Retry-After, then the answer comes through', async () => {
  answers.length = 0
  seen.length = 0
  answers.push(
    { status: 429, headers: { 'Retry-After': '1' }, body: { type: 'r', title: 'Too many requests', status: 429, detail: 'slow down' } },
    { status: 503, body: { type: 's', title: 'Busy', status: 503, detail: 'busy' } },
    { status: 200, body: { id: 'f1', name: 'a.png' } },
  )
  const file = await api.getFile('f1')
  assert.equal(file.id, 'f1')
  assert.equal(seen.length, 3)
  assert.ok(seen[1]!.at - seen[0]!.at >= 950, 'waited for Retry-After (1 s)')
  assert.equal(seen[0]!.authorization, 'Bearer ck_test')
})

test('retries stop after the configured count and the last problem is thrown, typed', async () => {
  answers.length = 0
  const limited = new CarcosaApi({ apiKey: 'ck_test', baseUrl, retry: { retries: 1, baseDelayMs: 5 } })
  answers.push(
    { status: 429, headers: { 'Retry-After': '0' }, body: { type: 'r', title: 'Too many requests', status: 429, detail: 'first' } },
    { status: 429, headers: { 'Retry-After': '0' }, body: { type: 'r', title: 'Too many requests', status: 429, detail: 'second' } },
  )
  await assert.rejects(limited.getFile('f1'), (error: unknown) => {
    assert.ok(error instanceof CarcosaError)
    assert.deepEqual([error.code, error.status, error.message, error.problem?.title], ['RATE_LIMITED', 429, 'second', 'Too many requests'])
    return true
  })
})

test('a 4xx problem is not retried and keeps its field errors', async () => {
  answers.length = 0
  seen.length = 0
  answers.push({ status: 400, body: { type: 'v', title: 'Validation failed', status: 400, detail: 'bad name', errors: { name: ['too long'] } } })
  await assert.rejects(api.tenants.create({ slug: 'a', name: 'x'.repeat(500) }), (error: CarcosaError) => {
    assert.deepEqual(error.fieldErrors, { name: ['too long'] })
    return true
  })
  assert.equal(seen.length, 1)
})
