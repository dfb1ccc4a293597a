import '../support/test-database'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { projectSettingsSchema, rateLimitOverridesSchema, userSettingsSchema } from '~/services/settings/schemas'
import {
  getProjectSettings,
  getRateLimitOverrides,
  getUserSettings,
  updateProjectSettings,
  updateRateLimitOverrides,
  updateUserSettings,
} from '~/services/settings/settings.server'
import { getTransformSettings, updateTransformSettings } from '~/services/transforms/settings.server'
import { prisma } from '~/utils/db.server'
import { addMember, addToTeam, assertAppError, createTestApiKey, createTestUser, createWorkspace, withAuditDelta } from '../support/factories'

const projectInput = (input: unknown) => projectSettingsSchema.parse(input)
const overridesInput = (input: unknown) => rateLimitOverridesSchema.parse(input)
const errorsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((issue) => [issue.path.join('.'), issue.message])

async function setup() {
  const { owner, organization, team, project } = await createWorkspace()
  const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
  const member = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, member, 'MEMBER')
  const viewer = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, viewer, 'VIEWER')
  const other = await createWorkspace()
  return { owner, organization, project, teamAdmin, member, viewer, other }
}

describe('project settings', () => {
  test('a settings save and a transform settings save at the same time both stick', async () => {
    const { owner, project } = await setup()
    // Each save reads, changes one part and writes the whole JSON back; without one row lock a save overwrites the other.
    for (let round = 0; round < 8; round++) {
      const access = round % 2 === 0 ? 'public' : 'signed'
      await Promise.all([
        updateProjectSettings(owner.actor, project.id, projectInput({ description: `round ${round}` })),
        updateTransformSettings(owner.actor, project.id, { access, presetsOnly: false, allowAnimated: round % 2 === 0 }),
      ])
      assert.equal((await getProjectSettings(owner.actor, project.id)).description, `round ${round}`)
      assert.deepEqual(await getTransformSettings(owner.actor, project.id), { access, presetsOnly: false, allowAnimated: round % 2 === 0 })
    }
  })

  test('a new project has the defaults; a MEMBER replaces them, normalized, with before and after audited', async () => {
    const { member, viewer, project, organization } = await setup()
    assert.deepEqual(await getProjectSettings(viewer.actor, project.id), { description: '', allowedOrigins: [] })

    const input = projectInput({
      description: '  Product photos  ',
      allowedOrigins: ['https://app.example.com/', 'HTTP://LOCALHOST:3000', 'https://app.example.com', 'https://cdn.example.com:443'],
    })
    const { result, rows } = await withAuditDelta(() => updateProjectSettings(member.actor, project.id, input))
    const expected = {
      description: 'Product photos',
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000', 'https://cdn.example.com'],
    }
    assert.deepEqual(result, expected)
    assert.deepEqual(await getProjectSettings(viewer.actor, project.id), expected)
    assert.deepEqual((await prisma.project.findUniqueOrThrow({ where: { id: project.id } })).settings, expected)
    assert.deepEqual(
      rows.map((r) => [r.action, r.organizationId, r.targetId, r.before, r.after]),
      [['project.settings.update', organization.id, project.id, { description: '', allowedOrigins: [] }, expected]],
    )

    // PUT semantics: what is left out returns to its default.
    const replaced = await updateProjectSettings(member.actor, project.id, projectInput({ description: 'Only text' }))
    assert.deepEqual(replaced, { description: 'Only text', allowedOrigins: [] })
    assert.deepEqual(await getProjectSettings(member.actor, project.id), replaced)
  })

  test('a VIEWER reads but cannot change; outsiders and other projects’ keys get NOT_FOUND', async () => {
    const { owner, viewer, project, other } = await setup()
    const { error, rows } = await withAuditDelta(() => updateProjectSettings(viewer.actor, project.id, projectInput({ description: 'x' })))
    await assertAppError(Promise.reject(error), 'FORBIDDEN')
    assert.equal(rows.length, 0)
    assert.deepEqual((await prisma.project.findUniqueOrThrow({ where: { id: project.id } })).settings, {})

    await assertAppError(getProjectSettings(other.owner.actor, project.id), 'NOT_FOUND')
    await assertAppError(updateProjectSettings(other.owner.actor, project.id, projectInput({})), 'NOT_FOUND')
    const foreignKey = await createTestApiKey(other.owner.actor, other.project.id, ['admin'])
    await assertAppError(getProjectSettings(foreignKey.actor, project.id), 'NOT_FOUND')
    await assertAppError(updateProjectSettings(foreignKey.actor, project.id, projectInput({})), 'NOT_FOUND')

    // A key of the project itself works within its permissions.
    const writer = await createTestApiKey(owner.actor, project.id, ['projects:read', 'projects:write'])
    await updateProjectSettings(writer.actor, project.id, projectInput({ description: 'By key' }))
    assert.equal((await getProjectSettings(writer.actor, project.id)).description, 'By key')
    const uploader = await createTestApiKey(owner.actor, project.id, ['files:write'])
    assert.match((await assertAppError(getProjectSettings(uploader.actor, project.id), 'FORBIDDEN')).message, /projects:read/)
    assert.match(
      (await assertAppError(updateProjectSettings(uploader.actor, project.id, projectInput({})), 'FORBIDDEN')).message,
      /projects:write/,
    )
  })

  test('invalid settings are refused field by field with clear messages', () => {
    assert.deepEqual(errorsOf(projectSettingsSchema.safeParse({ description: 'x'.repeat(501) })), [
      ['description', 'Description must be at most 500 characters'],
    ])
    const origins = [
      'ftp://files.example.com',
      'https://example.com/path',
      'not a url',
      'https://user:pw@example.com',
      'https://example.com?x=1',
      'javascript:alert(1)',
    ]
    const issues = errorsOf(projectSettingsSchema.safeParse({ allowedOrigins: origins }))
    assert.deepEqual(
      issues.map(([path]) => path),
      origins.map((_, i) => `allowedOrigins.${i}`),
    )
    assert.match(issues[0]![1]!, /must start with http:\/\/ or https:\/\//)
    assert.match(issues[1]![1]!, /origin only/)
    assert.match(issues[2]![1]!, /is not a URL/)
    const tooMany = Array.from({ length: 21 }, (_, i) => `https://app${i}.example.com`)
    assert.deepEqual(errorsOf(projectSettingsSchema.safeParse({ allowedOrigins: tooMany })), [['allowedOrigins', 'At most 20 allowed origins']])
    assert.deepEqual(errorsOf(projectSettingsSchema.safeParse({ allowedOrigins: 'https://example.com' })), [
      ['allowedOrigins', 'Allowed origins must be a list of origins'],
    ])
  })

  test('stored settings that no longer pass the schema fall back to defaults, field by field', async () => {
    const { owner, project } = await setup()
    await prisma.project.update({
      where: { id: project.id },
      data: { settings: { description: 42, allowedOrigins: ['https://ok.example.com'], legacy: true } },
    })
    assert.deepEqual(await getProjectSettings(owner.actor, project.id), { description: '', allowedOrigins: ['https://ok.example.com'] })
    for (const stored of [[1, 2], 'text', { allowedOrigins: ['ftp://nope'] }]) {
      await prisma.project.update({ where: { id: project.id }, data: { settings: stored } })
      assert.deepEqual(await getProjectSettings(owner.actor, project.id), { description: '', allowedOrigins: [] }, JSON.stringify(stored))
    }
    // Updating from such data works, and the audit's "before" shows what was read.
    const { rows } = await withAuditDelta(() => updateProjectSettings(owner.actor, project.id, projectInput({ description: 'Fixed' })))
    assert.deepEqual(rows[0]?.before, { description: '', allowedOrigins: [] })
  })
})

describe('user settings', () => {
  test('defaults, then a replacement that is audited and touches only the actor’s own settings', async () => {
    const alice = await createTestUser()
    const bob = await createTestUser()
    assert.deepEqual(await getUserSettings(alice.actor), { theme: 'system', timezone: 'UTC' })

    const { result, rows } = await withAuditDelta(() =>
      updateUserSettings(alice.actor, userSettingsSchema.parse({ theme: 'dark', timezone: 'Europe/Paris' })),
    )
    assert.deepEqual(result, { theme: 'dark', timezone: 'Europe/Paris' })
    assert.deepEqual(await getUserSettings(alice.actor), { theme: 'dark', timezone: 'Europe/Paris' })
    assert.deepEqual(await getUserSettings(bob.actor), { theme: 'system', timezone: 'UTC' })
    assert.deepEqual(
      rows.map((r) => [r.action, r.actorId, r.targetId, r.before, r.after]),
      [
        [
          'user.settings.update',
          alice.user.id,
          alice.user.id,
          { theme: 'system', timezone: 'UTC' },
          { theme: 'dark', timezone: 'Europe/Paris' },
        ],
      ],
    )
    assert.deepEqual(await updateUserSettings(alice.actor, userSettingsSchema.parse({ theme: 'light' })), { theme: 'light', timezone: 'UTC' })
  })

  test('unknown themes and time zones are refused; bad stored values fall back to defaults', async () => {
    assert.deepEqual(errorsOf(userSettingsSchema.safeParse({ theme: 'blue' })), [['theme', 'Theme must be system, light or dark']])
    assert.deepEqual(errorsOf(userSettingsSchema.safeParse({ timezone: 'Mars/Olympus_Mons' })), [
      ['timezone', 'Unknown time zone; use an IANA name such as Europe/Paris or UTC'],
    ])
    assert.deepEqual(errorsOf(userSettingsSchema.safeParse({ timezone: 'A'.repeat(65) })), [
      ['timezone', 'Time zone must be at most 64 characters'],
    ])
    assert.equal(userSettingsSchema.parse({ timezone: 'America/Argentina/Buenos_Aires' }).timezone, 'America/Argentina/Buenos_Aires')

    const person = await createTestUser()
    await prisma.user.update({ where: { id: person.user.id }, data: { settings: { theme: 'neon', timezone: 'Asia/Tokyo' } } })
    assert.deepEqual(await getUserSettings(person.actor), { theme: 'system', timezone: 'Asia/Tokyo' })
  })
})

describe('rate-limit overrides', () => {
  test('none at first; owner and team ADMIN replace them (audited), MEMBER and VIEWER may only read', async () => {
    const { owner, teamAdmin, member, viewer, project, organization } = await setup()
    assert.deepEqual(await getRateLimitOverrides(viewer.actor, project.id), {})

    const { result, rows } = await withAuditDelta(() =>
      updateRateLimitOverrides(owner.actor, project.id, overridesInput({ READ: 50_000, DELETE: 10 })),
    )
    assert.deepEqual(result, { READ: 50_000, DELETE: 10 })
    assert.deepEqual(await getRateLimitOverrides(member.actor, project.id), { READ: 50_000, DELETE: 10 })
    assert.deepEqual(
      rows.map((r) => [r.action, r.organizationId, r.targetId, r.before, r.after]),
      [['project.rate_limits.update', organization.id, project.id, {}, { READ: 50_000, DELETE: 10 }]],
    )

    await updateRateLimitOverrides(teamAdmin.actor, project.id, overridesInput({ WRITE: 2_000 }))
    assert.deepEqual(await getRateLimitOverrides(owner.actor, project.id), { WRITE: 2_000 }, 'a PUT replaces the whole object')

    for (const person of [member, viewer]) {
      const { error, rows: none } = await withAuditDelta(() => updateRateLimitOverrides(person.actor, project.id, overridesInput({ READ: 1 })))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(none.length, 0)
    }
    await updateRateLimitOverrides(owner.actor, project.id, overridesInput({}))
    assert.deepEqual(await getRateLimitOverrides(owner.actor, project.id), {}, 'an empty object restores the defaults')
  })

  test('keys need admin to change them and never reach another project', async () => {
    const { owner, project, other } = await setup()
    const manager = await createTestApiKey(owner.actor, project.id, ['projects:read', 'projects:write', 'api-keys:write'])
    const refusal = await assertAppError(updateRateLimitOverrides(manager.actor, project.id, overridesInput({ READ: 5 })), 'FORBIDDEN')
    assert.match(refusal.message, /admin/)
    assert.deepEqual(await getRateLimitOverrides(manager.actor, project.id), {})

    const admin = await createTestApiKey(owner.actor, project.id, ['admin'])
    assert.deepEqual(await updateRateLimitOverrides(admin.actor, project.id, overridesInput({ EXPENSIVE: 300 })), { EXPENSIVE: 300 })

    await assertAppError(getRateLimitOverrides(admin.actor, other.project.id), 'NOT_FOUND')
    await assertAppError(updateRateLimitOverrides(admin.actor, other.project.id, overridesInput({ READ: 5 })), 'NOT_FOUND')
    assert.deepEqual(await getRateLimitOverrides(other.owner.actor, other.project.id), {})
  })

  test('only the six tiers, as whole numbers from 1 to 1,000,000 requests per hour', async () => {
    const issues = errorsOf(rateLimitOverridesSchema.safeParse({ READ: 100, BURST: 5, burst: 1 }))
    assert.deepEqual(issues, [['', 'Unknown tier BURST, burst; valid ones: READ, STANDARD, WRITE, EXPENSIVE, DELETE, ADMIN']])
    assert.deepEqual(errorsOf(rateLimitOverridesSchema.safeParse({ READ: 0 })), [['READ', 'READ must be at least 1 request per hour']])
    assert.deepEqual(errorsOf(rateLimitOverridesSchema.safeParse({ ADMIN: 1_000_001 })), [
      ['ADMIN', 'ADMIN must be at most 1,000,000 requests per hour'],
    ])
    assert.deepEqual(errorsOf(rateLimitOverridesSchema.safeParse({ WRITE: 1.5 })), [
      ['WRITE', 'WRITE must be a whole number of requests per hour'],
    ])
    assert.deepEqual(errorsOf(rateLimitOverridesSchema.safeParse({ STANDARD: '100' })), [
      ['STANDARD', 'STANDARD must be a number of requests per hour'],
    ])
    assert.deepEqual(errorsOf(rateLimitOverridesSchema.safeParse([])), [
      ['', 'Rate-limit overrides must be an object of tiers and requests per hour'],
    ])
    assert.deepEqual(rateLimitOverridesSchema.parse({ READ: 1, ADMIN: 1_000_000 }), { READ: 1, ADMIN: 1_000_000 })

    // Stored overrides are read tier by tier: an invalid or unknown entry is ignored, the rest kept.
    const { owner, project } = await setup()
    await prisma.project.update({ where: { id: project.id }, data: { rateLimitOverrides: { READ: 'lots', WRITE: 700, OLD_TIER: 3 } } })
    assert.deepEqual(await getRateLimitOverrides(owner.actor, project.id), { WRITE: 700 })
  })
})
