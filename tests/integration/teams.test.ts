import '../support/test-database'
import { DASHBOARD_PAGE } from '~/services/pagination'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { updateTeamSchema } from '~/services/workspaces/schemas'
import {
  addTeamMember,
  changeTeamMemberRole,
  deleteTeam,
  getTeamBySlug,
  listTeamMembers,
  listTeams,
  removeTeamMember,
  updateTeam,
} from '~/services/workspaces/teams.server'
import { prisma } from '~/utils/db.server'
import {
  addMember,
  addToTeam,
  assertAppError,
  createOrganizationFor,
  createProjectIn,
  createTeamIn,
  createTestUser,
  withAuditDelta,
} from '../support/factories'

const teamSettings = (name: string, slug: string) => updateTeamSchema.parse({ name, slug })

async function organizationWithOwner() {
  const owner = await createTestUser({ name: 'Owner' })
  const organization = await createOrganizationFor(owner.actor)
  return { owner, organization }
}

const teamRow = (id: string) => prisma.team.findUnique({ where: { id } })

describe('creating teams', () => {
  for (const role of ['OWNER', 'ADMIN', 'MEMBER'] as const) {
    test(`an organization ${role} creates a team and becomes its OWNER`, async () => {
      const { owner, organization } = await organizationWithOwner()
      const creator = role === 'OWNER' ? owner : await addMember(organization.id, owner.actor, role)

      const { result: team, rows } = await withAuditDelta(() => createTeamIn(creator.actor, organization.id, { name: 'Video Platform' }))
      assert.ok(team)
      assert.equal(team.slug, 'video-platform')
      assert.equal(team.organizationId, organization.id)
      const members = await prisma.teamMember.findMany({ where: { teamId: team.id } })
      assert.deepEqual(
        members.map((m) => [m.userId, m.role]),
        [[creator.user.id, 'OWNER']],
      )
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.action, 'team.create')
      assert.equal(rows[0]?.organizationId, organization.id)
      assert.deepEqual(rows[0]?.after, { name: 'Video Platform', slug: 'video-platform' })
    })
  }

  test('an organization VIEWER cannot create a team (FORBIDDEN) and nothing is created', async () => {
    const { owner, organization } = await organizationWithOwner()
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const { error, rows } = await withAuditDelta(() => createTeamIn(viewer.actor, organization.id, { name: 'Sneaky' }))
    await assertAppError(Promise.reject(error), 'FORBIDDEN')
    assert.equal(rows.length, 0)
    assert.equal(await prisma.team.count({ where: { organizationId: organization.id } }), 0)
  })

  test('slugs are unique per organization: explicit duplicates conflict, derived ones get a suffix', async () => {
    const { owner, organization } = await organizationWithOwner()
    const other = await organizationWithOwner()
    const first = await createTeamIn(owner.actor, organization.id, { name: 'Design', slug: 'design' })

    const { error, rows } = await withAuditDelta(() => createTeamIn(owner.actor, organization.id, { name: 'Design 2', slug: 'design' }))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.ok(appError.details.fieldErrors?.slug?.length)
    assert.equal(rows.length, 0)
    assert.equal(await prisma.team.count({ where: { organizationId: organization.id } }), 1)

    const derived = await createTeamIn(owner.actor, organization.id, { name: 'Design' })
    assert.match(derived.slug, /^design-[0-9a-f]{6}$/)
    const elsewhere = await createTeamIn(other.owner.actor, other.organization.id, { name: 'Design', slug: 'design' })
    assert.equal(elsewhere.slug, first.slug, 'another organization may use the same slug')
  })

  test('listTeams and getTeamBySlug work for every member, with counts', async () => {
    const { owner, organization } = await organizationWithOwner()
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const team = await createTeamIn(owner.actor, organization.id, { name: 'Alpha', slug: 'alpha' })
    await createProjectIn(owner.actor, team.id)
    await createProjectIn(owner.actor, team.id)

    const { items: teams } = await listTeams(viewer.actor, organization.id, DASHBOARD_PAGE)
    assert.deepEqual(
      teams.map((t) => [t.id, t._count.projects, t._count.members]),
      [[team.id, 2, 1]],
    )
    const access = await getTeamBySlug(viewer.actor, organization.id, 'alpha')
    assert.equal(access.team.id, team.id)
    assert.equal(access.role, 'VIEWER')
    assert.equal(access.orgRole, 'VIEWER')
    await assertAppError(getTeamBySlug(viewer.actor, organization.id, 'no-such-team'), 'NOT_FOUND')
  })
})

