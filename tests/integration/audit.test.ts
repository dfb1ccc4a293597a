import { testDatabaseUrl } from '../support/test-database'
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, test } from 'node:test'
import pg from 'pg'
import type { UserActor } from '~/services/actor'
import { changePasswordSchema, registerSchema, updateProfileSchema } from '~/services/accounts/schemas'
import { createSession, getSessionUser, revokeSession, sessionIdFor } from '~/services/accounts/sessions.server'
import { changePassword, registerUser, updateProfile } from '~/services/accounts/users.server'
import { acceptInvitation, createInvitation, revokeInvitation } from '~/services/workspaces/invitations.server'
import { changeMemberRole, removeMember } from '~/services/workspaces/members.server'
import { deleteOrganization, updateOrganization } from '~/services/workspaces/organizations.server'
import { deleteProject, updateProject } from '~/services/workspaces/projects.server'
import { updateOrganizationSchema, updateProjectSchema, updateTeamSchema } from '~/services/workspaces/schemas'
import { addTeamMember, changeTeamMemberRole, deleteTeam, removeTeamMember, updateTeam } from '~/services/workspaces/teams.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import {
  addMember,
  addToTeam,
  assertAppError,
  createProjectIn,
  createTeamIn,
  createTestUser,
  createWorkspace,
  testMeta,
  uniqueEmail,
  withAuditDelta,
} from '../support/factories'

/** Asserts the call wrote exactly one audit entry, by `actor`, with the request's IP and agent. */
async function assertOneEntry<T>(
  actor: UserActor,
  expected: { action: string; organizationId?: string | null; targetId?: string },
  fn: () => Promise<T>,
) {
  const { result, error, rows } = await withAuditDelta(fn)
  if (error) throw error
  assert.equal(rows.length, 1, `expected one audit entry, got ${rows.map((r) => r.action).join(', ') || 'none'}`)
  const [row] = rows
  assert.equal(row?.action, expected.action)
  assert.equal(row?.actorType, 'user')
  assert.equal(row?.actorId, actor.userId)
  assert.equal(row?.ipAddress, actor.ipAddress)
  assert.equal(row?.userAgent, actor.userAgent)
  if (expected.organizationId !== undefined) assert.equal(row?.organizationId, expected.organizationId)
  if (expected.targetId !== undefined) assert.equal(row?.targetId, expected.targetId)
  return result as T
}

