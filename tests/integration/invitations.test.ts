import '../support/test-database'
import { DASHBOARD_PAGE } from '~/services/pagination'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  acceptInvitation,
  createInvitation,
  declineInvitation,
  getInvitation,
  INVITATION_TTL_MS,
  listPendingInvitations,
  revokeInvitation,
} from '~/services/workspaces/invitations.server'
import { listOrganizations } from '~/services/workspaces/organizations.server'
import { prisma } from '~/utils/db.server'
import { addMember, assertAppError, createOrganizationFor, createTestUser, withAuditDelta } from '../support/factories'

async function organizationWithOwner() {
  const owner = await createTestUser({ name: 'Owner' })
  const organization = await createOrganizationFor(owner.actor)
  return { owner, organization }
}

const membership = (organizationId: string, userId: string) =>
  prisma.organizationMember.findUnique({ where: { organizationId_userId: { organizationId, userId } } })

describe('creating invitations', () => {
  test('an OWNER or ADMIN creates a link; only the SHA-256 of its token is stored', async () => {
    const { owner, organization } = await organizationWithOwner()
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')

    const { result, rows } = await withAuditDelta(() => createInvitation(admin.actor, organization.id, 'MEMBER'))
    assert.ok(result)
    const { invitation, token } = result
    assert.ok(token.length >= 40)
    assert.equal(invitation.role, 'MEMBER')
    const expectedTtl = invitation.expiresAt.getTime() - invitation.createdAt.getTime()
    assert.ok(Math.abs(expectedTtl - INVITATION_TTL_MS) < 60_000)

    const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })
    assert.equal(row.tokenHash, createHash('sha256').update(token).digest('hex'))
    assert.ok(!Object.values(row).some((value) => typeof value === 'string' && value.includes(token)))
    assert.equal(row.createdById, admin.user.id)

    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'invitation.create')
    assert.equal(rows[0]?.targetId, invitation.id)
    assert.ok(!JSON.stringify({ ...rows[0], seq: undefined }).includes(token), 'the audit entry does not carry the token')

    const byOwner = await createInvitation(owner.actor, organization.id, 'OWNER')
    assert.equal(byOwner.invitation.role, 'OWNER')
  })

  for (const role of ['MEMBER', 'VIEWER'] as const) {
    test(`${role} cannot invite (FORBIDDEN) and no invitation is created`, async () => {
      const { owner, organization } = await organizationWithOwner()
      const member = await addMember(organization.id, owner.actor, role)
      const before = await prisma.invitation.count()
      const { error, rows } = await withAuditDelta(() => createInvitation(member.actor, organization.id, 'VIEWER'))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
      assert.equal(await prisma.invitation.count(), before)
      await assertAppError(listPendingInvitations(member.actor, organization.id), 'FORBIDDEN')
    })
  }

  test('an ADMIN cannot invite an OWNER', async () => {
    const { owner, organization } = await organizationWithOwner()
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const before = await prisma.invitation.count()
    await assertAppError(createInvitation(admin.actor, organization.id, 'OWNER'), 'FORBIDDEN')
    assert.equal(await prisma.invitation.count(), before)
  })
})