describe('effective team roles', () => {
  test('organization owners and admins act as such in every team; members read teams they are not in', async () => {
    const { owner, organization } = await organizationWithOwner()
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const team = await createTeamIn(owner.actor, organization.id, { slug: 'roles' })
    await addToTeam(owner.actor, team.id, viewer, 'ADMIN')

    const roleOf = async (actor: typeof owner) => (await getTeamBySlug(actor.actor, organization.id, 'roles')).role
    assert.equal(await roleOf(owner), 'OWNER')
    assert.equal(await roleOf(admin), 'ADMIN')
    assert.equal(await roleOf(member), 'VIEWER')
    assert.equal(await roleOf(viewer), 'VIEWER', 'an organization viewer stays read-only whatever the team role')

    await addToTeam(owner.actor, team.id, member, 'ADMIN')
    assert.equal(await roleOf(member), 'ADMIN')
    await addToTeam(owner.actor, team.id, admin, 'OWNER')
    assert.equal(await roleOf(admin), 'OWNER')
  })
})

describe('team settings', () => {
  test('the team OWNER (an organization MEMBER) renames the team and changes its slug', async () => {
    const { owner, organization } = await organizationWithOwner()
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const team = await createTeamIn(member.actor, organization.id, { name: 'Before', slug: 'before' })

    const { result, rows } = await withAuditDelta(() => updateTeam(member.actor, team.id, teamSettings('After', 'after')))
    assert.equal(result?.name, 'After')
    const row = await teamRow(team.id)
    assert.equal(row?.name, 'After')
    assert.equal(row?.slug, 'after')
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'team.update')
    assert.deepEqual(rows[0]?.before, { name: 'Before', slug: 'before' })
    assert.deepEqual(rows[0]?.after, { name: 'After', slug: 'after' })
  })

  test('an organization ADMIN outside the team may change it', async () => {
    const { owner, organization } = await organizationWithOwner()
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const team = await createTeamIn(owner.actor, organization.id)
    await updateTeam(admin.actor, team.id, teamSettings('By Admin', 'by-admin'))
    assert.equal((await teamRow(team.id))?.name, 'By Admin')
  })

  test('a team MEMBER, an organization MEMBER outside the team and a VIEWER cannot change it', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id, { name: 'Fixed', slug: 'fixed' })
    const teamMember = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamMember, 'MEMBER')
    const outsider = await addMember(organization.id, owner.actor, 'MEMBER')
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')

    for (const person of [teamMember, outsider, viewer]) {
      const { error, rows } = await withAuditDelta(() => updateTeam(person.actor, team.id, teamSettings('Changed', 'changed')))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
    }
    const row = await teamRow(team.id)
    assert.equal(row?.name, 'Fixed')
    assert.equal(row?.slug, 'fixed')
  })

  test("changing to another team's slug in the organization is a CONFLICT on slug", async () => {
    const { owner, organization } = await organizationWithOwner()
    await createTeamIn(owner.actor, organization.id, { slug: 'taken' })
    const team = await createTeamIn(owner.actor, organization.id, { name: 'Mine', slug: 'mine' })
    const error = await assertAppError(updateTeam(owner.actor, team.id, teamSettings('Mine', 'taken')), 'CONFLICT')
    assert.ok(error.details.fieldErrors?.slug?.length)
    assert.equal((await teamRow(team.id))?.slug, 'mine')
  })
})