describe('every mutation writes exactly one audit entry', () => {
  test('organization, team, project, member and invitation mutations', async () => {
    const owner = await createTestUser({ meta: { ipAddress: '192.0.2.1', userAgent: 'owner-browser' } })
    const { organization, team, project } = await createWorkspace({ owner })
    const o = organization.id
    const joiner = await createTestUser({ meta: { ipAddress: '192.0.2.2', userAgent: 'joiner-browser' } })

    const { invitation, token } = await assertOneEntry(owner.actor, { action: 'invitation.create', organizationId: o }, () =>
      createInvitation(owner.actor, o, 'MEMBER'),
    )
    await assertOneEntry(joiner.actor, { action: 'invitation.accept', organizationId: o, targetId: invitation.id }, () =>
      acceptInvitation(joiner.actor, token),
    )
    const joinerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: o, userId: joiner.user.id } })
    await assertOneEntry(owner.actor, { action: 'organization.member.update', organizationId: o, targetId: joiner.user.id }, () =>
      changeMemberRole(owner.actor, o, joinerMember.id, 'ADMIN'),
    )
    const other = await createInvitation(owner.actor, o, 'VIEWER')
    await assertOneEntry(owner.actor, { action: 'invitation.revoke', organizationId: o, targetId: other.invitation.id }, () =>
      revokeInvitation(owner.actor, o, other.invitation.id),
    )
    await assertOneEntry(owner.actor, { action: 'organization.update', organizationId: o, targetId: o }, () =>
      updateOrganization(owner.actor, o, updateOrganizationSchema.parse({ name: 'Renamed', slug: `renamed-${Date.now().toString(36)}` })),
    )
    await assertOneEntry(owner.actor, { action: 'team.update', organizationId: o, targetId: team.id }, () =>
      updateTeam(owner.actor, team.id, updateTeamSchema.parse({ name: 'Renamed Team', slug: 'renamed-team' })),
    )
    const teamMember = await assertOneEntry(owner.actor, { action: 'team.member.add', organizationId: o, targetId: joiner.user.id }, () =>
      addTeamMember(owner.actor, team.id, joiner.user.id, 'MEMBER'),
    )
    await assertOneEntry(owner.actor, { action: 'team.member.update', organizationId: o, targetId: joiner.user.id }, () =>
      changeTeamMemberRole(owner.actor, team.id, teamMember.id, 'ADMIN'),
    )
    await assertOneEntry(owner.actor, { action: 'project.update', organizationId: o, targetId: project.id }, () =>
      updateProject(owner.actor, project.id, updateProjectSchema.parse({ name: 'Renamed Project', slug: 'renamed-project' })),
    )
    await assertOneEntry(joiner.actor, { action: 'project.delete', organizationId: o, targetId: project.id }, () =>
      deleteProject(joiner.actor, project.id),
    )
    await assertOneEntry(owner.actor, { action: 'team.member.remove', organizationId: o, targetId: joiner.user.id }, () =>
      removeTeamMember(owner.actor, team.id, teamMember.id),
    )
    await assertOneEntry(owner.actor, { action: 'project.create', organizationId: o }, () => createProjectIn(owner.actor, team.id))
    await assertOneEntry(owner.actor, { action: 'team.delete', organizationId: o, targetId: team.id }, () => deleteTeam(owner.actor, team.id))
    await assertOneEntry(joiner.actor, { action: 'organization.member.leave', organizationId: o, targetId: joiner.user.id }, () =>
      removeMember(joiner.actor, o, joinerMember.id),
    )
    await assertOneEntry(owner.actor, { action: 'team.create', organizationId: o }, () => createTeamIn(owner.actor, o))
    await assertOneEntry(owner.actor, { action: 'organization.delete', organizationId: o, targetId: o }, () =>
      deleteOrganization(owner.actor, o),
    )
  })

  test('account mutations', async () => {
    const { user, actor, password } = await createTestUser()
    await assertOneEntry(actor, { action: 'user.update', organizationId: null, targetId: user.id }, () =>
      updateProfile(actor, updateProfileSchema.parse({ name: 'Renamed' })),
    )
    const session = await createSession(user.id, actor)
    await createSession(user.id, actor)
    await assertOneEntry(actor, { action: 'user.password.change', organizationId: null, targetId: user.id }, () =>
      changePassword(
        actor,
        changePasswordSchema.parse({ currentPassword: password, newPassword: 'a new password!', confirmPassword: 'a new password!' }),
        sessionIdFor(session.token),
      ),
    )
    await assertOneEntry(actor, { action: 'session.revoke', targetId: sessionIdFor(session.token) }, () =>
      revokeSession(actor, sessionIdFor(session.token)),
    )
  })
})

describe('refused mutations write no audit entry', () => {
  test('forbidden, not found and conflicting calls leave the audit log as it was', async () => {
    const { owner, organization, team, project } = await createWorkspace()
    const viewer = await addMember(organization.id, owner.actor, 'VIEWER')
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const ownerMember = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: owner.user.id } })
    const stranger = await createTestUser()
    const before = await prisma.auditLog.count()

    const refusals: Array<[string, () => Promise<unknown>, AppError['code']]> = [
      ['viewer deletes project', () => deleteProject(viewer.actor, project.id), 'FORBIDDEN'],
      ['member deletes team', () => deleteTeam(member.actor, team.id), 'FORBIDDEN'],
      ['member deletes organization', () => deleteOrganization(member.actor, organization.id), 'FORBIDDEN'],
      ['member invites', () => createInvitation(member.actor, organization.id, 'MEMBER'), 'FORBIDDEN'],
      ['viewer changes a role', () => changeMemberRole(viewer.actor, organization.id, member.member.id, 'ADMIN'), 'FORBIDDEN'],
      ['last owner steps down', () => changeMemberRole(owner.actor, organization.id, ownerMember.id, 'MEMBER'), 'CONFLICT'],
      [
        'stranger updates project',
        () => updateProject(stranger.actor, project.id, updateProjectSchema.parse({ name: 'X', slug: 'xx' })),
        'NOT_FOUND',
      ],
      ['stranger adds self to team', () => addTeamMember(stranger.actor, team.id, stranger.user.id, 'OWNER'), 'NOT_FOUND'],
    ]
    for (const [name, call, code] of refusals) {
      const error = await assertAppError(call(), code).catch((caught: unknown) => {
        throw new Error(`${name}: ${String(caught)}`)
      })
      assert.equal(error.code, code)
    }
    assert.equal(await prisma.auditLog.count(), before)
    assert.ok(await prisma.project.findUnique({ where: { id: project.id } }))
  })
})

