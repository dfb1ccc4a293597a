import '../support/test-database'
import { DASHBOARD_PAGE } from '~/services/pagination'
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import {
  acceptInvitation,
  createInvitation,
  declineInvitation,
  listPendingInvitations,
  revokeInvitation,
} from '~/services/workspaces/invitations.server'
import { changeMemberRole, listOrganizationMembers, removeMember } from '~/services/workspaces/members.server'
import { deleteOrganization, getOrganizationBySlug, listOrganizations, updateOrganization } from '~/services/workspaces/organizations.server'
import { createProject, deleteProject, getProjectBySlug, listProjects, updateProject } from '~/services/workspaces/projects.server'
import {
  createProjectSchema,
  createTeamSchema,
  updateOrganizationSchema,
  updateProjectSchema,
  updateTeamSchema,
} from '~/services/workspaces/schemas'
import {
  addTeamMember,
  changeTeamMemberRole,
  createTeam,
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
  type TestUser,
} from '../support/factories'

/** Everything stored about one organization, in a stable order, to compare before and after. */
async function snapshot(organizationId: string) {
  const teams = await prisma.team.findMany({ where: { organizationId }, orderBy: { id: 'asc' } })
  const teamIds = teams.map((t) => t.id)
  return {
    organization: await prisma.organization.findUnique({ where: { id: organizationId } }),
    members: await prisma.organizationMember.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
    invitations: await prisma.invitation.findMany({ where: { organizationId }, orderBy: { id: 'asc' } }),
    teams,
    teamMembers: await prisma.teamMember.findMany({ where: { teamId: { in: teamIds } }, orderBy: { id: 'asc' } }),
    projects: await prisma.project.findMany({ where: { teamId: { in: teamIds } }, orderBy: { id: 'asc' } }),
    auditEntries: await prisma.auditLog.count({ where: { organizationId } }),
  }
}

type Fixture = Awaited<ReturnType<typeof buildFixture>>

async function buildFixture() {
  // Organization A: the intruder's own, with names that differ from B's so a slug lookup cannot hit.
  const intruder = await createTestUser({ name: 'Intruder' })
  const orgA = await createOrganizationFor(intruder.actor, { name: 'Alpha Org' })
  const teamA = await createTeamIn(intruder.actor, orgA.id, { name: 'Alpha Team', slug: 'alpha-team' })
  const projectA = await createProjectIn(intruder.actor, teamA.id, { name: 'Alpha Project', slug: 'alpha-project' })

  // Organization B: the target, with something of every kind.
  const ownerB = await createTestUser({ name: 'Owner B' })
  const orgB = await createOrganizationFor(ownerB.actor, { name: 'Beta Secret Org' })
  const memberB = await addMember(orgB.id, ownerB.actor, 'MEMBER')
  const teamB = await createTeamIn(ownerB.actor, orgB.id, { name: 'Beta Team', slug: 'beta-team' })
  const teamMemberB = await addToTeam(ownerB.actor, teamB.id, memberB, 'MEMBER')
  const projectB = await createProjectIn(ownerB.actor, teamB.id, { name: 'Beta Project', slug: 'beta-project' })
  const { invitation: invitationB } = await createInvitation(ownerB.actor, orgB.id, 'ADMIN')
  const ownerMemberB = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: orgB.id, userId: ownerB.user.id } })

  return { intruder, orgA, teamA, projectA, ownerB, orgB, memberB, ownerMemberB, teamB, teamMemberB, projectB, invitationB }
}

