import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import { userActor } from '~/services/actor'
import { changeEmailSchema, changePasswordSchema, registerSchema, signInSchema, updateProfileSchema } from '~/services/accounts/schemas'
import { createSession, getSessionUser, listSessions, revokeSession, sessionIdFor, signOut } from '~/services/accounts/sessions.server'
import { scryptParamsFor, verifyPassword } from '~/services/accounts/passwords.server'
import { pruneSignInAttempts, SIGN_IN_MAX_FAILURES, SIGN_IN_WINDOW_MS, signIn } from '~/services/accounts/sign-in.server'
import { changeEmail, changePassword, getUser, registerUser, updateProfile } from '~/services/accounts/users.server'
import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import {
  assertAppError,
  auditEntries,
  createTestUser,
  TEST_PASSWORD,
  testMeta,
  uniqueEmail,
  uniqueIp,
  withAuditDelta,
} from '../support/factories'

const signInAs = (email: string, password: string, ipAddress: string) => signIn(signInSchema.parse({ email, password }), testMeta({ ipAddress }))

const PRODUCTION_HASH_PASSWORD = 'correct horse battery staple'
const PRODUCTION_HASH = 'scrypt$32768$8$3$Y2FyY29zYS1maXh0dXJlIQ==$qqLdkkQfbfckSm30lUkVqNCpMGwbNvAQmk7vgVanr0Q='

describe('registration', () => {
  test('stores the email lower-cased and trimmed, and returns only public fields', async () => {
    const local = uniqueEmail('Mixed.Case')
    const input = registerSchema.parse({ name: '  Ada Lovelace ', email: `  ${local.toUpperCase()} `, password: TEST_PASSWORD })
    const user = await registerUser(input, testMeta())

    assert.equal(user.email, local.toLowerCase())
    assert.equal(user.name, 'Ada Lovelace')
    assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'name'])
    const row = await prisma.user.findUniqueOrThrow({ where: { id: user.id } })
    assert.equal(row.email, local.toLowerCase())
  })

  test('a duplicate email, in any case, is a CONFLICT on the email field and creates nothing', async () => {
    const { user } = await createTestUser()
    const usersBefore = await prisma.user.count()
    const auditBefore = await prisma.auditLog.count()

    const input = registerSchema.parse({ name: 'Someone Else', email: user.email.toUpperCase(), password: 'another password' })
    const error = await assertAppError(registerUser(input, testMeta()), 'CONFLICT')

    assert.ok(error.details.fieldErrors?.email?.length, 'the error names the email field')
    assert.equal(await prisma.user.count(), usersBefore)
    assert.equal(await prisma.auditLog.count(), auditBefore)
    const row = await prisma.user.findUniqueOrThrow({ where: { id: user.id } })
    assert.equal(row.name, 'Test User', 'the existing account is untouched')
  })

  test('the password is stored as a salted scrypt hash, never in plain text', async () => {
    const password = 'plain text would be bad 123'
    const a = await createTestUser({ password })
    const b = await createTestUser({ password })
    const rowA = await prisma.user.findUniqueOrThrow({ where: { id: a.user.id } })
    const rowB = await prisma.user.findUniqueOrThrow({ where: { id: b.user.id } })

    assert.ok(!rowA.passwordHash.includes(password))
    assert.match(rowA.passwordHash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
    assert.notEqual(rowA.passwordHash, rowB.passwordHash, 'the same password hashes differently per user (salt)')
  })

  test('the hash names its scrypt parameters: test-only ones under NODE_ENV=test, OWASP profile elsewhere', async () => {
    assert.deepEqual(scryptParamsFor('production'), { N: 2 ** 15, r: 8, p: 3 })
    assert.deepEqual(scryptParamsFor('development'), { N: 2 ** 15, r: 8, p: 3 })
    const test = scryptParamsFor('test')
    const { user, password } = await createTestUser()
    const row = await prisma.user.findUniqueOrThrow({ where: { id: user.id } })
    assert.ok(row.passwordHash.startsWith(`scrypt$${test.N}$${test.r}$${test.p}$`), row.passwordHash.split('$').slice(0, 4).join('$'))
    assert.equal(await verifyPassword(password, row.passwordHash), true)
    assert.equal(await verifyPassword(`${password}!`, row.passwordHash), false)
  })

  test('a hash made with production parameters still verifies and signs in', async () => {
    // scrypt N=2^15, r=8, p=3 of PRODUCTION_HASH_PASSWORD, made once outside this suite.
    assert.equal(await verifyPassword(PRODUCTION_HASH_PASSWORD, PRODUCTION_HASH), true)
    assert.equal(await verifyPassword('Correct horse battery staple', PRODUCTION_HASH), false)
    const { user } = await createTestUser()
    await prisma.user.update({ where: { id: user.id }, data: { passwordHash: PRODUCTION_HASH } })
    assert.equal((await signInAs(user.email, PRODUCTION_HASH_PASSWORD, uniqueIp())).id, user.id)
  })

  test('a damaged or foreign hash does not verify, and asks for no absurd cost', async () => {
    const [, , , , salt, key] = PRODUCTION_HASH.split('$')
    for (const stored of [
      '',
      'argon2id$v=19$m=65536,t=3,p=4$c2FsdA$a2V5',
      `scrypt$32768$8$3$${salt}$`,
      `scrypt$abc$8$3$${salt}$${key}`,
      `scrypt$1000$8$3$${salt}$${key}`,
      `scrypt$${2 ** 30}$8$3$${salt}$${key}`,
      `scrypt$32768$8$1000$${salt}$${key}`,
    ]) {
      assert.equal(await verifyPassword(PRODUCTION_HASH_PASSWORD, stored), false, stored)
    }
  })

  test('the schema rejects bad input with messages per field', () => {
    const result = registerSchema.safeParse({ name: '   ', email: 'not-an-email', password: 'short' })
    assert.equal(result.success, false)
    const fields = new Set(result.error?.issues.map((issue) => issue.path.join('.')))
    assert.deepEqual([...fields].sort(), ['email', 'name', 'password'])
  })

  test('writes a user.register audit entry by the new user', async () => {
    const { user } = await createTestUser({ meta: { ipAddress: '192.0.2.44', userAgent: 'register-agent' } })
    const [entry, ...rest] = await auditEntries({ action: 'user.register', targetId: user.id })
    assert.equal(rest.length, 0)
    assert.ok(entry)
    assert.equal(entry.actorType, 'user')
    assert.equal(entry.actorId, user.id)
    assert.equal(entry.targetType, 'user')
    assert.equal(entry.ipAddress, '192.0.2.44')
    assert.equal(entry.userAgent, 'register-agent')
    assert.deepEqual(entry.after, { email: user.email, name: user.name })
  })
})

