import '../support/test-database'
import { DASHBOARD_PAGE } from '~/services/pagination'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { organizationCapabilities } from '~/services/workspaces/access.server'
import { createInvitation } from '~/services/workspaces/invitations.server'
import { changeMemberRole, listOrganizationMembers, removeMember } from '~/services/workspaces/members.server'
import { deleteOrganization, getOrganizationBySlug, listOrganizations, updateOrganization } from '~/services/workspaces/organizations.server'
import { updateOrganizationSchema } from '~/services/workspaces/schemas'
import { prisma } from '~/utils/db.server'
import {
  addMember,
  addToTeam,
  assertAppError,
  auditEntries,
  createOrganizationFor,
  createProjectIn,
  createTeamIn,
  createTestUser,
  withAuditDelta,
} from '../support/factories'

const settings = (name: string, slug: string) => updateOrganizationSchema.parse({ name, slug })
const uniqueSlug = (base: string) => `${base}-${Math.random().toString(36).slice(2, 8)}`

describe('creating organizations', () => {
  test('the creator becomes its only member, as OWNER, and the slug is derived from the name', async () => {
    const { user, actor } = await createTestUser()
    const name = `Acme Média, Inc. ${Math.random().toString(36).slice(2, 6)}`
    const organization = await createOrganizationFor(actor, { name })

    assert.equal(organization.name, name)
    assert.equal(organization.slug, `acme-media-inc-${name.slice(-4)}`)
    const members = await prisma.organizationMember.findMany({ where: { organizationId: organization.id } })
    assert.deepEqual(
      members.map((m) => [m.userId, m.role]),
      [[user.id, 'OWNER']],
    )

    const { items: listed } = await listOrganizations(actor, DASHBOARD_PAGE)
    assert.deepEqual(
      listed.map((o) => [o.id, o.role]),
      [[organization.id, 'OWNER']],
    )
    const found = await getOrganizationBySlug(actor, organization.slug)
    assert.equal(found.organization.id, organization.id)
    assert.equal(found.role, 'OWNER')
  })

  test('an explicit slug that is taken is a CONFLICT on the slug field, and nothing is created', async () => {
    const first = await createTestUser()
    const second = await createTestUser()
    const slug = uniqueSlug('taken')
    await createOrganizationFor(first.actor, { slug })
    const organizationsBefore = await prisma.organization.count()

    const { error, rows } = await withAuditDelta(() => createOrganizationFor(second.actor, { name: 'Second', slug }))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.ok(appError.details.fieldErrors?.slug?.length)
    assert.equal(rows.length, 0)
    assert.equal(await prisma.organization.count(), organizationsBefore)
    assert.equal(await prisma.organizationMember.count({ where: { userId: second.user.id } }), 0)
  })

  test('a derived slug that is taken gets a random suffix', async () => {
    const first = await createTestUser()
    const second = await createTestUser()
    const name = `Globex ${Math.random().toString(36).slice(2, 8)}`
    const a = await createOrganizationFor(first.actor, { name })
    const b = await createOrganizationFor(second.actor, { name })
    assert.notEqual(a.slug, b.slug)
    assert.match(b.slug, new RegExp(`^${a.slug}-[0-9a-f]{6}$`))
  })

  test('a name whose slug is reserved or too short still gets a valid slug', async () => {
    const { actor } = await createTestUser()
    const reserved = await createOrganizationFor(actor, { name: 'New' })
    assert.match(reserved.slug, /^new-[0-9a-f]{6}$/)
    const symbols = await createOrganizationFor(actor, { name: '!!' })
    assert.match(symbols.slug, /^org(-[0-9a-f]{6})?$/)
  })

  test('creating writes one organization.create audit entry', async () => {
    const { user, actor } = await createTestUser()
    const slug = uniqueSlug('audited')
    const { result, rows } = await withAuditDelta(() => createOrganizationFor(actor, { name: 'Audited', slug }))
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'organization.create')
    assert.equal(rows[0]?.organizationId, result?.id)
    assert.equal(rows[0]?.actorId, user.id)
    assert.deepEqual(rows[0]?.after, { name: 'Audited', slug })
  })
})