describe('cross-organization isolation', () => {
  let f: Fixture
  let baseline: Awaited<ReturnType<typeof snapshot>>
  let auditTotal: number

  before(async () => {
    f = await buildFixture()
    baseline = await snapshot(f.orgB.id)
    auditTotal = await prisma.auditLog.count()
  })

  /** Each call must answer NOT_FOUND (never FORBIDDEN), say nothing about B, and change nothing anywhere. */
  function refused(name: string, call: (f: Fixture) => Promise<unknown>) {
    test(`${name}: NOT_FOUND and nothing in B changes`, async () => {
      const error = await assertAppError(call(f), 'NOT_FOUND')
      for (const secret of [f.orgB.name, f.orgB.slug, f.teamB.name, f.projectB.name, f.ownerB.user.email]) {
        assert.ok(!error.message.includes(secret), `the message leaks ${secret}: ${error.message}`)
      }
      assert.ok(!/role/i.test(error.message), `the message talks about roles: ${error.message}`)
      assert.deepEqual(await snapshot(f.orgB.id), baseline)
      assert.equal(await prisma.auditLog.count(), auditTotal, 'a refused call writes no audit entry')
    })
  }

  // Organization
  refused('getOrganizationBySlug on B', (f) => getOrganizationBySlug(f.intruder.actor, f.orgB.slug))
  refused('updateOrganization on B', (f) =>
    updateOrganization(f.intruder.actor, f.orgB.id, updateOrganizationSchema.parse({ name: 'Pwned', slug: 'pwned' })),
  )
  refused('deleteOrganization on B', (f) => deleteOrganization(f.intruder.actor, f.orgB.id))

  // Members
  refused('listOrganizationMembers of B', (f) => listOrganizationMembers(f.intruder.actor, f.orgB.id))
  refused('changeMemberRole in B', (f) => changeMemberRole(f.intruder.actor, f.orgB.id, f.memberB.member.id, 'VIEWER'))
  refused('changeMemberRole of B’s owner in B', (f) => changeMemberRole(f.intruder.actor, f.orgB.id, f.ownerMemberB.id, 'VIEWER'))
  refused('removeMember in B', (f) => removeMember(f.intruder.actor, f.orgB.id, f.memberB.member.id))
  refused('changeMemberRole of a B member through A', (f) => changeMemberRole(f.intruder.actor, f.orgA.id, f.memberB.member.id, 'VIEWER'))
  refused('removeMember of a B member through A', (f) => removeMember(f.intruder.actor, f.orgA.id, f.memberB.member.id))
  refused('removeMember of B’s owner through A', (f) => removeMember(f.intruder.actor, f.orgA.id, f.ownerMemberB.id))

  // Invitations
  refused('createInvitation in B', (f) => createInvitation(f.intruder.actor, f.orgB.id, 'OWNER'))
  refused('listPendingInvitations of B', (f) => listPendingInvitations(f.intruder.actor, f.orgB.id))
  refused('revokeInvitation in B', (f) => revokeInvitation(f.intruder.actor, f.orgB.id, f.invitationB.id))
  refused('revokeInvitation of a B invitation through A', (f) => revokeInvitation(f.intruder.actor, f.orgA.id, f.invitationB.id))

  // Teams
  refused('listTeams of B', (f) => listTeams(f.intruder.actor, f.orgB.id, DASHBOARD_PAGE))
  refused('getTeamBySlug in B', (f) => getTeamBySlug(f.intruder.actor, f.orgB.id, f.teamB.slug))
  refused('getTeamBySlug of a B team through A', (f) => getTeamBySlug(f.intruder.actor, f.orgA.id, f.teamB.slug))
  refused('createTeam in B', (f) => createTeam(f.intruder.actor, f.orgB.id, createTeamSchema.parse({ name: 'Implant' })))
  refused('updateTeam in B', (f) => updateTeam(f.intruder.actor, f.teamB.id, updateTeamSchema.parse({ name: 'Pwned', slug: 'pwned' })))
  refused('deleteTeam in B', (f) => deleteTeam(f.intruder.actor, f.teamB.id))
  refused('listTeamMembers in B', (f) => listTeamMembers(f.intruder.actor, f.teamB.id))
  refused('addTeamMember (self) to a B team', (f) => addTeamMember(f.intruder.actor, f.teamB.id, f.intruder.user.id, 'OWNER'))
  refused('addTeamMember (B member) to a B team', (f) => addTeamMember(f.intruder.actor, f.teamB.id, f.memberB.user.id, 'ADMIN'))
  refused('changeTeamMemberRole in B', (f) => changeTeamMemberRole(f.intruder.actor, f.teamB.id, f.teamMemberB.id, 'OWNER'))
  refused('removeTeamMember in B', (f) => removeTeamMember(f.intruder.actor, f.teamB.id, f.teamMemberB.id))
  refused('changeTeamMemberRole of a B team member through A', (f) =>
    changeTeamMemberRole(f.intruder.actor, f.teamA.id, f.teamMemberB.id, 'OWNER'),
  )
  refused('removeTeamMember of a B team member through A', (f) => removeTeamMember(f.intruder.actor, f.teamA.id, f.teamMemberB.id))

  // Projects
  refused('listProjects in B', (f) => listProjects(f.intruder.actor, f.teamB.id, DASHBOARD_PAGE))
  refused('getProjectBySlug in B', (f) => getProjectBySlug(f.intruder.actor, f.teamB.id, f.projectB.slug))
  refused('getProjectBySlug of a B project through A', (f) => getProjectBySlug(f.intruder.actor, f.teamA.id, f.projectB.slug))
  refused('createProject in B', (f) => createProject(f.intruder.actor, f.teamB.id, createProjectSchema.parse({ name: 'Implant' })))
  refused('updateProject in B', (f) =>
    updateProject(f.intruder.actor, f.projectB.id, updateProjectSchema.parse({ name: 'Pwned', slug: 'pwned' })),
  )
  refused('deleteProject in B', (f) => deleteProject(f.intruder.actor, f.projectB.id))

  test('lists show only A', async () => {
    assert.deepEqual(
      (await listOrganizations(f.intruder.actor, DASHBOARD_PAGE)).items.map((o) => o.id),
      [f.orgA.id],
    )
    assert.deepEqual(
      (await listTeams(f.intruder.actor, f.orgA.id, DASHBOARD_PAGE)).items.map((t) => t.id),
      [f.teamA.id],
    )
    assert.deepEqual(
      (await listProjects(f.intruder.actor, f.teamA.id, DASHBOARD_PAGE)).items.map((p) => p.id),
      [f.projectA.id],
    )
    assert.deepEqual(
      (await listOrganizationMembers(f.intruder.actor, f.orgA.id)).map((m) => m.user.id),
      [f.intruder.user.id],
    )
  })

  test('a B member cannot be pulled into an A team: VALIDATION, and A’s team is unchanged', async () => {
    const before = await prisma.teamMember.findMany({ where: { teamId: f.teamA.id }, orderBy: { id: 'asc' } })
    await assertAppError(addTeamMember(f.intruder.actor, f.teamA.id, f.memberB.user.id, 'MEMBER'), 'VALIDATION')
    assert.deepEqual(await prisma.teamMember.findMany({ where: { teamId: f.teamA.id }, orderBy: { id: 'asc' } }), before)
    assert.deepEqual(await snapshot(f.orgB.id), baseline)
  })

  test('B’s owner can still do everything in B afterwards (the fixture is sound)', async () => {
    assert.ok(baseline.organization)
    assert.deepEqual(
      [baseline.members.length, baseline.invitations.length, baseline.teams.length, baseline.teamMembers.length, baseline.projects.length],
      [2, 2, 1, 2, 1],
    )
    const found = await getOrganizationBySlug(f.ownerB.actor, f.orgB.slug)
    assert.equal(found.role, 'OWNER')
    assert.equal((await listProjects(f.memberB.actor, f.teamB.id, DASHBOARD_PAGE)).items.length, 1)
  })
})