describe('sign-in', () => {
  test('the right email and password return the user; the email is matched case-insensitively', async () => {
    const { user, password } = await createTestUser()
    const signedIn = await signInAs(user.email.toUpperCase(), password, uniqueIp())
    assert.deepEqual(signedIn, user)
  })

  test('a wrong password and an unknown email fail alike: UNAUTHENTICATED with the same message', async () => {
    const { user } = await createTestUser()
    const wrongPassword = await assertAppError(signInAs(user.email, 'not the password', uniqueIp()), 'UNAUTHENTICATED')
    const unknownEmail = await assertAppError(signInAs(uniqueEmail('nobody'), TEST_PASSWORD, uniqueIp()), 'UNAUTHENTICATED')
    assert.equal(wrongPassword.message, unknownEmail.message)
    assert.deepEqual(wrongPassword.details, unknownEmail.details)
  })

  test('each failed sign-in writes an anonymous auth.sign_in_failed audit entry', async () => {
    const { user } = await createTestUser()
    const ip = uniqueIp()
    const unknown = uniqueEmail('ghost')

    const wrong = await withAuditDelta(() => signInAs(user.email, 'wrong password', ip))
    assert.ok(wrong.error)
    assert.equal(wrong.rows.length, 1)
    const [entry] = wrong.rows
    assert.equal(entry?.action, 'auth.sign_in_failed')
    assert.equal(entry?.actorType, 'anonymous')
    assert.equal(entry?.actorId, null)
    assert.equal(entry?.targetId, user.id)
    assert.equal(entry?.ipAddress, ip)
    assert.deepEqual(entry?.after, { email: user.email })

    const ghost = await withAuditDelta(() => signInAs(unknown, 'whatever', ip))
    assert.ok(ghost.error)
    assert.equal(ghost.rows.length, 1)
    assert.equal(ghost.rows[0]?.action, 'auth.sign_in_failed')
    assert.equal(ghost.rows[0]?.targetId, null)
    assert.deepEqual(ghost.rows[0]?.after, { email: unknown })
  })

  test('a successful sign-in writes no failure entry and records a succeeded attempt', async () => {
    const { user, password } = await createTestUser()
    const ip = uniqueIp()
    const { rows } = await withAuditDelta(() => signInAs(user.email, password, ip))
    assert.equal(rows.filter((row) => row.action === 'auth.sign_in_failed').length, 0)
    const attempts = await prisma.signInAttempt.findMany({ where: { email: user.email, ipAddress: ip } })
    assert.deepEqual(
      attempts.map((a) => a.succeeded),
      [true],
    )
  })

  test(`after ${SIGN_IN_MAX_FAILURES} failures the next attempt is RATE_LIMITED, even with the right password`, async () => {
    const { user, password } = await createTestUser()
    const ip = uniqueIp()
    for (let i = 0; i < SIGN_IN_MAX_FAILURES; i++) {
      await assertAppError(signInAs(user.email, `wrong ${i}`, ip), 'UNAUTHENTICATED')
    }

    const auditBefore = await prisma.auditLog.count()
    const attemptsBefore = await prisma.signInAttempt.count()
    const error = await assertAppError(signInAs(user.email, password, ip), 'RATE_LIMITED')
    const retry = error.details.retryAfterSeconds
    assert.equal(typeof retry, 'number')
    assert.ok(retry !== undefined && retry > SIGN_IN_WINDOW_MS / 1000 - 60 && retry <= SIGN_IN_WINDOW_MS / 1000, `retryAfterSeconds=${retry}`)
    assert.match(error.message, /Try again in 15 minutes/)
    // A refused attempt is not even checked, so it neither counts nor is audited.
    assert.equal(await prisma.signInAttempt.count(), attemptsBefore)
    assert.equal(await prisma.auditLog.count(), auditBefore)
  })

  test('a burst of concurrent guesses gets no more than the limit checked', async () => {
    const { user } = await createTestUser()
    const ip = uniqueIp()
    const burst = 12
    const results = await Promise.allSettled(Array.from({ length: burst }, (_, i) => signInAs(user.email, `guess ${i}`, ip)))
    const codes = results.map((r) => (r.status === 'rejected' && r.reason instanceof AppError ? r.reason.code : String(r.status)))
    assert.equal(codes.filter((c) => c === 'UNAUTHENTICATED').length, SIGN_IN_MAX_FAILURES, codes.join(' '))
    assert.equal(codes.filter((c) => c === 'RATE_LIMITED').length, burst - SIGN_IN_MAX_FAILURES, codes.join(' '))
    assert.equal(await prisma.auditLog.count({ where: { action: 'auth.sign_in_failed', targetId: user.id } }), SIGN_IN_MAX_FAILURES)
  })

  test('throttling is per email and IP: another IP, or another account from the same IP, is not throttled', async () => {
    const victim = await createTestUser()
    const neighbour = await createTestUser()
    const attackerIp = uniqueIp()
    for (let i = 0; i < SIGN_IN_MAX_FAILURES; i++) {
      await assertAppError(signInAs(victim.user.email, 'guess', attackerIp), 'UNAUTHENTICATED')
    }
    await assertAppError(signInAs(victim.user.email, victim.password, attackerIp), 'RATE_LIMITED')

    const fromHome = await signInAs(victim.user.email, victim.password, uniqueIp())
    assert.equal(fromHome.id, victim.user.id)
    const neighbourSignedIn = await signInAs(neighbour.user.email, neighbour.password, attackerIp)
    assert.equal(neighbourSignedIn.id, neighbour.user.id)
  })

  test('an unknown email is throttled too, so probing it costs the same', async () => {
    const email = uniqueEmail('probe')
    const ip = uniqueIp()
    for (let i = 0; i < SIGN_IN_MAX_FAILURES; i++) {
      await assertAppError(signInAs(email, 'guess', ip), 'UNAUTHENTICATED')
    }
    await assertAppError(signInAs(email, 'guess', ip), 'RATE_LIMITED')
  })

  test('fewer failures than the limit do not throttle, and failures older than the window stop counting', async () => {
    const { user, password } = await createTestUser()
    const ip = uniqueIp()
    for (let i = 0; i < SIGN_IN_MAX_FAILURES - 1; i++) {
      await assertAppError(signInAs(user.email, 'guess', ip), 'UNAUTHENTICATED')
    }
    assert.equal((await signInAs(user.email, password, ip)).id, user.id)

    const ip2 = uniqueIp()
    for (let i = 0; i < SIGN_IN_MAX_FAILURES; i++) {
      await assertAppError(signInAs(user.email, 'guess', ip2), 'UNAUTHENTICATED')
    }
    await assertAppError(signInAs(user.email, password, ip2), 'RATE_LIMITED')
    // Move the failures just past the window, as if 15 minutes had gone by.
    await prisma.signInAttempt.updateMany({
      where: { email: user.email, ipAddress: ip2 },
      data: { createdAt: new Date(Date.now() - SIGN_IN_WINDOW_MS - 1000) },
    })
    assert.equal((await signInAs(user.email, password, ip2)).id, user.id)
  })

  test('a successful sign-in clears the failure count for that email and IP', async () => {
    const { user, password } = await createTestUser()
    const ip = uniqueIp()
    for (let i = 0; i < SIGN_IN_MAX_FAILURES - 1; i++) {
      await assertAppError(signInAs(user.email, 'guess', ip), 'UNAUTHENTICATED')
    }
    await signInAs(user.email, password, ip)
    for (let i = 0; i < SIGN_IN_MAX_FAILURES - 1; i++) {
      await assertAppError(signInAs(user.email, 'guess', ip), 'UNAUTHENTICATED')
    }
    assert.equal((await signInAs(user.email, password, ip)).id, user.id)
  })

  test('pruneSignInAttempts drops only attempts older than the window', async () => {
    const email = uniqueEmail('prune')
    const ip = uniqueIp()
    await assertAppError(signInAs(email, 'old', ip), 'UNAUTHENTICATED')
    await prisma.signInAttempt.updateMany({ where: { email }, data: { createdAt: new Date(Date.now() - SIGN_IN_WINDOW_MS - 60_000) } })
    await assertAppError(signInAs(email, 'recent', ip), 'UNAUTHENTICATED')

    await pruneSignInAttempts()
    const left = await prisma.signInAttempt.findMany({ where: { email } })
    assert.equal(left.length, 1)
    assert.ok(left[0] && Date.now() - left[0].createdAt.getTime() < SIGN_IN_WINDOW_MS)
  })
})

