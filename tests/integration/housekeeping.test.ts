import '../support/test-database'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSession } from '~/services/accounts/sessions.server'
import { registerUser } from '~/services/accounts/users.server'
import { runHousekeeping } from '~/services/housekeeping.server'
import { prisma } from '~/utils/db.server'

const meta = { ipAddress: '203.0.113.9', userAgent: 'housekeeping-test' }

test('housekeeping deletes expired sessions and old sign-in attempts, and keeps the rest', async () => {
  const user = await registerUser({ name: 'Hk', email: 'hk@example.com', password: 'password123' }, meta)
  await createSession(user.id, meta)
  await createSession(user.id, meta)
  const [expired] = await prisma.session.findMany({ where: { userId: user.id }, take: 1 })
  await prisma.session.update({ where: { id: expired!.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
  await prisma.signInAttempt.createMany({
    data: [
      { email: 'hk@example.com', ipAddress: meta.ipAddress, succeeded: false, createdAt: new Date(Date.now() - 16 * 60 * 1000) },
      { email: 'hk@example.com', ipAddress: meta.ipAddress, succeeded: false },
    ],
  })

  const result = await runHousekeeping()

  assert.equal(result.expiredSessions, 1)
  assert.equal(await prisma.session.count({ where: { userId: user.id } }), 1)
  assert.equal(await prisma.session.count({ where: { id: expired!.id } }), 0)
  assert.equal(await prisma.signInAttempt.count(), 1)
})