describe('organization settings', () => {
  test('OWNER and ADMIN rename and change the slug; the change is audited with before and after', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')

    const byOwner = await updateOrganization(owner.actor, organization.id, settings('Renamed By Owner', uniqueSlug('by-owner')))
    assert.equal(byOwner.name, 'Renamed By Owner')

    const newSlug = uniqueSlug('by-admin')
    const { result, rows } = await withAuditDelta(() => updateOrganization(admin.actor, organization.id, settings('Renamed By Admin', newSlug)))
    assert.equal(result?.slug, newSlug)
    const row = await prisma.organization.findUniqueOrThrow({ where: { id: organization.id } })
    assert.equal(row.name, 'Renamed By Admin')
    assert.equal(row.slug, newSlug)
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'organization.update')
    assert.equal(rows[0]?.actorId, admin.user.id)
    assert.deepEqual(rows[0]?.before, { name: 'Renamed By Owner', slug: byOwner.slug })
    assert.deepEqual(rows[0]?.after, { name: 'Renamed By Admin', slug: newSlug })
    await assertAppError(getOrganizationBySlug(owner.actor, organization.slug), 'NOT_FOUND')
  })

  for (const role of ['MEMBER', 'VIEWER'] as const) {
    test(`${role} cannot change settings: FORBIDDEN, nothing changes, nothing is audited`, async () => {
      const owner = await createTestUser()
      const organization = await createOrganizationFor(owner.actor)
      const member = await addMember(organization.id, owner.actor, role)

      const { error, rows } = await withAuditDelta(() =>
        updateOrganization(member.actor, organization.id, settings('Hijacked', uniqueSlug('hijacked'))),
      )
      const appError = await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.match(appError.message, new RegExp(`Your role is ${role}`))
      assert.equal(rows.length, 0)
      const row = await prisma.organization.findUniqueOrThrow({ where: { id: organization.id } })
      assert.equal(row.name, organization.name)
      assert.equal(row.slug, organization.slug)
    })
  }

  test("changing to another organization's slug is a CONFLICT on slug and changes nothing", async () => {
    const owner = await createTestUser()
    const mine = await createOrganizationFor(owner.actor)
    const other = await createOrganizationFor((await createTestUser()).actor)

    const { error, rows } = await withAuditDelta(() => updateOrganization(owner.actor, mine.id, settings('New Name', other.slug)))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.ok(appError.details.fieldErrors?.slug?.length)
    assert.equal(rows.length, 0)
    const row = await prisma.organization.findUniqueOrThrow({ where: { id: mine.id } })
    assert.equal(row.name, mine.name)
    assert.equal(row.slug, mine.slug)
  })
})

describe('deleting organizations', () => {
  for (const role of ['ADMIN', 'MEMBER', 'VIEWER'] as const) {
    test(`${role} cannot delete the organization: FORBIDDEN and everything stays`, async () => {
      const owner = await createTestUser()
      const organization = await createOrganizationFor(owner.actor)
      const team = await createTeamIn(owner.actor, organization.id)
      await createProjectIn(owner.actor, team.id)
      const member = await addMember(organization.id, owner.actor, role)

      const { error, rows } = await withAuditDelta(() => deleteOrganization(member.actor, organization.id))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
      assert.equal(await prisma.organization.count({ where: { id: organization.id } }), 1)
      assert.equal(await prisma.team.count({ where: { organizationId: organization.id } }), 1)
      assert.equal(await prisma.project.count({ where: { teamId: team.id } }), 1)
      assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id } }), 2)
    })
  }

  test('the OWNER deletes it, with its members, invitations, teams, team members and projects', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const keep = await createOrganizationFor(owner.actor)
    const keptTeam = await createTeamIn(owner.actor, keep.id)
    const team = await createTeamIn(owner.actor, organization.id)
    const project = await createProjectIn(owner.actor, team.id)
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, member, 'MEMBER')
    await createInvitation(owner.actor, organization.id, 'VIEWER')

    const { rows } = await withAuditDelta(() => deleteOrganization(owner.actor, organization.id))

    assert.equal(await prisma.organization.count({ where: { id: organization.id } }), 0)
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id } }), 0)
    assert.equal(await prisma.invitation.count({ where: { organizationId: organization.id } }), 0)
    assert.equal(await prisma.team.count({ where: { id: team.id } }), 0)
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id } }), 0)
    assert.equal(await prisma.project.count({ where: { id: project.id } }), 0)
    // The users and the owner's other organization are untouched.
    assert.equal(await prisma.user.count({ where: { id: { in: [owner.user.id, member.user.id] } } }), 2)
    assert.equal(await prisma.team.count({ where: { id: keptTeam.id } }), 1)
    assert.deepEqual(
      (await listOrganizations(owner.actor, DASHBOARD_PAGE)).items.map((o) => o.id),
      [keep.id],
    )

    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'organization.delete')
    assert.equal(rows[0]?.organizationId, organization.id)
    assert.deepEqual(rows[0]?.before, { name: organization.name, slug: organization.slug })
    // Audit entries outlive what they describe.
    assert.ok((await auditEntries({ organizationId: organization.id })).length >= 5)
  })
})

