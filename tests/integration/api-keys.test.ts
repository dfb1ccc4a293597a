import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  type PublicApiKey,
  authenticateApiKey,
  createApiKey,
  getApiKey,
  listApiKeys,
  revokeApiKey,
  updateApiKey,
  validateApiKey,
} from '~/services/api-keys/api-keys.server'
import { flushApiKeyUse } from '~/services/api-keys/key-use.server'
import { PERMISSIONS, type Permission } from '~/services/api-keys/permissions'
import { createApiKeySchema, updateApiKeySchema } from '~/services/api-keys/schemas'
import { pageQuerySchema } from '~/services/pagination'
import { prisma } from '~/utils/db.server'
import {
  addMember,
  addToTeam,
  assertAppError,
  createProjectIn,
  createTestApiKey,
  createTestUser,
  createWorkspace,
  testMeta,
  withAuditDelta,
} from '../support/factories'

const page = (query: Record<string, unknown> = {}) => pageQuerySchema.parse(query)
const createInput = (projectId: string, permissions: Permission[], extra: Record<string, unknown> = {}) =>
  createApiKeySchema.parse({ projectId, name: 'CI deploys', permissions, ...extra })
const update = (input: Record<string, unknown>) => updateApiKeySchema.parse(input)
/** Every row of a table as one JSON text, to search for secrets in any column. */
const tableText = async (table: 'ApiKey' | 'AuditLog') =>
  (await prisma.$queryRawUnsafe<{ text: string }[]>(`SELECT coalesce(json_agg(t)::text, '') AS text FROM "${table}" t`))[0]!.text
const keyRow = (id: string) => prisma.apiKey.findUniqueOrThrow({ where: { id } })

/** A project with its owner, and people of every team role in its team; plus a second project elsewhere. */
async function setup() {
  const { owner, organization, team, project } = await createWorkspace()
  const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
  const member = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, member, 'MEMBER')
  const viewer = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, viewer, 'VIEWER')
  const other = await createWorkspace()
  return { owner, organization, team, project, teamAdmin, member, viewer, other }
}

