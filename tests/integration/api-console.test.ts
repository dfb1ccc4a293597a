/**
 * The interactive reference at /api-docs: each operation's try-it form sends one real call with the
 * credential typed in, through the same pipeline as any API call, and shows the answer; the
 * credential never comes back in the page. Also: the seed's documentation paths, and the transform
 * URL documented beside the operation table.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { api } from '../support/api-client'
import { createTestApiKey, createWorkspace, createProjectIn } from '../support/factories'

let key: string
let projectId: string
let otherProjectId: string

before(async () => {
  const { owner, project, team } = await createWorkspace()
  projectId = project.id
  otherProjectId = (await createProjectIn(owner.actor, team.id)).id
  key = (await createTestApiKey(owner.actor, project.id, ['projects:read', 'tenants:manage'])).key
})

const form = (fields: Record<string, string>) => ({
  body: new URLSearchParams(fields).toString(),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
})

/** The text of the page's answer: what the <pre> shows, with HTML entities read back. */
const answerText = (html: string) =>
  (/<pre[^>]*aria-label="Response body"[^>]*>([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? '')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

describe('/api-docs', () => {
  test('the reference answers at the seed path, and /api-docs.json is the OpenAPI document with the seed paths', async () => {
    const reference = await api('GET', '/api-docs')
    assert.equal(reference.status, 200)
    assert.match(reference.text, /API reference/)
    assert.match(reference.text, /href="\/api-docs\/try\/getProject"/, 'each operation links to its try-it form')
    const document = await api('GET', '/api-docs.json')
    assert.equal(document.status, 200)
    assert.ok(document.json.openapi.startsWith('3.1'))
    for (const path of [
      '/api/v1/rate-limits',
      '/api/v1/buckets/{id}/share',
      '/api/v1/buckets/{id}/share/{teamId}',
      '/api/v1/settings/project/{id}',
      '/api/v1/settings/user',
      '/api/v1/carcosa/storage/stats',
    ]) {
      assert.ok(document.json.paths[path], `${path} is documented`)
    }
  })

  test('the transform URL is in the OpenAPI document and on the reference page, with every parameter the parser reads', async () => {
    const document = await api('GET', '/api/v1/openapi.json')
    const get = document.json.paths['/api/v1/transform/{projectId}/{path}']?.get
    assert.ok(get, 'documented')
    assert.equal(get['x-carcosa-permission'], 'transforms:execute')
    const names = get.parameters.map((p: { name: string }) => p.name)
    for (const name of ['projectId', 'path', 'w', 'h', 'fit', 'format', 'quality', 'sig', 'exp']) assert.ok(names.includes(name), name)
    assert.ok(get.responses['200'].content['image/*'])
    const page = await api('GET', '/docs/api')
    assert.match(page.text, /\/api\/v1\/transform\/\{projectId\}\/\{path\}/)
    assert.equal((await api('GET', '/api-docs/try/transformImage')).status, 404, 'answered by its own route, not by the console')
  })

  test('a try-it form sends the call with the key and shows the answer, without the key', async () => {
    const page = await api('GET', '/api-docs/try/getProject')
    assert.equal(page.status, 200)
    assert.match(page.text, /name="credential"[^>]*type="password"|type="password"[^>]*name="credential"/)
    const sent = await api('POST', '/api-docs/try/getProject', form({ credential: key, 'param:id': projectId }))
    assert.equal(sent.status, 200)
    assert.match(sent.text, /Answer: 200/)
    assert.equal(JSON.parse(answerText(sent.text)).id, projectId)
    assert.ok(!sent.text.includes(key), 'the key is not sent back')
    assert.match(sent.text, /x-ratelimit-remaining/, 'the answer shows the rate-limit headers of the call')
  })

  test('the call is the API call: the same refusals, validation and writes', async () => {
    const otherProject = await api('POST', '/api-docs/try/getProject', form({ credential: key, 'param:id': otherProjectId }))
    assert.match(otherProject.text, /Answer: 404/, "another project is out of the key's reach")
    const badKey = await api('POST', '/api-docs/try/getProject', form({ credential: 'ck_not-a-key', 'param:id': projectId }))
    assert.match(badKey.text, /Answer: 401/)
    const invalid = await api('POST', '/api-docs/try/createTenant', form({ credential: key, body: '{"name": ""}' }))
    assert.match(invalid.text, /Answer: 400/)
    assert.equal(JSON.parse(answerText(invalid.text)).status, 400)
    const created = await api(
      'POST',
      '/api-docs/try/createTenant',
      form({ credential: key, body: JSON.stringify({ name: 'From the console', slug: 'from-console' }) }),
    )
    assert.match(created.text, /Answer: 201/)
    assert.equal(JSON.parse(answerText(created.text)).slug, 'from-console')
    const listed = await api('GET', `/api/v1/tenants?projectId=${projectId}`, { token: key })
    assert.ok(listed.json.items.some((tenant: { slug: string }) => tenant.slug === 'from-console'))
  })

  test('bad form input is refused beside its field and sends nothing', async () => {
    for (const [fields, field] of [
      [{ credential: 'two words', 'param:id': projectId }, 'credential'],
      [{ credential: key, 'param:id': '..' }, 'param:id'],
      [{ credential: key, 'param:id': '' }, 'param:id'],
    ] as const) {
      const refused = await api('POST', '/api-docs/try/getProject', form(fields))
      assert.equal(refused.status, 400, JSON.stringify(fields))
      assert.match(refused.text, /Nothing was sent/)
      assert.ok(!refused.text.includes('Answer:'), field)
    }
    assert.equal((await api('GET', '/api-docs/try/noSuchOperation')).status, 404)
    assert.equal((await api('GET', '/api-docs/try/streamFileUpload')).status, 404, 'file bytes go with the SDK, the CLI or curl')
  })
})