describe('deleting teams', () => {
  test('the team OWNER deletes it with its projects; other teams stay', async () => {
    const { owner, organization } = await organizationWithOwner()
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const team = await createTeamIn(member.actor, organization.id)
    const other = await createTeamIn(owner.actor, organization.id)
    const project = await createProjectIn(member.actor, team.id)
    const otherProject = await createProjectIn(owner.actor, other.id)

    const { rows } = await withAuditDelta(() => deleteTeam(member.actor, team.id))
    assert.equal(await teamRow(team.id), null)
    assert.equal(await prisma.project.count({ where: { id: project.id } }), 0)
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id } }), 0)
    assert.equal(await prisma.project.count({ where: { id: otherProject.id } }), 1)
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId]),
      [['team.delete', team.id]],
    )
    assert.deepEqual(rows[0]?.before, { name: team.name, slug: team.slug })
  })

  test('an organization OWNER deletes any team', async () => {
    const { owner, organization } = await organizationWithOwner()
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const team = await createTeamIn(member.actor, organization.id)
    await deleteTeam(owner.actor, team.id)
    assert.equal(await teamRow(team.id), null)
  })

  test('an organization ADMIN deletes a team they are not in', async () => {
    const { owner, organization } = await organizationWithOwner()
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const team = await createTeamIn(owner.actor, organization.id)
    await deleteTeam(admin.actor, team.id)
    assert.equal(await teamRow(team.id), null)
  })

  test('a team ADMIN who is an organization MEMBER, a team MEMBER and a VIEWER cannot delete it', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    await createProjectIn(owner.actor, team.id)
    const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
    const teamMember = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamMember, 'MEMBER')
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    await addToTeam(owner.actor, team.id, viewer, 'OWNER')

    for (const person of [teamAdmin, teamMember, viewer]) {
      const { error, rows } = await withAuditDelta(() => deleteTeam(person.actor, team.id))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
    }
    assert.ok(await teamRow(team.id))
    assert.equal(await prisma.project.count({ where: { teamId: team.id } }), 1)
  })
})