describe('creating API keys', () => {
  test('the owner creates a key: the secret is shown once, only its hash is stored, and it is audited', async () => {
    const { owner, organization, project } = await setup()
    const input = createInput(project.id, ['files:read', 'files:write', 'files:read'], { expiresAt: '2099-01-01T00:00:00Z' })
    const { result, rows } = await withAuditDelta(() => createApiKey(owner.actor, input))
    assert.ok(result)
    const { apiKey, key } = result
    assert.match(key, /^ck_[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(Object.keys(apiKey).sort(), [
      'createdAt',
      'createdById',
      'displayKey',
      'expiresAt',
      'id',
      'lastUsedAt',
      'name',
      'permissions',
      'projectId',
      'revokedAt',
      'tenantId',
    ])
    assert.equal(apiKey.displayKey, `ck_…${key.slice(-4)}`)
    assert.deepEqual(apiKey.permissions, ['files:read', 'files:write'], 'repeated permissions are dropped')
    assert.equal(apiKey.createdById, owner.user.id)
    assert.equal(apiKey.expiresAt?.toISOString(), '2099-01-01T00:00:00.000Z')
    assert.equal(apiKey.revokedAt, null)
    assert.equal(apiKey.lastUsedAt, null)

    const row = await keyRow(apiKey.id)
    assert.equal(row.keyHash, createHash('sha256').update(key).digest('hex'))
    assert.equal(row.prefix, 'ck_')
    assert.equal(row.lastFour, key.slice(-4))

    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'api_key.create')
    assert.equal(rows[0]?.organizationId, organization.id)
    assert.equal(rows[0]?.targetId, apiKey.id)
    assert.deepEqual(rows[0]?.after, {
      projectId: project.id,
      name: 'CI deploys',
      permissions: ['files:read', 'files:write'],
      expiresAt: '2099-01-01T00:00:00.000Z',
      displayKey: apiKey.displayKey,
      tenantId: null,
    })
  })

  test('no column of any stored key, nor any audit entry, contains a secret', async () => {
    const { owner, project } = await setup()
    const secrets: string[] = []
    for (const permissions of [['files:read'], ['admin'], PERMISSIONS.filter((p) => p !== 'admin')] as Permission[][]) {
      secrets.push((await createApiKey(owner.actor, createInput(project.id, permissions))).key)
    }
    const keyRows = await tableText('ApiKey')
    const auditRows = await tableText('AuditLog')
    for (const secret of secrets) {
      assert.ok(keyRows.includes(createHash('sha256').update(secret).digest('hex')), 'the rows were read: the hash is there')
      assert.ok(!keyRows.includes(secret), 'the ApiKey table holds no plaintext key')
      assert.ok(!keyRows.includes(secret.slice(3)), 'nor the key without its prefix')
      assert.ok(!auditRows.includes(secret.slice(3)), 'the audit log holds no key')
    }
  })

  test('a team VIEWER cannot create keys, not even read-only ones (VIEWER lacks api-keys:write)', async () => {
    const { viewer, project } = await setup()
    const { error, rows } = await withAuditDelta(() => createApiKey(viewer.actor, createInput(project.id, ['files:read'])))
    const refusal = await assertAppError(Promise.reject(error), 'FORBIDDEN')
    assert.match(refusal.message, /VIEWER/)
    assert.equal(rows.length, 0)
    assert.equal(await prisma.apiKey.count({ where: { projectId: project.id } }), 0)
  })

  test('a team MEMBER creates keys within their own permissions, and cannot grant projects:delete, api-keys:delete or admin', async () => {
    const { member, project } = await setup()
    const { apiKey } = await createApiKey(member.actor, createInput(project.id, ['files:read', 'files:write', 'api-keys:write']))
    assert.equal(apiKey.createdById, member.user.id)

    for (const beyond of [['projects:delete'], ['api-keys:delete'], ['admin']] as Permission[][]) {
      const { error, rows } = await withAuditDelta(() => createApiKey(member.actor, createInput(project.id, ['files:read', ...beyond])))
      const refusal = await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(refusal.message, `You cannot grant permissions you do not hold: ${beyond.join(', ')}.`)
      assert.equal(rows.length, 0)
    }
    const both = await assertAppError(createApiKey(member.actor, createInput(project.id, ['projects:delete', 'admin'])), 'FORBIDDEN')
    assert.match(both.message, /projects:delete, admin/, 'every permission it cannot grant is named')
    assert.equal(await prisma.apiKey.count({ where: { projectId: project.id } }), 1)
  })

  test('team ADMIN and owner hold admin and may grant it; admin implies every other permission', async () => {
    const { owner, teamAdmin, project } = await setup()
    await createApiKey(teamAdmin.actor, createInput(project.id, ['admin']))
    const adminKey = await createTestApiKey(owner.actor, project.id, ['admin'])

    // An admin key holds everything: it creates keys with any permission, lists, updates and revokes them.
    const everything = await createApiKey(adminKey.actor, createInput(project.id, [...PERMISSIONS]))
    assert.deepEqual(everything.apiKey.permissions, [...PERMISSIONS])
    assert.equal(everything.apiKey.createdById, null, 'a key made by a key has no person behind it')
    const listed = await listApiKeys(adminKey.actor, project.id, page())
    assert.equal(listed.items.length, 3)
    await updateApiKey(adminKey.actor, everything.apiKey.id, update({ permissions: ['files:read'] }))
    await revokeApiKey(adminKey.actor, everything.apiKey.id)
    assert.ok((await keyRow(everything.apiKey.id)).revokedAt)
  })

  test('a key with api-keys:write cannot grant what it lacks; without api-keys:write it creates nothing', async () => {
    const { owner, project } = await setup()
    const writer = await createTestApiKey(owner.actor, project.id, ['api-keys:write', 'files:read'])

    const child = await createApiKey(writer.actor, createInput(project.id, ['files:read']))
    assert.deepEqual(child.apiKey.permissions, ['files:read'])
    for (const beyond of [['files:write'], ['admin'], ['api-keys:read']] as Permission[][]) {
      const refusal = await assertAppError(createApiKey(writer.actor, createInput(project.id, beyond)), 'FORBIDDEN')
      assert.match(refusal.message, new RegExp(beyond[0]!))
    }

    const reader = await createTestApiKey(owner.actor, project.id, ['files:read', 'api-keys:read'])
    const refusal = await assertAppError(createApiKey(reader.actor, createInput(project.id, ['files:read'])), 'FORBIDDEN')
    assert.match(refusal.message, /api-keys:write/)
  })
})

describe('isolation between projects', () => {
  test('a key of project A gets NOT_FOUND for everything about project B’s keys', async () => {
    const { owner, project, other } = await setup()
    const keyA = await createTestApiKey(owner.actor, project.id, ['admin'])
    const keyB = await createTestApiKey(other.owner.actor, other.project.id, ['files:read'])

    await assertAppError(getApiKey(keyA.actor, keyB.apiKey.id), 'NOT_FOUND')
    await assertAppError(listApiKeys(keyA.actor, other.project.id, page()), 'NOT_FOUND')
    await assertAppError(createApiKey(keyA.actor, createInput(other.project.id, ['files:read'])), 'NOT_FOUND')
    await assertAppError(updateApiKey(keyA.actor, keyB.apiKey.id, update({ name: 'Taken over' })), 'NOT_FOUND')
    await assertAppError(revokeApiKey(keyA.actor, keyB.apiKey.id), 'NOT_FOUND')
    const row = await keyRow(keyB.apiKey.id)
    assert.equal(row.revokedAt, null)
    assert.notEqual(row.name, 'Taken over')

    // The same goes for a person outside B's organization, and for a key that does not exist.
    await assertAppError(getApiKey(owner.actor, keyB.apiKey.id), 'NOT_FOUND')
    await assertAppError(revokeApiKey(owner.actor, keyB.apiKey.id), 'NOT_FOUND')
    const missing = await assertAppError(getApiKey(keyA.actor, 'c000000000000000000000000'), 'NOT_FOUND')
    assert.equal(missing.message, 'API key was not found')
  })

  test('a key of project A does not reach a sibling project B of the same team', async () => {
    const { owner, team, project } = await setup()
    const sibling = await createProjectIn(owner.actor, team.id)
    const keyA = await createTestApiKey(owner.actor, project.id, ['admin'])
    const siblingKey = await createTestApiKey(owner.actor, sibling.id, ['files:read'])
    await assertAppError(getApiKey(keyA.actor, siblingKey.apiKey.id), 'NOT_FOUND')
    await assertAppError(listApiKeys(keyA.actor, sibling.id, page()), 'NOT_FOUND')
  })
})

describe('listing and reading', () => {
  test('lists page by id with a cursor, revoked keys included; reading needs api-keys:read', async () => {
    const { owner, viewer, project } = await setup()
    const created: PublicApiKey[] = []
    for (let i = 0; i < 5; i++) created.push((await createApiKey(owner.actor, createInput(project.id, ['files:read']))).apiKey)
    await revokeApiKey(owner.actor, created[1]!.id)

    const first = await listApiKeys(viewer.actor, project.id, page({ limit: '2' }))
    assert.equal(first.items.length, 2)
    assert.ok(first.nextCursor)
    const second = await listApiKeys(viewer.actor, project.id, page({ limit: 2, cursor: first.nextCursor }))
    const third = await listApiKeys(viewer.actor, project.id, page({ limit: 2, cursor: second.nextCursor }))
    assert.equal(third.nextCursor, null)
    const all = [...first.items, ...second.items, ...third.items]
    assert.deepEqual(
      all.map((k) => k.id),
      created.map((k) => k.id).sort(),
    )
    assert.ok(all.find((k) => k.id === created[1]!.id)?.revokedAt, 'the revoked key is listed with revokedAt')
    for (const item of all) assert.ok(!('keyHash' in item))

    assert.equal((await getApiKey(viewer.actor, created[0]!.id)).name, 'CI deploys')
    const blind = await createTestApiKey(owner.actor, project.id, ['files:read'])
    await assertAppError(listApiKeys(blind.actor, project.id, page()), 'FORBIDDEN')
    await assertAppError(getApiKey(blind.actor, created[0]!.id), 'FORBIDDEN')
  })
})

describe('updating', () => {
  test('renames and replaces permissions, audited with before and after', async () => {
    const { owner, member, project, organization } = await setup()
    const { apiKey } = await createApiKey(member.actor, createInput(project.id, ['files:read']))
    const { result, rows } = await withAuditDelta(() =>
      updateApiKey(member.actor, apiKey.id, update({ name: 'Uploads', permissions: ['files:read', 'files:write'] })),
    )
    assert.equal(result?.name, 'Uploads')
    assert.deepEqual(result?.permissions, ['files:read', 'files:write'])
    assert.deepEqual((await keyRow(apiKey.id)).permissions, ['files:read', 'files:write'])
    assert.deepEqual(
      rows.map((r) => [r.action, r.organizationId, r.before, r.after]),
      [
        [
          'api_key.update',
          organization.id,
          { name: 'CI deploys', permissions: ['files:read'] },
          { name: 'Uploads', permissions: ['files:read', 'files:write'] },
        ],
      ],
    )
    const renamed = await updateApiKey(owner.actor, apiKey.id, update({ name: 'Renamed' }))
    assert.deepEqual(renamed.permissions, ['files:read', 'files:write'], 'permissions left out stay as they were')
  })

  test('the acting actor can grant no more than it holds, and cannot change a key holding more than it does', async () => {
    const { owner, member, viewer, project } = await setup()
    const memberKey = await createApiKey(member.actor, createInput(project.id, ['files:read']))
    const refusal = await assertAppError(
      updateApiKey(member.actor, memberKey.apiKey.id, update({ permissions: ['files:read', 'projects:delete'] })),
      'FORBIDDEN',
    )
    assert.match(refusal.message, /projects:delete/)

    const adminKey = await createApiKey(owner.actor, createInput(project.id, ['admin']))
    const { error, rows } = await withAuditDelta(() => updateApiKey(member.actor, adminKey.apiKey.id, update({ permissions: ['files:read'] })))
    assert.match((await assertAppError(Promise.reject(error), 'FORBIDDEN')).message, /admin/)
    assert.equal(rows.length, 0)
    assert.deepEqual((await keyRow(adminKey.apiKey.id)).permissions, ['admin'])

    await assertAppError(updateApiKey(viewer.actor, memberKey.apiKey.id, update({ name: 'Viewer was here' })), 'FORBIDDEN')

    // A key with api-keys:write may narrow itself, but not widen itself.
    const self = await createTestApiKey(owner.actor, project.id, ['api-keys:write', 'files:read', 'files:write'])
    await assertAppError(updateApiKey(self.actor, self.apiKey.id, update({ permissions: ['api-keys:write', 'admin'] })), 'FORBIDDEN')
    const narrowed = await updateApiKey(self.actor, self.apiKey.id, update({ permissions: ['api-keys:write', 'files:read'] }))
    assert.deepEqual(narrowed.permissions, ['api-keys:write', 'files:read'])
    const again = await authenticateApiKey(self.key, testMeta())
    assert.deepEqual(again?.permissions, ['api-keys:write', 'files:read'], 'the next request carries the new permissions')
  })

  test('a revoked key cannot be changed (CONFLICT)', async () => {
    const { owner, project } = await setup()
    const { apiKey } = await createApiKey(owner.actor, createInput(project.id, ['files:read']))
    await revokeApiKey(owner.actor, apiKey.id)
    const { error, rows } = await withAuditDelta(() => updateApiKey(owner.actor, apiKey.id, update({ name: 'Back from the dead' })))
    await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.equal(rows.length, 0)
    assert.equal((await keyRow(apiKey.id)).name, 'CI deploys')
  })
})

describe('revoking', () => {
  test('revocation is immediate, audited, and a second revocation is a CONFLICT', async () => {
    const { owner, project, organization } = await setup()
    const { apiKey, key } = await createTestApiKey(owner.actor, project.id, ['files:read'])
    assert.ok(await authenticateApiKey(key, testMeta()))

    const { result, rows } = await withAuditDelta(() => revokeApiKey(owner.actor, apiKey.id))
    assert.ok(result?.revokedAt)
    assert.equal(await authenticateApiKey(key, testMeta()), null, 'the very next request is refused')
    assert.deepEqual(await validateApiKey(key), { valid: false })
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId, r.organizationId]),
      [['api_key.revoke', apiKey.id, organization.id]],
    )

    const { error, rows: again } = await withAuditDelta(() => revokeApiKey(owner.actor, apiKey.id))
    assert.equal((await assertAppError(Promise.reject(error), 'CONFLICT')).message, 'This API key is already revoked')
    assert.equal(again.length, 0)
  })

  test('revoking needs api-keys:delete: a team MEMBER and a key without it are refused', async () => {
    const { owner, member, project } = await setup()
    const target = await createTestApiKey(owner.actor, project.id, ['files:read'])
    const writer = await createTestApiKey(owner.actor, project.id, ['api-keys:write', 'api-keys:read'])
    await assertAppError(revokeApiKey(member.actor, target.apiKey.id), 'FORBIDDEN')
    const refusal = await assertAppError(revokeApiKey(writer.actor, target.apiKey.id), 'FORBIDDEN')
    assert.match(refusal.message, /api-keys:delete/)
    assert.ok(await authenticateApiKey(target.key, testMeta()))
    const deleter = await createTestApiKey(owner.actor, project.id, ['api-keys:delete'])
    await revokeApiKey(deleter.actor, target.apiKey.id)
    assert.equal(await authenticateApiKey(target.key, testMeta()), null)
  })
})