describe('the change and its audit entry are one transaction', () => {
  /** The id of the PostgreSQL transaction that wrote a row (its xmin). */
  async function writtenBy(table: string, id: string) {
    const rows = await prisma.$queryRawUnsafe<Array<{ xid: string }>>(`SELECT xmin::text AS xid FROM "${table}" WHERE id = $1`, id)
    assert.equal(rows.length, 1, `${table} ${id} exists`)
    return rows[0]?.xid
  }

  async function assertSameTransaction(table: string, id: string, fn: () => Promise<unknown>) {
    const { error, rows } = await withAuditDelta(fn)
    if (error) throw error
    assert.equal(rows.length, 1)
    const auditId = rows[0]?.id ?? ''
    assert.equal(await writtenBy('AuditLog', auditId), await writtenBy(table, id), `${rows[0]?.action} and its change share a transaction`)
  }

  /**
   * Runs `fn` while every audit chain's head is locked: the sealer (ADR 028), which rewrites an entry
   * moments after it is written and so gives it a new xmin, waits until the comparisons are done.
   * Writers are not held: appending an entry does not touch an existing head.
   */
  async function withSealingHeld(fn: () => Promise<void>) {
    const client = new pg.Client({ connectionString: testDatabaseUrl })
    await client.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT key FROM "AuditChain" FOR UPDATE')
      await fn()
    } finally {
      await client.query('ROLLBACK').catch(() => {})
      await client.end()
    }
  }

  test('updates and creations are written by the same database transaction as their entry', async () => {
    const { owner, organization, team, project } = await createWorkspace()
    const joiner = await createTestUser()
    // Both chains this test writes to (the organization's, and the one of entries without one) exist now.
    await withSealingHeld(async () => {
      await assertSameTransaction('Organization', organization.id, () =>
        updateOrganization(
          owner.actor,
          organization.id,
          updateOrganizationSchema.parse({ name: 'Same Tx', slug: `same-tx-${Date.now().toString(36)}` }),
        ),
      )
      await assertSameTransaction('Team', team.id, () =>
        updateTeam(owner.actor, team.id, updateTeamSchema.parse({ name: 'Same Tx Team', slug: 'same-tx-team' })),
      )
      await assertSameTransaction('Project', project.id, () =>
        updateProject(owner.actor, project.id, updateProjectSchema.parse({ name: 'Same Tx Project', slug: 'same-tx-project' })),
      )
      await assertSameTransaction('User', owner.user.id, () => updateProfile(owner.actor, updateProfileSchema.parse({ name: 'Same Tx Owner' })))

      const { invitation, token } = await createInvitation(owner.actor, organization.id, 'MEMBER')
      const invitationEntry = await prisma.auditLog.findFirstOrThrow({ where: { action: 'invitation.create', targetId: invitation.id } })
      assert.equal(await writtenBy('AuditLog', invitationEntry.id), await writtenBy('Invitation', invitation.id))

      await assertSameTransaction('Invitation', invitation.id, () => acceptInvitation(joiner.actor, token))
      const membership = await prisma.organizationMember.findFirstOrThrow({ where: { organizationId: organization.id, userId: joiner.user.id } })
      assert.equal(await writtenBy('OrganizationMember', membership.id), await writtenBy('Invitation', invitation.id))

      await assertSameTransaction('OrganizationMember', membership.id, () =>
        changeMemberRole(owner.actor, organization.id, membership.id, 'ADMIN'),
      )
      const teamMember = await addTeamMember(owner.actor, team.id, joiner.user.id, 'MEMBER')
      await assertSameTransaction('TeamMember', teamMember.id, () => changeTeamMemberRole(owner.actor, team.id, teamMember.id, 'ADMIN'))
    })
  })

  // A test-only trigger in this file's own database makes writing chosen audit actions fail, to show
  // that the change they describe is rolled back with them.
  before(async () => {
    await prisma.$executeRawUnsafe('CREATE TABLE test_refused_audit_actions (action text PRIMARY KEY)')
    await prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_refused_audit_actions WHERE action = NEW.action) THEN
          RAISE EXCEPTION 'audit write refused by test for %', NEW.action;
        END IF;
        RETURN NEW;
      END $$`)
    await prisma.$executeRawUnsafe(
      'CREATE TRIGGER test_refuse_audit BEFORE INSERT ON "AuditLog" FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()',
    )
  })
  afterEach(async () => {
    await prisma.$executeRawUnsafe('DELETE FROM test_refused_audit_actions')
  })
  after(async () => {
    await prisma.$executeRawUnsafe('DROP TRIGGER test_refuse_audit ON "AuditLog"')
  })

  const refuseAudit = (action: string) => prisma.$executeRaw`INSERT INTO test_refused_audit_actions (action) VALUES (${action})`

  /** The call must fail with the injected database error (not an AppError). */
  async function assertAuditFailure(promise: Promise<unknown>) {
    const error = await promise.then(
      () => assert.fail('the call should fail when its audit entry cannot be written'),
      (caught: unknown) => caught,
    )
    assert.ok(!(error instanceof AppError))
    assert.match(String((error as Error).message), /audit write refused by test/)
  }

  test('the trigger only refuses the chosen action', async () => {
    await refuseAudit('nothing.real')
    const { user } = await createTestUser()
    assert.equal(await prisma.auditLog.count({ where: { targetId: user.id, action: 'user.register' } }), 1)
  })

  test('registration: no user without its audit entry', async () => {
    await refuseAudit('user.register')
    const email = uniqueEmail('unaudited')
    await assertAuditFailure(registerUser(registerSchema.parse({ name: 'Nobody', email, password: 'long enough password' }), testMeta()))
    assert.equal(await prisma.user.count({ where: { email } }), 0)
  })

  test('organization rename: the old name stays', async () => {
    const { owner, organization } = await createWorkspace()
    await refuseAudit('organization.update')
    await assertAuditFailure(
      updateOrganization(owner.actor, organization.id, updateOrganizationSchema.parse({ name: 'Never', slug: 'never-ever' })),
    )
    const row = await prisma.organization.findUniqueOrThrow({ where: { id: organization.id } })
    assert.equal(row.name, organization.name)
    assert.equal(row.slug, organization.slug)
  })

  test('organization deletion: everything stays', async () => {
    const { owner, organization, team, project } = await createWorkspace()
    await refuseAudit('organization.delete')
    await assertAuditFailure(deleteOrganization(owner.actor, organization.id))
    assert.ok(await prisma.organization.findUnique({ where: { id: organization.id } }))
    assert.ok(await prisma.team.findUnique({ where: { id: team.id } }))
    assert.ok(await prisma.project.findUnique({ where: { id: project.id } }))
  })

  test('accepting an invitation: no membership and the link is still unused', async () => {
    const { owner, organization } = await createWorkspace()
    const joiner = await createTestUser()
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'MEMBER')
    await refuseAudit('invitation.accept')
    await assertAuditFailure(acceptInvitation(joiner.actor, token))
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id, userId: joiner.user.id } }), 0)
    const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })
    assert.equal(row.acceptedAt, null)
    assert.equal(row.acceptedById, null)
  })

  test('removing a member: the member and their team memberships stay', async () => {
    const { owner, organization, team } = await createWorkspace()
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, member, 'MEMBER')
    await refuseAudit('organization.member.remove')
    await assertAuditFailure(removeMember(owner.actor, organization.id, member.member.id))
    assert.equal(await prisma.organizationMember.count({ where: { id: member.member.id } }), 1)
    assert.equal(await prisma.teamMember.count({ where: { teamId: team.id, userId: member.user.id } }), 1)
  })

  test('changing a password: the old password and the other sessions stay', async () => {
    const { user, actor, password } = await createTestUser()
    const current = await createSession(user.id, actor)
    const other = await createSession(user.id, actor)
    const hashBefore = (await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash
    await refuseAudit('user.password.change')
    await assertAuditFailure(
      changePassword(
        actor,
        changePasswordSchema.parse({ currentPassword: password, newPassword: 'unaudited password', confirmPassword: 'unaudited password' }),
        sessionIdFor(current.token),
      ),
    )
    assert.equal((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash, hashBefore)
    assert.ok(await getSessionUser(other.token))
  })

  test('deleting a project: it stays', async () => {
    const { owner, project } = await createWorkspace()
    await refuseAudit('project.delete')
    await assertAuditFailure(deleteProject(owner.actor, project.id))
    assert.ok(await prisma.project.findUnique({ where: { id: project.id } }))
  })
})

describe('audit entries carry no secrets', () => {
  test('no entry holds a password, password hash, session token or invitation token', async () => {
    const { user, actor, password } = await createTestUser({ password: 'secret-password-to-find' })
    const session = await createSession(user.id, actor)
    const { organization } = await createWorkspace({ owner: { user, actor, password } })
    const { token } = await createInvitation(actor, organization.id, 'ADMIN')
    const joiner = await createTestUser()
    await acceptInvitation(joiner.actor, token)
    await changePassword(
      actor,
      changePasswordSchema.parse({ currentPassword: password, newPassword: 'next-secret-password', confirmPassword: 'next-secret-password' }),
      sessionIdFor(session.token),
    )
    const invitationHash = (await prisma.invitation.findFirstOrThrow({ where: { organizationId: organization.id } })).tokenHash

    const everything = JSON.stringify(await prisma.auditLog.findMany(), (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    )
    for (const secret of ['secret-password-to-find', 'next-secret-password', session.token, token, invitationHash, 'scrypt$']) {
      assert.ok(!everything.includes(secret), `an audit entry contains ${secret}`)
    }
    await assertAppError(revokeSession(joiner.actor, sessionIdFor(session.token)), 'NOT_FOUND')
  })
})