describe('organization members', () => {
  test('members are listed with their roles for any member, including VIEWER', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const members = await listOrganizationMembers(viewer.actor, organization.id)
    assert.deepEqual(
      members.map((m) => [m.user.id, m.role]),
      [
        [owner.user.id, 'OWNER'],
        [viewer.user.id, 'VIEWER'],
      ],
    )
    assert.ok(members.every((m) => !('passwordHash' in m.user)))
  })

  test('an ADMIN changes a MEMBER to VIEWER and back; the change is audited', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const member = await addMember(organization.id, owner.actor, 'MEMBER')

    const { result, rows } = await withAuditDelta(() => changeMemberRole(admin.actor, organization.id, member.member.id, 'VIEWER'))
    assert.equal(result?.role, 'VIEWER')
    assert.equal((await prisma.organizationMember.findUniqueOrThrow({ where: { id: member.member.id } })).role, 'VIEWER')
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'organization.member.update')
    assert.equal(rows[0]?.targetId, member.user.id)
    assert.deepEqual(rows[0]?.before, { role: 'MEMBER' })
    assert.deepEqual(rows[0]?.after, { role: 'VIEWER' })
    await changeMemberRole(admin.actor, organization.id, member.member.id, 'ADMIN')
    assert.equal((await prisma.organizationMember.findUniqueOrThrow({ where: { id: member.member.id } })).role, 'ADMIN')
  })

  test('an ADMIN can neither grant OWNER nor change an OWNER', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })

    const grant = await withAuditDelta(() => changeMemberRole(admin.actor, organization.id, member.member.id, 'OWNER'))
    await assertAppError(Promise.reject(grant.error), 'FORBIDDEN')
    const selfPromote = await withAuditDelta(() => changeMemberRole(admin.actor, organization.id, admin.member.id, 'OWNER'))
    await assertAppError(Promise.reject(selfPromote.error), 'FORBIDDEN')
    const demoteOwner = await withAuditDelta(() => changeMemberRole(admin.actor, organization.id, ownerMember.id, 'VIEWER'))
    await assertAppError(Promise.reject(demoteOwner.error), 'FORBIDDEN')
    assert.equal(grant.rows.length + selfPromote.rows.length + demoteOwner.rows.length, 0)

    const roles = await prisma.organizationMember.findMany({ where: { organizationId: organization.id }, orderBy: { createdAt: 'asc' } })
    assert.deepEqual(
      roles.map((m) => m.role),
      ['OWNER', 'ADMIN', 'MEMBER'],
    )
  })

  for (const role of ['MEMBER', 'VIEWER'] as const) {
    test(`${role} cannot change roles`, async () => {
      const owner = await createTestUser()
      const organization = await createOrganizationFor(owner.actor)
      const actor = await addMember(organization.id, owner.actor, role)
      const other = await addMember(organization.id, owner.actor, 'VIEWER')
      await assertAppError(changeMemberRole(actor.actor, organization.id, other.member.id, 'MEMBER'), 'FORBIDDEN')
      await assertAppError(changeMemberRole(actor.actor, organization.id, actor.member.id, 'ADMIN'), 'FORBIDDEN')
      assert.equal((await prisma.organizationMember.findUniqueOrThrow({ where: { id: other.member.id } })).role, 'VIEWER')
      assert.equal((await prisma.organizationMember.findUniqueOrThrow({ where: { id: actor.member.id } })).role, role)
    })
  }

  test('the last OWNER cannot be demoted (CONFLICT); with a second owner, one can step down', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })

    const { error, rows } = await withAuditDelta(() => changeMemberRole(owner.actor, organization.id, ownerMember.id, 'ADMIN'))
    await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.equal(rows.length, 0)
    assert.equal((await prisma.organizationMember.findUniqueOrThrow({ where: { id: ownerMember.id } })).role, 'OWNER')

    const second = await addMember(organization.id, owner.actor, 'ADMIN')
    await changeMemberRole(owner.actor, organization.id, second.member.id, 'OWNER')
    await changeMemberRole(owner.actor, organization.id, ownerMember.id, 'ADMIN')
    assert.equal((await prisma.organizationMember.findUniqueOrThrow({ where: { id: ownerMember.id } })).role, 'ADMIN')
    await assertAppError(changeMemberRole(second.actor, organization.id, second.member.id, 'MEMBER'), 'CONFLICT')
  })

  test('two owners demoting each other at once leave one owner', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const second = await addMember(organization.id, owner.actor, 'OWNER')
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })

    const results = await Promise.allSettled([
      changeMemberRole(owner.actor, organization.id, second.member.id, 'ADMIN'),
      changeMemberRole(second.actor, organization.id, ownerMember.id, 'ADMIN'),
    ])
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id, role: 'OWNER' } }), 1)
  })

  test('two owners leaving at once leave one owner', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const second = await addMember(organization.id, owner.actor, 'OWNER')
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })

    const results = await Promise.allSettled([
      removeMember(owner.actor, organization.id, ownerMember.id),
      removeMember(second.actor, organization.id, second.member.id),
    ])
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id, role: 'OWNER' } }), 1)
  })

  test('an unknown member id is NOT_FOUND', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    await assertAppError(changeMemberRole(owner.actor, organization.id, 'no-such-member', 'ADMIN'), 'NOT_FOUND')
    await assertAppError(removeMember(owner.actor, organization.id, 'no-such-member'), 'NOT_FOUND')
  })

  test('an ADMIN removes a MEMBER, whose team memberships in the organization go too', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const otherOrganization = await createOrganizationFor(owner.actor)
    const team = await createTeamIn(owner.actor, organization.id)
    const otherTeam = await createTeamIn(owner.actor, otherOrganization.id)
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    await addMember(otherOrganization.id, owner.actor, 'MEMBER', member)
    await addToTeam(owner.actor, team.id, member, 'ADMIN')
    await addToTeam(owner.actor, otherTeam.id, member, 'MEMBER')

    const { rows } = await withAuditDelta(() => removeMember(admin.actor, organization.id, member.member.id))
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id, userId: member.user.id } }), 0)
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id, userId: member.user.id } }), 0)
    assert.equal(
      await prisma.teamMember.count({ where: { teamId: otherTeam.id, userId: member.user.id } }),
      1,
      'other organizations are untouched',
    )
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: otherOrganization.id, userId: member.user.id } }), 1)
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId]),
      [['organization.member.remove', member.user.id]],
    )
    await assertAppError(getOrganizationBySlug(member.actor, organization.slug), 'NOT_FOUND')
  })

  test('a MEMBER cannot remove others; an ADMIN cannot remove an OWNER', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })

    await assertAppError(removeMember(member.actor, organization.id, viewer.member.id), 'FORBIDDEN')
    await assertAppError(removeMember(member.actor, organization.id, admin.member.id), 'FORBIDDEN')
    await assertAppError(removeMember(admin.actor, organization.id, ownerMember.id), 'FORBIDDEN')
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id } }), 4)
  })

  test('members may leave on their own; the last OWNER may not (CONFLICT)', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })

    const { rows } = await withAuditDelta(() => removeMember(viewer.actor, organization.id, viewer.member.id))
    assert.deepEqual(
      rows.map((r) => [r.action, r.actorId, r.targetId]),
      [['organization.member.leave', viewer.user.id, viewer.user.id]],
    )
    assert.equal(await prisma.organizationMember.count({ where: { id: viewer.member.id } }), 0)

    const leave = await withAuditDelta(() => removeMember(owner.actor, organization.id, ownerMember.id))
    await assertAppError(Promise.reject(leave.error), 'CONFLICT')
    assert.equal(leave.rows.length, 0)
    assert.equal(await prisma.organizationMember.count({ where: { id: ownerMember.id } }), 1)

    const second = await addMember(organization.id, owner.actor, 'OWNER')
    await removeMember(owner.actor, organization.id, ownerMember.id)
    assert.deepEqual(
      (await prisma.organizationMember.findMany({ where: { organizationId: organization.id } })).map((m) => [m.userId, m.role]),
      [[second.user.id, 'OWNER']],
    )
  })
})

describe('capabilities: what the pages offer is what the services allow', () => {
  test('for every organization role, each flag of organizationCapabilities matches the service outcome', async () => {
    for (const role of ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'] as const) {
      const owner = await createTestUser()
      const organization = await createOrganizationFor(owner.actor)
      const person = role === 'OWNER' ? owner : await addMember(organization.id, owner.actor, role)
      const can = organizationCapabilities(role)
      const outcome = async (work: Promise<unknown>) =>
        work.then(
          () => true,
          () => false,
        )
      assert.equal(await outcome(createTeamIn(person.actor, organization.id)), can.canCreateTeams, `${role} creates teams`)
      assert.equal(await outcome(createInvitation(person.actor, organization.id, 'VIEWER')), can.canManageMembers, `${role} invites`)
      assert.equal(
        await outcome(updateOrganization(person.actor, organization.id, settings('Renamed', uniqueSlug('renamed')))),
        can.canEdit,
        `${role} edits`,
      )
      assert.equal(await outcome(deleteOrganization(person.actor, organization.id)), can.canDelete, `${role} deletes`)
    }
  })
})