describe('membership is what grants access', () => {
  async function organizationWithProject() {
    const owner = await createTestUser({ name: 'Owner' })
    const organization = await createOrganizationFor(owner.actor)
    const team = await createTeamIn(owner.actor, organization.id)
    const project = await createProjectIn(owner.actor, team.id)
    return { owner, organization, team, project }
  }

  async function assertLockedOut(person: TestUser, o: Awaited<ReturnType<typeof organizationWithProject>>) {
    await assertAppError(getOrganizationBySlug(person.actor, o.organization.slug), 'NOT_FOUND')
    await assertAppError(listTeams(person.actor, o.organization.id, DASHBOARD_PAGE), 'NOT_FOUND')
    await assertAppError(listProjects(person.actor, o.team.id, DASHBOARD_PAGE), 'NOT_FOUND')
    await assertAppError(getProjectBySlug(person.actor, o.team.id, o.project.slug), 'NOT_FOUND')
    await assertAppError(deleteProject(person.actor, o.project.id), 'NOT_FOUND')
    assert.equal(await prisma.project.count({ where: { id: o.project.id } }), 1)
  }

  test('someone holding a pending or declined invitation is not a member yet', async () => {
    const o = await organizationWithProject()
    const invitee = await createTestUser()
    const pending = await createInvitation(o.owner.actor, o.organization.id, 'ADMIN')
    await assertLockedOut(invitee, o)
    await declineInvitation(invitee.actor, pending.token)
    await assertLockedOut(invitee, o)
  })

  test('a removed member loses access at once, with NOT_FOUND', async () => {
    const o = await organizationWithProject()
    const admin = await addMember(o.organization.id, o.owner.actor, 'ADMIN')
    assert.equal((await listProjects(admin.actor, o.team.id, DASHBOARD_PAGE)).items.length, 1)
    await removeMember(o.owner.actor, o.organization.id, admin.member.id)
    await assertLockedOut(admin, o)
  })

  test('membership in one organization grants nothing in another', async () => {
    const first = await organizationWithProject()
    const second = await organizationWithProject()
    const person = await addMember(first.organization.id, first.owner.actor, 'OWNER')
    await assertLockedOut(person, second)

    // Accepting an invitation to the second organization opens exactly that one.
    const { token } = await createInvitation(second.owner.actor, second.organization.id, 'VIEWER')
    await acceptInvitation(person.actor, token)
    const found = await getOrganizationBySlug(person.actor, second.organization.slug)
    assert.equal(found.role, 'VIEWER')
    await assertAppError(deleteProject(person.actor, second.project.id), 'FORBIDDEN')
  })
})
