import '../support/test-database'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { PERMISSIONS } from '~/services/api-keys/permissions'
import { pageQuerySchema } from '~/services/pagination'
import { createTenantFormSchema, createTenantSchema, updateTenantFormSchema, updateTenantSchema } from '~/services/tenants/schemas'
import { createTenant, deleteTenant, getTenant, listTenants, updateTenant } from '~/services/tenants/tenants.server'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import { addMember, addToTeam, assertAppError, createTestApiKey, createWorkspace, testMeta, withAuditDelta } from '../support/factories'
import { putTestFile } from '../support/file-factories'

const page = (query: Record<string, unknown> = {}) => pageQuerySchema.parse(query)
const create = (projectId: string, input: Record<string, unknown>) => ({ ...createTenantSchema.parse(input), projectId })

async function setup() {
  const { owner, organization, team, project } = await createWorkspace()
  const member = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, member, 'MEMBER')
  const viewer = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, viewer, 'VIEWER')
  const other = await createWorkspace()
  return { owner, organization, team, project, member, viewer, other }
}

describe('tenant service', () => {
  test('the next page follows the cursor even when its row was deleted meanwhile (keyset paging)', async () => {
    const { owner, project } = await setup()
    for (const slug of ['one', 'two', 'three', 'four', 'five']) await createTenant(owner.actor, create(project.id, { slug, name: slug }))
    const all = await listTenants(owner.actor, project.id, page({ limit: 5 }))
    const first = await listTenants(owner.actor, project.id, page({ limit: 2 }))
    assert.ok(first.nextCursor)
    await prisma.tenant.delete({ where: { id: first.nextCursor } })
    const second = await listTenants(owner.actor, project.id, page({ limit: 2, cursor: first.nextCursor }))
    assert.deepEqual(
      second.items.map((tenant) => tenant.id),
      all.items.slice(2, 4).map((tenant) => tenant.id),
    )
    assert.equal(second.nextCursor, all.items[3]?.id)
  })

  test('create, get, list in pages, update and delete, each change audited', async () => {
    const { owner, organization, project } = await setup()
    const { result: acme, rows } = await withAuditDelta(() =>
      createTenant(owner.actor, create(project.id, { slug: 'Acme-Corp', name: 'Acme', metadata: { plan: 'pro', seats: 5 } })),
    )
    assert.ok(acme)
    assert.deepEqual([acme.slug, acme.name, acme.metadata, acme.projectId], ['acme-corp', 'Acme', { plan: 'pro', seats: 5 }, project.id])
    assert.deepEqual(
      rows.map((row) => [row.action, row.targetId, row.organizationId]),
      [['tenant.create', acme.id, organization.id]],
    )

    for (const slug of ['beta', 'gamma', 'delta']) await createTenant(owner.actor, create(project.id, { slug, name: slug }))
    const first = await listTenants(owner.actor, project.id, page({ limit: 3 }))
    assert.equal(first.items.length, 3)
    assert.ok(first.nextCursor)
    const second = await listTenants(owner.actor, project.id, page({ limit: 3, cursor: first.nextCursor }))
    assert.equal(second.items.length, 1)
    assert.equal(second.nextCursor, null)
    assert.deepEqual([...first.items, ...second.items].map((t) => t.slug).sort(), ['acme-corp', 'beta', 'delta', 'gamma'])

    assert.equal((await getTenant(owner.actor, acme.id)).name, 'Acme')
    const { result: renamed, rows: updateRows } = await withAuditDelta(() =>
      updateTenant(owner.actor, acme.id, updateTenantSchema.parse({ name: 'Acme Inc.' })),
    )
    assert.deepEqual([renamed?.name, renamed?.metadata], ['Acme Inc.', { plan: 'pro', seats: 5 }], 'metadata left out is kept')
    assert.deepEqual(updateRows[0]?.before, { name: 'Acme', metadata: { plan: 'pro', seats: 5 } })
    const replaced = await updateTenant(owner.actor, acme.id, updateTenantSchema.parse({ metadata: { plan: 'free' } }))
    assert.deepEqual([replaced.name, replaced.metadata], ['Acme Inc.', { plan: 'free' }])

    const { rows: deleteRows } = await withAuditDelta(() => deleteTenant(owner.actor, acme.id))
    assert.deepEqual(
      deleteRows.map((row) => row.action),
      ['tenant.delete'],
    )
    assert.equal(await prisma.tenant.count({ where: { id: acme.id } }), 0)
    await assertAppError(getTenant(owner.actor, acme.id), 'NOT_FOUND')
  })

  test('a slug is unique per project: a second one is a conflict on the field; another project may reuse it', async () => {
    const { owner, project, other } = await setup()
    await createTenant(owner.actor, create(project.id, { slug: 'acme', name: 'Acme' }))
    const error = await assertAppError(createTenant(owner.actor, create(project.id, { slug: 'ACME', name: 'Other' })), 'CONFLICT')
    assert.deepEqual(Object.keys(error.details.fieldErrors ?? {}), ['slug'])
    assert.equal(await prisma.tenant.count({ where: { projectId: project.id } }), 1)
    const elsewhere = await createTenant(other.owner.actor, create(other.project.id, { slug: 'acme', name: 'Acme elsewhere' }))
    assert.equal(elsewhere.slug, 'acme')
  })

  test('input rules: slug shape, name, metadata an object of at most 16 KiB; the form reports bad JSON clearly', () => {
    for (const slug of ['a', 'has space', 'trailing-', 'x'.repeat(65), 'ünï']) {
      assert.equal(createTenantSchema.safeParse({ slug, name: 'n' }).success, false, slug)
    }
    assert.equal(createTenantSchema.parse({ slug: 'user_42', name: 'n' }).slug, 'user_42')
    for (const metadata of [[1, 2], 'text', 5, null]) {
      const result = createTenantSchema.safeParse({ slug: 'ok', name: 'n', metadata })
      assert.equal(result.success, false, JSON.stringify(metadata))
      assert.match(result.error!.issues[0]!.message, /JSON object/)
    }
    const big = createTenantSchema.safeParse({ slug: 'ok', name: 'n', metadata: { blob: 'x'.repeat(17 * 1024) } })
    assert.match(big.error!.issues[0]!.message, /at most 16 KiB/)
    assert.equal(updateTenantSchema.safeParse({}).success, false, 'an update changes something')

    const bad = createTenantFormSchema.safeParse({ slug: 'ok', name: 'n', metadata: '{"plan": pro}' })
    assert.match(bad.error!.issues[0]!.message, /^Metadata is not valid JSON: /)
    const array = updateTenantFormSchema.safeParse({ name: 'n', metadata: '[1]' })
    assert.match(array.error!.issues[0]!.message, /JSON object/)
    assert.deepEqual(updateTenantFormSchema.parse({ name: 'n', metadata: ' ' }).metadata, {})
    assert.deepEqual(createTenantFormSchema.parse({ slug: 'ok', name: 'n', metadata: '{"a": [1, {"b": null}]}' }).metadata, {
      a: [1, { b: null }],
    })
  })

  test('a tenant with files cannot be deleted (409, saying so); without them it can', async () => {
    const { owner, project } = await setup()
    const tenant = await createTenant(owner.actor, create(project.id, { slug: 'busy', name: 'Busy' }))
    const file = await putTestFile(project.id, { tenantId: tenant.id })
    const error = await assertAppError(deleteTenant(owner.actor, tenant.id), 'CONFLICT')
    assert.match(error.message, /still has 1 file/)
    assert.equal(await prisma.tenant.count({ where: { id: tenant.id } }), 1)
    assert.equal(await prisma.file.count({ where: { id: file.id } }), 1, 'the file is untouched')
    await prisma.file.delete({ where: { id: file.id } })
    await deleteTenant(owner.actor, tenant.id)
    assert.equal(await prisma.tenant.count({ where: { id: tenant.id } }), 0)
  })

  test('roles: viewers read, members manage; outsiders and other projects see nothing', async () => {
    const { owner, project, member, viewer, other } = await setup()
    const tenant = await createTenant(member.actor, create(project.id, { slug: 'by-member', name: 'By member' }))
    assert.equal((await listTenants(viewer.actor, project.id, page())).items.length, 1)
    assert.equal((await getTenant(viewer.actor, tenant.id)).id, tenant.id)
    await assertAppError(createTenant(viewer.actor, create(project.id, { slug: 'nope', name: 'Nope' })), 'FORBIDDEN')
    await assertAppError(updateTenant(viewer.actor, tenant.id, updateTenantSchema.parse({ name: 'x' })), 'FORBIDDEN')
    await assertAppError(deleteTenant(viewer.actor, tenant.id), 'FORBIDDEN')

    const outsider = other.owner.actor
    await assertAppError(listTenants(outsider, project.id, page()), 'NOT_FOUND')
    await assertAppError(getTenant(outsider, tenant.id), 'NOT_FOUND')
    await assertAppError(updateTenant(outsider, tenant.id, updateTenantSchema.parse({ name: 'x' })), 'NOT_FOUND')
    await assertAppError(deleteTenant(outsider, tenant.id), 'NOT_FOUND')
    await assertAppError(createTenant(outsider, create(project.id, { slug: 'intruder', name: 'x' })), 'NOT_FOUND')

    const otherKey = await createTestApiKey(other.owner.actor, other.project.id, [...PERMISSIONS])
    await assertAppError(getTenant(otherKey.actor, tenant.id), 'NOT_FOUND')
    await assertAppError(deleteTenant(otherKey.actor, tenant.id), 'NOT_FOUND')
    // A tenant reached through another project's page is not found either.
    await assertAppError(getTenant(owner.actor, tenant.id, { projectId: other.project.id }), 'NOT_FOUND')
    assert.equal((await getTenant(owner.actor, tenant.id)).name, 'By member')
  })
})

