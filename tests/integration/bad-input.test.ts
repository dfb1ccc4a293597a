/**
 * Input nothing below could store or survive (NUL, unpaired surrogates, hostile nesting) is a 400
 * that names the field and changes nothing, on the API and in dashboard forms; and the one error
 * model: every problem carries its machine code, a bucket's failure is 502 on the API and the
 * dashboard alike, and the transform endpoint's refusals are problems like any other.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSession } from '~/services/accounts/sessions.server'
import { commitSessionCookie } from '~/services/accounts/session-cookie.server'
import { prisma } from '~/utils/db.server'
import { MAX_JSON_DEPTH } from '~/utils/input-guards'
import { api, assertProblem } from '../support/api-client'
import { createTestApiKey, createWorkspace, testMeta } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { attachS3Bucket } from '../support/storage-factories'

async function workspaceWithKey() {
  const workspace = await createWorkspace()
  const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['admin'])
  return { ...workspace, key }
}

test('NUL and unpaired surrogates in JSON names, metadata and keys are 400s naming the field; nothing is written', async () => {
  const { key, project } = await workspaceWithKey()
  const cases: [unknown, string][] = [
    [{ slug: 'nul-name', name: 'a\u0000b' }, 'name'],
    [{ slug: 'lone', name: 'x\uD800' }, 'name'],
    [{ slug: 'meta', name: 'Meta', metadata: { tags: ['ok', 'bad\uDC00'] } }, 'metadata.tags.1'],
    [{ slug: 'key', name: 'Key', metadata: { 'k\u0000': 1 } }, 'metadata.k?'],
  ]
  for (const [body, field] of cases) {
    const response = await api('POST', '/api/v1/tenants', { token: key, body })
    assertProblem(response, 400)
    assert.equal(response.json.code, 'VALIDATION')
    assert.deepEqual(Object.keys(response.json.errors), [field], JSON.stringify(body))
  }
  assert.equal(await prisma.tenant.count({ where: { projectId: project.id } }), 0)
})

test('NUL in a path id or a query value is a 400 (namePrefix included)', async () => {
  const { key } = await workspaceWithKey()
  const byId = await api('GET', '/api/v1/files/a%00b', { token: key })
  assertProblem(byId, 400)
  assert.deepEqual(Object.keys(byId.json.errors), ['id'])
  const byPrefix = await api('GET', '/api/v1/files?namePrefix=a%00b', { token: key })
  assertProblem(byPrefix, 400)
  assert.deepEqual(Object.keys(byPrefix.json.errors), ['namePrefix'])
})

test(`JSON nested past ${MAX_JSON_DEPTH} levels (even 100,000) is a 400, not a stack overflow`, async () => {
  const { key } = await workspaceWithKey()
  const deep = `{"slug":"deep","name":"Deep","metadata":${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}}`
  const response = await api('POST', '/api/v1/tenants', { token: key, body: deep })
  assertProblem(response, 400)
  assert.match(response.json.detail, /deeper than/)
  const arrays = await api('POST', '/api/v1/tenants', { token: key, body: '['.repeat(100_000) + ']'.repeat(100_000) })
  assertProblem(arrays, 400)
})

test('a dashboard form with NUL in a field answers 400 beside the field and changes nothing', async () => {
  const { owner, organization } = await createWorkspace()
  const { token } = await createSession(owner.user.id, testMeta())
  const cookie = (await commitSessionCookie(token)).split(';')[0]!
  const response = await api('POST', `/orgs/${organization.slug}/settings`, {
    body: new URLSearchParams({ intent: 'update', name: 'Evil\u0000Corp', slug: organization.slug }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
  })
  assert.equal(response.status, 400, response.text.slice(0, 300))
  assert.match(response.text, /NUL/)
  assert.equal((await prisma.organization.findUniqueOrThrow({ where: { id: organization.id } })).name, organization.name)
})

test("a bucket's failure is 502 with code STORAGE_FAILED on the API, and 502 on the dashboard too (not a 500 page)", async () => {
  const { owner, organization, team, project, key } = await workspaceWithKey()
  await attachS3Bucket(project.id)
  const first = await putTestFile(project.id)
  const second = await putTestFile(project.id)
  // The bucket's endpoint now answers nothing (port 9, discard): every storage call fails.
  await prisma.bucket.update({ where: { id: first.bucketId }, data: { endpoint: 'http://127.0.0.1:9' } })

  const viaApi = await api('DELETE', `/api/v1/files/${first.id}`, { token: key })
  assertProblem(viaApi, 502)
  assert.equal(viaApi.json.code, 'STORAGE_FAILED')
  assert.equal(await prisma.file.count({ where: { id: first.id } }), 1, 'the record stays while its object could not be deleted')

  const { token } = await createSession(owner.user.id, testMeta())
  const cookie = (await commitSessionCookie(token)).split(';')[0]!
  const page = `/orgs/${organization.slug}/teams/${team.slug}/projects/${project.slug}/files/${second.id}`
  const viaDashboard = await api('POST', page, {
    body: new URLSearchParams({ intent: 'delete', confirm: 'on' }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
  })
  assert.equal(viaDashboard.status, 502, viaDashboard.text.slice(0, 300))
  assert.match(viaDashboard.text, /bucket could not be reached or refused/)
  assert.equal(await prisma.file.count({ where: { id: second.id } }), 1)
})

test('the transform endpoint refuses with the same problems and codes as the rest of the API', async () => {
  const { project } = await workspaceWithKey()
  const unsigned = await api('GET', `/api/v1/transform/${project.id}/nothing.jpg?w=100`)
  assertProblem(unsigned, 401)
  assert.equal(unsigned.json.code, 'UNAUTHENTICATED')
  assert.equal(unsigned.headers.get('WWW-Authenticate'), 'Bearer')
  const badParam = await api('GET', `/api/v1/transform/${project.id}/nothing.jpg?w=99999`)
  assertProblem(badParam, 400)
  assert.deepEqual(Object.keys(badParam.json.errors), ['w'])
  assertProblem(await api('GET', '/api/v1/transform/no-such-project/x.jpg?w=10'), 404)
})