describe('answering invitations', () => {
  test('getInvitation describes a pending link; an unknown token is NOT_FOUND', async () => {
    const { owner, organization } = await organizationWithOwner()
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'ADMIN')
    const shown = await getInvitation(token)
    assert.equal(shown.id, invitation.id)
    assert.equal(shown.status, 'pending')
    assert.equal(shown.role, 'ADMIN')
    assert.equal(shown.invitedBy, 'Owner')
    assert.deepEqual(shown.organization, { id: organization.id, name: organization.name, slug: organization.slug })

    await assertAppError(getInvitation('not-a-real-token'), 'NOT_FOUND')
    const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })
    await assertAppError(getInvitation(row.tokenHash), 'NOT_FOUND')
  })

  for (const role of ['ADMIN', 'MEMBER', 'VIEWER', 'OWNER'] as const) {
    test(`accepting a link for role ${role} makes the user a member with that role`, async () => {
      const { owner, organization } = await organizationWithOwner()
      const joiner = await createTestUser()
      const { invitation, token } = await createInvitation(owner.actor, organization.id, role)

      const { result, rows } = await withAuditDelta(() => acceptInvitation(joiner.actor, token))
      assert.deepEqual(result, { id: organization.id, name: organization.name, slug: organization.slug })
      assert.equal((await membership(organization.id, joiner.user.id))?.role, role)
      assert.deepEqual(
        (await listOrganizations(joiner.actor, DASHBOARD_PAGE)).items.map((o) => [o.id, o.role]),
        [[organization.id, role]],
      )

      const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })
      assert.ok(row.acceptedAt)
      assert.equal(row.acceptedById, joiner.user.id)
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.action, 'invitation.accept')
      assert.equal(rows[0]?.actorId, joiner.user.id)
      assert.deepEqual(rows[0]?.after, { userId: joiner.user.id, role })
    })
  }

  test('a link is single-use: a second person gets CONFLICT and does not join', async () => {
    const { owner, organization } = await organizationWithOwner()
    const first = await createTestUser()
    const second = await createTestUser()
    const { token } = await createInvitation(owner.actor, organization.id, 'MEMBER')
    await acceptInvitation(first.actor, token)

    const { error, rows } = await withAuditDelta(() => acceptInvitation(second.actor, token))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.match(appError.message, /accepted/)
    assert.equal(rows.length, 0)
    assert.equal(await membership(organization.id, second.user.id), null)
    assert.equal((await getInvitation(token)).status, 'accepted')
  })

  test('two people accepting one link at the same moment: exactly one joins', async () => {
    const { owner, organization } = await organizationWithOwner()
    const people = await Promise.all([createTestUser(), createTestUser(), createTestUser()])
    const { token } = await createInvitation(owner.actor, organization.id, 'MEMBER')

    const results = await Promise.allSettled(people.map((person) => acceptInvitation(person.actor, token)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const result of results) {
      if (result.status === 'rejected') await assertAppError(Promise.reject(result.reason), 'CONFLICT')
    }
    assert.equal(await prisma.organizationMember.count({ where: { organizationId: organization.id } }), 2)
    assert.equal(await prisma.auditLog.count({ where: { action: 'invitation.accept', organizationId: organization.id } }), 1)
  })

  test('declining records the answer, adds nobody, and uses up the link', async () => {
    const { owner, organization } = await organizationWithOwner()
    const invitee = await createTestUser()
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'MEMBER')

    const { rows } = await withAuditDelta(() => declineInvitation(invitee.actor, token))
    assert.deepEqual(
      rows.map((r) => [r.action, r.actorId, r.targetId]),
      [['invitation.decline', invitee.user.id, invitation.id]],
    )
    assert.equal(await membership(organization.id, invitee.user.id), null)
    assert.ok((await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).declinedAt)
    assert.equal((await getInvitation(token)).status, 'declined')

    await assertAppError(acceptInvitation(invitee.actor, token), 'CONFLICT')
    assert.equal(await membership(organization.id, invitee.user.id), null)
  })

  test('a revoked link is refused; revoking twice is NOT_FOUND; it leaves the pending list', async () => {
    const { owner, organization } = await organizationWithOwner()
    const admin = await addMember(organization.id, owner.actor, 'ADMIN')
    const invitee = await createTestUser()
    const keep = await createInvitation(owner.actor, organization.id, 'VIEWER')
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'MEMBER')
    assert.deepEqual(
      (await listPendingInvitations(admin.actor, organization.id)).map((i) => i.id).sort(),
      [keep.invitation.id, invitation.id].sort(),
    )

    const { rows } = await withAuditDelta(() => revokeInvitation(admin.actor, organization.id, invitation.id))
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId]),
      [['invitation.revoke', invitation.id]],
    )
    assert.equal((await getInvitation(token)).status, 'revoked')
    assert.deepEqual(
      (await listPendingInvitations(owner.actor, organization.id)).map((i) => i.id),
      [keep.invitation.id],
    )

    const accept = await assertAppError(acceptInvitation(invitee.actor, token), 'CONFLICT')
    assert.match(accept.message, /revoked/)
    assert.equal(await membership(organization.id, invitee.user.id), null)
    await assertAppError(revokeInvitation(owner.actor, organization.id, invitation.id), 'NOT_FOUND')
  })

  test('an accepted link cannot be revoked', async () => {
    const { owner, organization } = await organizationWithOwner()
    const joiner = await createTestUser()
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'MEMBER')
    await acceptInvitation(joiner.actor, token)
    await assertAppError(revokeInvitation(owner.actor, organization.id, invitation.id), 'NOT_FOUND')
    assert.equal((await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).revokedAt, null)
  })

  test('MEMBER cannot revoke an invitation', async () => {
    const { owner, organization } = await organizationWithOwner()
    const member = await addMember(organization.id, owner.actor, 'MEMBER')
    const { invitation } = await createInvitation(owner.actor, organization.id, 'VIEWER')
    await assertAppError(revokeInvitation(member.actor, organization.id, invitation.id), 'FORBIDDEN')
    assert.equal((await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })).revokedAt, null)
  })

  test('an expired link is refused, for accepting and declining, and leaves the pending list', async () => {
    const { owner, organization } = await organizationWithOwner()
    const invitee = await createTestUser()
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'MEMBER')
    await prisma.invitation.update({ where: { id: invitation.id }, data: { expiresAt: new Date(Date.now() - 1000) } })

    assert.equal((await getInvitation(token)).status, 'expired')
    const error = await assertAppError(acceptInvitation(invitee.actor, token), 'CONFLICT')
    assert.match(error.message, /expired/)
    await assertAppError(declineInvitation(invitee.actor, token), 'CONFLICT')
    assert.equal(await membership(organization.id, invitee.user.id), null)
    const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })
    assert.equal(row.acceptedAt, null)
    assert.equal(row.declinedAt, null)
    assert.deepEqual(await listPendingInvitations(owner.actor, organization.id), [])
  })

  test('someone already in the organization is refused, keeps their role, and the link stays usable', async () => {
    const { owner, organization } = await organizationWithOwner()
    const member = await addMember(organization.id, owner.actor, 'VIEWER')
    const { invitation, token } = await createInvitation(owner.actor, organization.id, 'ADMIN')

    const { error, rows } = await withAuditDelta(() => acceptInvitation(member.actor, token))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.match(appError.message, /already a member/)
    assert.equal(rows.length, 0)
    assert.equal((await membership(organization.id, member.user.id))?.role, 'VIEWER')
    const row = await prisma.invitation.findUniqueOrThrow({ where: { id: invitation.id } })
    assert.equal(row.acceptedAt, null, 'the refused acceptance rolled back with its transaction')

    const newcomer = await createTestUser()
    await acceptInvitation(newcomer.actor, token)
    assert.equal((await membership(organization.id, newcomer.user.id))?.role, 'ADMIN')
  })
})