describe('tenants over REST', () => {
  test("an API key manages its own project's tenants without naming the project; permissions are enforced", async () => {
    const { owner, project } = await setup()
    const manager = await createTestApiKey(owner.actor, project.id, ['tenants:manage', 'projects:read'])
    const reader = await createTestApiKey(owner.actor, project.id, ['projects:read'])

    const created = await api('POST', '/api/v1/tenants', { token: manager.key, body: { slug: 'acme', name: 'Acme', metadata: { tier: 1 } } })
    assert.equal(created.status, 201, created.text)
    assert.deepEqual([created.json.projectId, created.json.slug, created.json.metadata], [project.id, 'acme', { tier: 1 }])
    const id = created.json.id as string

    const conflict = await api('POST', '/api/v1/tenants', { token: manager.key, body: { slug: 'acme', name: 'Again' } })
    assertProblem(conflict, 409)
    assert.deepEqual(Object.keys(conflict.json.errors), ['slug'])

    const listed = await api('GET', '/api/v1/tenants', { token: reader.key })
    assert.equal(listed.status, 200)
    assert.deepEqual(
      listed.json.items.map((t: { id: string }) => t.id),
      [id],
    )
    assert.equal(listed.json.nextCursor, null)

    assertProblem(await api('POST', '/api/v1/tenants', { token: reader.key, body: { slug: 'other', name: 'Other' } }), 403)
    assertProblem(await api('PUT', `/api/v1/tenants/${id}`, { token: reader.key, body: { name: 'x' } }), 403)
    assertProblem(await api('DELETE', `/api/v1/tenants/${id}`, { token: reader.key }), 403)

    const updated = await api('PUT', `/api/v1/tenants/${id}`, { token: manager.key, body: { name: 'Acme Inc.' } })
    assert.deepEqual([updated.status, updated.json.name], [200, 'Acme Inc.'])
    const fetched = await api('GET', `/api/v1/tenants/${id}`, { token: reader.key })
    assert.equal(fetched.json.name, 'Acme Inc.')

    await putTestFile(project.id, { tenantId: id })
    const refused = await api('DELETE', `/api/v1/tenants/${id}`, { token: manager.key })
    assertProblem(refused, 409)
    assert.match(refused.json.detail, /still has 1 file/)
  })

  test("isolation: project B's key and a stranger's token get 404 for project A's tenants, on every endpoint", async () => {
    const { owner, project, other } = await setup()
    const tenant = await createTenant(owner.actor, create(project.id, { slug: 'secret', name: 'Secret' }))
    const otherKey = (await createTestApiKey(other.owner.actor, other.project.id, [...PERMISSIONS])).key
    const strangerToken = (await issueTokens(other.owner.user.id, testMeta())).accessToken
    for (const token of [otherKey, strangerToken]) {
      assertProblem(await api('GET', `/api/v1/tenants?projectId=${project.id}`, { token }), 404)
      assertProblem(await api('POST', '/api/v1/tenants', { token, body: { projectId: project.id, slug: 'x-x', name: 'x' } }), 404)
      assertProblem(await api('GET', `/api/v1/tenants/${tenant.id}`, { token }), 404)
      assertProblem(await api('PUT', `/api/v1/tenants/${tenant.id}`, { token, body: { name: 'taken over' } }), 404)
      assertProblem(await api('DELETE', `/api/v1/tenants/${tenant.id}`, { token }), 404)
    }
    // The key's own listing shows only its project's tenants.
    const own = await api('GET', '/api/v1/tenants', { token: otherKey })
    assert.deepEqual(own.json.items, [])
    assert.equal((await getTenant(owner.actor, tenant.id)).name, 'Secret', 'nothing changed')
  })

  test('a user token must name the project when listing or creating', async () => {
    const { owner } = await setup()
    const token = (await issueTokens(owner.user.id, testMeta())).accessToken
    const response = await api('GET', '/api/v1/tenants', { token })
    assertProblem(response, 400)
    assert.deepEqual(Object.keys(response.json.errors), ['projectId'])
    assertProblem(await api('POST', '/api/v1/tenants', { token, body: { slug: 'ok', name: 'n' } }), 400)
  })
})