describe('sessions', () => {
  test('only the SHA-256 of the token is stored; the token finds the user', async () => {
    const { user } = await createTestUser()
    const meta = testMeta({ ipAddress: '192.0.2.10', userAgent: 'session-agent' })
    const { token, expiresAt } = await createSession(user.id, meta)

    assert.ok(token.length >= 40)
    const expectedId = createHash('sha256').update(token).digest('hex')
    assert.equal(sessionIdFor(token), expectedId)
    assert.equal(await prisma.session.findUnique({ where: { id: token } }), null)
    const row = await prisma.session.findUniqueOrThrow({ where: { id: expectedId } })
    assert.equal(row.userId, user.id)
    assert.equal(row.ipAddress, '192.0.2.10')
    assert.equal(row.userAgent, 'session-agent')
    assert.equal(row.expiresAt.getTime(), expiresAt.getTime())
    assert.ok(expiresAt.getTime() > Date.now() + 24 * 60 * 60 * 1000)

    const signedIn = await getSessionUser(token)
    assert.deepEqual(signedIn, { user, sessionId: expectedId })
    assert.equal(await getSessionUser(expectedId), null, 'the stored id is not itself a usable token')
    assert.equal(await getSessionUser('made-up-token'), null)

    const [entry] = await auditEntries({ action: 'session.create', targetId: expectedId })
    assert.equal(entry?.actorId, user.id)
  })

  test('an expired session returns null and is deleted', async () => {
    const { user } = await createTestUser()
    const { token } = await createSession(user.id, testMeta())
    await prisma.session.update({ where: { id: sessionIdFor(token) }, data: { expiresAt: new Date(Date.now() - 1000) } })

    assert.equal(await getSessionUser(token), null)
    assert.equal(await prisma.session.count({ where: { id: sessionIdFor(token) } }), 0)
  })

  test('lastSeenAt is refreshed when stale, not on every read', async () => {
    const { user } = await createTestUser()
    const { token } = await createSession(user.id, testMeta())
    const id = sessionIdFor(token)
    const fresh = await prisma.session.findUniqueOrThrow({ where: { id } })
    await getSessionUser(token)
    assert.equal((await prisma.session.findUniqueOrThrow({ where: { id } })).lastSeenAt.getTime(), fresh.lastSeenAt.getTime())

    const stale = new Date(Date.now() - 60 * 60 * 1000)
    await prisma.session.update({ where: { id }, data: { lastSeenAt: stale } })
    await getSessionUser(token)
    const touched = await prisma.session.findUniqueOrThrow({ where: { id } })
    assert.ok(touched.lastSeenAt.getTime() > stale.getTime() + 30 * 60 * 1000)
  })

  test('listSessions shows the actor’s live sessions only', async () => {
    const alice = await createTestUser()
    const bob = await createTestUser()
    const a1 = await createSession(alice.user.id, testMeta())
    const a2 = await createSession(alice.user.id, testMeta())
    const expired = await createSession(alice.user.id, testMeta())
    await prisma.session.update({ where: { id: sessionIdFor(expired.token) }, data: { expiresAt: new Date(Date.now() - 1000) } })
    await createSession(bob.user.id, testMeta())

    const sessions = await listSessions(alice.actor)
    assert.deepEqual(sessions.map((s) => s.id).sort(), [sessionIdFor(a1.token), sessionIdFor(a2.token)].sort())
    assert.ok(sessions.every((s) => !('userId' in s)))
  })

  test('a user revokes their own session; the token stops working and the revocation is audited', async () => {
    const { user, actor } = await createTestUser()
    const { token } = await createSession(user.id, testMeta())
    const id = sessionIdFor(token)

    const { rows } = await withAuditDelta(() => revokeSession(actor, id))
    assert.equal(await getSessionUser(token), null)
    assert.equal(await prisma.session.count({ where: { id } }), 0)
    assert.deepEqual(
      rows.map((r) => [r.action, r.actorId, r.targetId]),
      [['session.revoke', user.id, id]],
    )

    await assertAppError(revokeSession(actor, id), 'NOT_FOUND')
  })

  test("revoking another user's session is NOT_FOUND and changes nothing", async () => {
    const alice = await createTestUser()
    const mallory = await createTestUser()
    const { token } = await createSession(alice.user.id, testMeta())
    const id = sessionIdFor(token)

    const { error, rows } = await withAuditDelta(() => revokeSession(mallory.actor, id))
    await assertAppError(Promise.reject(error), 'NOT_FOUND')
    assert.equal(rows.length, 0)
    assert.equal((await getSessionUser(token))?.user.id, alice.user.id)
  })

  test("signOut ends the actor's session but cannot end someone else's", async () => {
    const alice = await createTestUser()
    const mallory = await createTestUser()
    const aliceSession = await createSession(alice.user.id, testMeta())
    const mallorySession = await createSession(mallory.user.id, testMeta())

    await signOut(mallory.actor, sessionIdFor(aliceSession.token))
    assert.equal((await getSessionUser(aliceSession.token))?.user.id, alice.user.id)

    const { rows } = await withAuditDelta(() => signOut(mallory.actor, sessionIdFor(mallorySession.token)))
    assert.equal(await getSessionUser(mallorySession.token), null)
    assert.deepEqual(
      rows.map((r) => r.action),
      ['session.sign_out'],
    )
  })

  test('deleting a user row takes its sessions with it', async () => {
    const { user } = await createTestUser()
    const { token } = await createSession(user.id, testMeta())
    await prisma.user.delete({ where: { id: user.id } })
    assert.equal(await getSessionUser(token), null)
  })
})