describe('team members', () => {
  test('a team ADMIN adds an organization member; it is listed and audited', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    const lead = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, lead, 'ADMIN')
    const joiner = await addMember(organization.id, owner.actor, 'MEMBER')

    const { result, rows } = await withAuditDelta(() => addTeamMember(lead.actor, team.id, joiner.user.id, 'MEMBER'))
    assert.equal(result?.role, 'MEMBER')
    const listed = await listTeamMembers(joiner.actor, team.id)
    assert.deepEqual(
      listed.map((m) => [m.user.id, m.role]),
      [
        [owner.user.id, 'OWNER'],
        [lead.user.id, 'ADMIN'],
        [joiner.user.id, 'MEMBER'],
      ],
    )
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'team.member.add')
    assert.equal(rows[0]?.targetId, joiner.user.id)
    assert.deepEqual(rows[0]?.after, { teamId: team.id, role: 'MEMBER' })
  })

  test('someone outside the organization cannot be added: VALIDATION on userId', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    const stranger = await createTestUser()
    const { error, rows } = await withAuditDelta(() => addTeamMember(owner.actor, team.id, stranger.user.id, 'MEMBER'))
    const appError = await assertAppError(Promise.reject(error), 'VALIDATION')
    assert.ok(appError.details.fieldErrors?.userId?.length)
    assert.equal(rows.length, 0)
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id, userId: stranger.user.id } }), 0)
  })

  test('adding someone already in the team is a CONFLICT on userId and keeps their role', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, member, 'MEMBER')
    const error = await assertAppError(addTeamMember(owner.actor, team.id, member.user.id, 'ADMIN'), 'CONFLICT')
    assert.ok(error.details.fieldErrors?.userId?.length)
    assert.equal((await prisma.teamMember.findFirstOrThrow({ where: { teamId: team.id, userId: member.user.id } })).role, 'MEMBER')
  })

  test('a team MEMBER cannot add people; a team ADMIN cannot make a team OWNER', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    const teamMember = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamMember, 'MEMBER')
    const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
    const joiner = await addMember(organization.id, owner.actor, 'MEMBER')

    await assertAppError(addTeamMember(teamMember.actor, team.id, joiner.user.id, 'VIEWER'), 'FORBIDDEN')
    await assertAppError(addTeamMember(teamAdmin.actor, team.id, joiner.user.id, 'OWNER'), 'FORBIDDEN')
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id, userId: joiner.user.id } }), 0)
  })

  test('roles change within the rules: ADMIN manages below OWNER, only an OWNER touches OWNER', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    const ownerTeamMember = await prisma.teamMember.findFirstOrThrow({ where: { teamId: team.id, userId: owner.user.id } })
    const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
    const person = await addMember(organization.id, owner.actor, 'MEMBER')
    const personMember = await addToTeam(owner.actor, team.id, person, 'MEMBER')

    const { rows } = await withAuditDelta(() => changeTeamMemberRole(teamAdmin.actor, team.id, personMember.id, 'VIEWER'))
    assert.equal((await prisma.teamMember.findUniqueOrThrow({ where: { id: personMember.id } })).role, 'VIEWER')
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'team.member.update')
    assert.deepEqual(rows[0]?.before, { teamId: team.id, role: 'MEMBER' })
    assert.deepEqual(rows[0]?.after, { teamId: team.id, role: 'VIEWER' })

    await assertAppError(changeTeamMemberRole(teamAdmin.actor, team.id, personMember.id, 'OWNER'), 'FORBIDDEN')
    await assertAppError(changeTeamMemberRole(teamAdmin.actor, team.id, ownerTeamMember.id, 'MEMBER'), 'FORBIDDEN')
    await assertAppError(changeTeamMemberRole(person.actor, team.id, personMember.id, 'ADMIN'), 'FORBIDDEN')
    assert.equal((await prisma.teamMember.findUniqueOrThrow({ where: { id: ownerTeamMember.id } })).role, 'OWNER')
    assert.equal((await prisma.teamMember.findUniqueOrThrow({ where: { id: personMember.id } })).role, 'VIEWER')

    await changeTeamMemberRole(owner.actor, team.id, personMember.id, 'OWNER')
    assert.equal((await prisma.teamMember.findUniqueOrThrow({ where: { id: personMember.id } })).role, 'OWNER')
    await assertAppError(changeTeamMemberRole(owner.actor, team.id, 'no-such-member', 'MEMBER'), 'NOT_FOUND')
  })

  test('removing: ADMIN removes a MEMBER, not an OWNER; anyone may leave; a MEMBER removes nobody else', async () => {
    const { owner, organization } = await organizationWithOwner()
    const team = await createTeamIn(owner.actor, organization.id)
    const ownerTeamMember = await prisma.teamMember.findFirstOrThrow({ where: { teamId: team.id, userId: owner.user.id } })
    const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
    const a = await addMember(organization.id, owner.actor, 'MEMBER')
    const aMember = await addToTeam(owner.actor, team.id, a, 'MEMBER')
    const b = await addMember(organization.id, owner.actor, 'MEMBER')
    const bMember = await addToTeam(owner.actor, team.id, b, 'MEMBER')

    await assertAppError(removeTeamMember(a.actor, team.id, bMember.id), 'FORBIDDEN')
    await assertAppError(removeTeamMember(teamAdmin.actor, team.id, ownerTeamMember.id), 'FORBIDDEN')
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id } }), 4)

    const removed = await withAuditDelta(() => removeTeamMember(teamAdmin.actor, team.id, bMember.id))
    assert.deepEqual(
      removed.rows.map((r) => [r.action, r.targetId]),
      [['team.member.remove', b.user.id]],
    )
    assert.deepEqual(removed.rows[0]?.before, { teamId: team.id, role: 'MEMBER' })
    assert.equal(await prisma.teamMember.count({ where: { id: bMember.id } }), 0)
    assert.equal(
      await prisma.organizationMember.count({ where: { organizationId: organization.id, userId: b.user.id } }),
      1,
      'still in the organization',
    )

    await removeTeamMember(a.actor, team.id, aMember.id)
    assert.equal(await prisma.teamMember.count({ where: { id: aMember.id } }), 0)
    await assertAppError(removeTeamMember(owner.actor, team.id, aMember.id), 'NOT_FOUND')
  })
})