describe('authenticating', () => {
  test('a valid key yields an actor for its own project with its permissions and the request meta', async () => {
    const { owner, project } = await setup()
    const { apiKey, key } = await createApiKey(owner.actor, createInput(project.id, ['files:read', 'usage:read']))
    const meta = testMeta({ ipAddress: '192.0.2.44', userAgent: 'sdk/1.0' })
    const actor = await authenticateApiKey(key, meta)
    assert.ok(actor)
    const { scope, ...rest } = actor
    assert.deepEqual(rest, {
      type: 'api-key',
      apiKeyId: apiKey.id,
      projectId: project.id,
      permissions: ['files:read', 'usage:read'],
      ipAddress: '192.0.2.44',
      userAgent: 'sdk/1.0',
    })
    // Resolved with the key in the same statement: what authorization needs, no further reads.
    assert.equal(scope.project.id, project.id)
    assert.equal(scope.project.slug, project.slug)
    assert.equal(scope.team.id, project.teamId)
    assert.deepEqual(scope.rateLimitOverrides, {})
  })

  test('malformed, unknown and expired keys yield null', async () => {
    const { owner, project } = await setup()
    const { apiKey, key } = await createApiKey(
      owner.actor,
      createInput(project.id, ['files:read'], { expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    )
    for (const bad of ['', 'ck_', 'ck_short', key.slice(3), `${key}x`, `cat_${key.slice(3)}`, `ck_${'A'.repeat(43)}`, `${key.slice(0, -1)}!`]) {
      assert.equal(await authenticateApiKey(bad, testMeta()), null, JSON.stringify(bad))
      assert.deepEqual(await validateApiKey(bad), { valid: false })
    }
    await prisma.apiKey.update({ where: { id: apiKey.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
    assert.equal(await authenticateApiKey(key, testMeta()), null)
    assert.deepEqual(await validateApiKey(key), { valid: false })
  })

  test('a key that expires while its resolution is held in memory is refused from that moment', async () => {
    const { owner, project } = await setup()
    const expiresAt = new Date(Date.now() + 1_500)
    const { key } = await createApiKey(owner.actor, createInput(project.id, ['files:read'], { expiresAt: expiresAt.toISOString() }))
    assert.ok(await authenticateApiKey(key, testMeta()))
    assert.ok(await authenticateApiKey(key, testMeta()), 'answered again (from memory once the bus listens)')
    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 10))
    assert.equal(await authenticateApiKey(key, testMeta()), null)
    assert.deepEqual(await validateApiKey(key), { valid: false })
  })

  test('lastUsedAt is written off the request path, in one batch for many uses, and never moves back', async () => {
    const { owner, project } = await setup()
    const { apiKey, key } = await createApiKey(owner.actor, createInput(project.id, ['files:read']))
    const other = await createApiKey(owner.actor, createInput(project.id, ['files:read'], { name: 'Second' }))
    assert.equal((await keyRow(apiKey.id)).lastUsedAt, null)

    const before = Date.now()
    for (let i = 0; i < 5; i++) await authenticateApiKey(key, testMeta())
    await authenticateApiKey(other.key, testMeta())
    assert.equal((await keyRow(apiKey.id)).lastUsedAt, null, 'authenticating does not write')
    await flushApiKeyUse()
    const first = (await keyRow(apiKey.id)).lastUsedAt
    assert.ok(first && first.getTime() >= before - 1 && first.getTime() <= Date.now(), 'the batch records the latest use')
    assert.ok((await keyRow(other.apiKey.id)).lastUsedAt, 'every key used in the batch is recorded')

    // A later use recorded elsewhere is kept: a batch never moves lastUsedAt back.
    const later = new Date(Date.now() + 60_000)
    await prisma.apiKey.update({ where: { id: apiKey.id }, data: { lastUsedAt: later } })
    await authenticateApiKey(key, testMeta())
    await flushApiKeyUse()
    assert.equal((await keyRow(apiKey.id)).lastUsedAt?.getTime(), later.getTime())
  })

  test('validateApiKey tells the project, permissions, expiry and name of a valid key, and does not count as use', async () => {
    const { owner, project } = await setup()
    const { apiKey, key } = await createApiKey(
      owner.actor,
      createInput(project.id, ['files:read', 'transforms:execute'], { name: 'Edge', expiresAt: '2098-06-01T12:00:00+02:00' }),
    )
    assert.deepEqual(await validateApiKey(key), {
      valid: true,
      projectId: project.id,
      permissions: ['files:read', 'transforms:execute'],
      expiresAt: new Date('2098-06-01T10:00:00Z'),
      name: 'Edge',
    })
    assert.equal((await keyRow(apiKey.id)).lastUsedAt, null)
  })
})

describe('API key schemas', () => {
  const errorsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
    Object.fromEntries((result.error?.issues ?? []).map((issue) => [issue.path.join('.'), issue.message]))

  test('create: name, permissions and expiry are checked with clear messages', async () => {
    const base = { projectId: 'p1', name: 'Key', permissions: ['files:read'] }
    assert.deepEqual(errorsOf(createApiKeySchema.safeParse({ ...base, name: '   ' })), { name: 'API key name is required' })
    assert.deepEqual(errorsOf(createApiKeySchema.safeParse({ ...base, name: 'x'.repeat(81) })), {
      name: 'API key name must be at most 80 characters',
    })
    assert.deepEqual(errorsOf(createApiKeySchema.safeParse({ ...base, permissions: [] })), { permissions: 'Choose at least one permission' })
    assert.deepEqual(errorsOf(createApiKeySchema.safeParse({ ...base, permissions: undefined })), {
      permissions: 'Choose at least one permission',
    })
    assert.match(
      errorsOf(createApiKeySchema.safeParse({ ...base, permissions: ['files:read', 'root'] }))['permissions.1'] ?? '',
      /Unknown permission/,
    )
    assert.deepEqual(errorsOf(createApiKeySchema.safeParse({ ...base, expiresAt: '2001-01-01T00:00:00Z' })), {
      expiresAt: 'Expiry must be in the future',
    })
    assert.match(errorsOf(createApiKeySchema.safeParse({ ...base, expiresAt: 'next tuesday' })).expiresAt ?? '', /ISO 8601/)
    assert.deepEqual(errorsOf(createApiKeySchema.safeParse({ name: 'Key', permissions: ['files:read'] })), { projectId: 'Project is required' })

    const parsed = createApiKeySchema.parse({ ...base, permissions: ['admin', 'admin', 'files:read'], expiresAt: '2090-01-01T00:00:00.000Z' })
    assert.deepEqual(parsed.permissions, ['admin', 'files:read'])
    assert.ok(parsed.expiresAt instanceof Date)
    assert.equal(createApiKeySchema.parse(base).expiresAt, undefined)
  })

  test('update: at least one of name and permissions', () => {
    assert.deepEqual(errorsOf(updateApiKeySchema.safeParse({})), { '': 'Give a new name, new permissions, or both' })
    assert.deepEqual(errorsOf(updateApiKeySchema.safeParse({ permissions: [] })), { permissions: 'Choose at least one permission' })
    assert.deepEqual(updateApiKeySchema.parse({ name: ' New ' }), { name: 'New' })
  })
})

test('a user outside the organization gets NOT_FOUND for its projects’ keys', async () => {
  const stranger = await createTestUser()
  const { owner, project } = await createWorkspace()
  const { apiKey } = await createTestApiKey(owner.actor, project.id, ['files:read'])
  await assertAppError(getApiKey(stranger.actor, apiKey.id), 'NOT_FOUND')
  await assertAppError(listApiKeys(stranger.actor, project.id, page()), 'NOT_FOUND')
})