describe('account settings', () => {
  test('getUser returns the actor; an unknown actor is NOT_FOUND', async () => {
    const { user, actor } = await createTestUser()
    assert.deepEqual(await getUser(actor), user)
    await assertAppError(getUser(userActor('no-such-user', testMeta())), 'NOT_FOUND')
  })

  test('updateProfile changes the name and records before and after', async () => {
    const { user, actor } = await createTestUser({ name: 'Old Name' })
    const { result, rows } = await withAuditDelta(() => updateProfile(actor, updateProfileSchema.parse({ name: ' New Name ' })))
    assert.equal(result?.name, 'New Name')
    assert.equal((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).name, 'New Name')
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'user.update')
    assert.equal(rows[0]?.actorId, user.id)
    assert.equal(rows[0]?.ipAddress, actor.ipAddress)
    assert.equal(rows[0]?.userAgent, actor.userAgent)
    assert.deepEqual(rows[0]?.before, { name: 'Old Name' })
    assert.deepEqual(rows[0]?.after, { name: 'New Name' })
  })

  test('changePassword with a wrong current password is VALIDATION on currentPassword and changes nothing', async () => {
    const { user, actor, password } = await createTestUser()
    const current = await createSession(user.id, testMeta())
    const other = await createSession(user.id, testMeta())
    const hashBefore = (await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash

    const input = changePasswordSchema.parse({
      currentPassword: 'not it',
      newPassword: 'brand new password',
      confirmPassword: 'brand new password',
    })
    const { error, rows } = await withAuditDelta(() => changePassword(actor, input, sessionIdFor(current.token)))
    const appError = await assertAppError(Promise.reject(error), 'VALIDATION')
    assert.ok(appError.details.fieldErrors?.currentPassword?.length)
    assert.equal(rows.length, 0)
    assert.equal((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash, hashBefore)
    assert.ok(await getSessionUser(other.token), 'other sessions survive a refused change')
    assert.equal((await signInAs(user.email, password, uniqueIp())).id, user.id)
  })

  test('changePassword replaces the password and signs out every other session but the current one', async () => {
    const { user, actor, password } = await createTestUser()
    const bystander = await createTestUser()
    const current = await createSession(user.id, testMeta())
    const laptop = await createSession(user.id, testMeta())
    const phone = await createSession(user.id, testMeta())
    const bystanderSession = await createSession(bystander.user.id, testMeta())

    const newPassword = 'a much better password'
    const input = changePasswordSchema.parse({ currentPassword: password, newPassword, confirmPassword: newPassword })
    const { rows } = await withAuditDelta(() => changePassword(actor, input, sessionIdFor(current.token)))

    assert.equal((await getSessionUser(current.token))?.user.id, user.id)
    assert.equal(await getSessionUser(laptop.token), null)
    assert.equal(await getSessionUser(phone.token), null)
    assert.ok(await getSessionUser(bystanderSession.token), "another user's sessions are untouched")

    await assertAppError(signInAs(user.email, password, uniqueIp()), 'UNAUTHENTICATED')
    assert.equal((await signInAs(user.email, newPassword, uniqueIp())).id, user.id)

    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'user.password.change')
    assert.deepEqual(rows[0]?.after, { otherSessionsRevoked: 2 })
    assert.ok(!JSON.stringify({ ...rows[0], seq: undefined }).includes(newPassword), 'the audit entry does not carry the password')
  })

  test('the change-password schema requires the confirmation to match', () => {
    const result = changePasswordSchema.safeParse({ currentPassword: 'x', newPassword: 'long enough 1', confirmPassword: 'long enough 2' })
    assert.equal(result.success, false)
    assert.deepEqual(
      result.error?.issues.map((i) => i.path.join('.')),
      ['confirmPassword'],
    )
  })

  test('changeEmail requires the current password', async () => {
    const { user, actor } = await createTestUser()
    const input = changeEmailSchema.parse({ email: uniqueEmail('new'), currentPassword: 'wrong password' })
    const { error, rows } = await withAuditDelta(() => changeEmail(actor, input))
    const appError = await assertAppError(Promise.reject(error), 'VALIDATION')
    assert.ok(appError.details.fieldErrors?.currentPassword?.length)
    assert.equal(rows.length, 0)
    assert.equal((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).email, user.email)
  })

  test('changeEmail to an address another account uses is a CONFLICT on email and changes nothing', async () => {
    const { user, actor, password } = await createTestUser()
    const other = await createTestUser()
    const input = changeEmailSchema.parse({ email: other.user.email.toUpperCase(), currentPassword: password })
    const { error, rows } = await withAuditDelta(() => changeEmail(actor, input))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.ok(appError.details.fieldErrors?.email?.length)
    assert.equal(rows.length, 0)
    assert.equal((await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).email, user.email)
  })

  test('changeEmail moves sign-in to the new address and records the change', async () => {
    const { user, actor, password } = await createTestUser()
    const newEmail = uniqueEmail('moved')
    const { result, rows } = await withAuditDelta(() =>
      changeEmail(actor, changeEmailSchema.parse({ email: newEmail.toUpperCase(), currentPassword: password })),
    )
    assert.equal(result?.email, newEmail)
    assert.equal((await signInAs(newEmail, password, uniqueIp())).id, user.id)
    await assertAppError(signInAs(user.email, password, uniqueIp()), 'UNAUTHENTICATED')
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'user.email.change')
    assert.deepEqual(rows[0]?.before, { email: user.email })
    assert.deepEqual(rows[0]?.after, { email: newEmail })
  })
})
