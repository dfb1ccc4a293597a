import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  ACCESS_TOKEN_TTL_SECONDS,
  REFRESH_TOKEN_TTL_SECONDS,
  authenticateAccessToken,
  issueTokens,
  loginWithPassword,
  pruneExpiredApiTokens,
  refreshTokens,
  revokeTokenFamily,
} from '~/services/accounts/api-tokens.server'
import { runHousekeeping } from '~/services/housekeeping.server'
import { prisma } from '~/utils/db.server'
import { assertAppError, createTestUser, testMeta, uniqueIp, withAuditDelta } from '../support/factories'

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')
const tokenRow = (token: string) => prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: sha256(token) } })
const GENERIC = 'The refresh token is invalid or expired. Sign in again.'

async function signedIn(meta = testMeta({ ipAddress: uniqueIp() })) {
  const person = await createTestUser()
  const tokens = await loginWithPassword({ email: person.user.email, password: person.password }, meta)
  return { ...person, tokens, meta }
}

describe('signing in for tokens', () => {
  test('email and password give a Bearer pair in one new family, stored as SHA-256 only, audited', async () => {
    const person = await createTestUser()
    const meta = testMeta({ ipAddress: uniqueIp(), userAgent: 'cli/2.0' })
    const { result, rows } = await withAuditDelta(() => loginWithPassword({ email: person.user.email, password: person.password }, meta))
    assert.ok(result)
    assert.match(result.accessToken, /^cat_[A-Za-z0-9_-]{43}$/)
    assert.match(result.refreshToken, /^crt_[A-Za-z0-9_-]{43}$/)
    assert.equal(result.tokenType, 'Bearer')
    assert.equal(result.expiresIn, 15 * 60)
    assert.equal(result.refreshExpiresIn, 30 * 24 * 60 * 60)
    assert.equal(result.user.id, person.user.id)

    const access = await tokenRow(result.accessToken)
    const refresh = await tokenRow(result.refreshToken)
    assert.equal(access.kind, 'ACCESS')
    assert.equal(refresh.kind, 'REFRESH')
    assert.equal(access.familyId, refresh.familyId)
    assert.equal(access.userId, person.user.id)
    assert.ok(Math.abs(access.expiresAt.getTime() - (Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000)) < 10_000)
    assert.ok(Math.abs(refresh.expiresAt.getTime() - (Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000)) < 10_000)

    assert.deepEqual(
      rows.map((r) => [r.action, r.actorId, r.targetId, r.ipAddress, r.userAgent]),
      [['api_token.issue', person.user.id, access.familyId, meta.ipAddress, 'cli/2.0']],
    )
    assert.deepEqual(await authenticateAccessToken(result.accessToken, meta), {
      type: 'user',
      userId: person.user.id,
      ipAddress: meta.ipAddress,
      userAgent: 'cli/2.0',
    })
  })

  test('a wrong password gives no tokens, is audited as a failed sign-in, and counts toward the throttle', async () => {
    const person = await createTestUser()
    const meta = testMeta({ ipAddress: uniqueIp() })
    const { error, rows } = await withAuditDelta(() => loginWithPassword({ email: person.user.email, password: 'wrong password' }, meta))
    await assertAppError(Promise.reject(error), 'UNAUTHENTICATED')
    assert.deepEqual(
      rows.map((r) => r.action),
      ['auth.sign_in_failed'],
    )
    assert.equal(await prisma.apiToken.count({ where: { userId: person.user.id } }), 0)

    for (let i = 0; i < 4; i++) {
      await assertAppError(loginWithPassword({ email: person.user.email, password: 'wrong password' }, meta), 'UNAUTHENTICATED')
    }
    const throttled = await assertAppError(loginWithPassword({ email: person.user.email, password: person.password }, meta), 'RATE_LIMITED')
    assert.ok(throttled.details.retryAfterSeconds)
    assert.equal(await prisma.apiToken.count({ where: { userId: person.user.id } }), 0)
  })

  test('no column of the ApiToken table, nor the audit log, contains a token', async () => {
    const { tokens } = await signedIn()
    const rotated = await refreshTokens(tokens.refreshToken, testMeta())
    const text = async (table: 'ApiToken' | 'AuditLog') =>
      (await prisma.$queryRawUnsafe<{ text: string }[]>(`SELECT coalesce(json_agg(t)::text, '') AS text FROM "${table}" t`))[0]!.text
    const tokenTable = await text('ApiToken')
    const auditTable = await text('AuditLog')
    for (const token of [tokens.accessToken, tokens.refreshToken, rotated.accessToken, rotated.refreshToken]) {
      assert.ok(tokenTable.includes(sha256(token)), 'the rows were read: the hash is there')
      assert.ok(!tokenTable.includes(token.slice(4)), 'no plaintext token in ApiToken')
      assert.ok(!auditTable.includes(token.slice(4)), 'no plaintext token in AuditLog')
    }
  })
})

describe('refreshing', () => {
  test('a refresh token is traded once for a new pair in the same family, audited', async () => {
    const { user, tokens, meta } = await signedIn()
    const { result: next, rows } = await withAuditDelta(() => refreshTokens(tokens.refreshToken, meta))
    assert.ok(next)
    assert.notEqual(next.accessToken, tokens.accessToken)
    assert.notEqual(next.refreshToken, tokens.refreshToken)
    assert.equal(next.expiresIn, ACCESS_TOKEN_TTL_SECONDS)

    const old = await tokenRow(tokens.refreshToken)
    assert.ok(old.usedAt, 'the old refresh token is marked used')
    const fresh = await tokenRow(next.refreshToken)
    assert.equal(fresh.familyId, old.familyId)
    assert.equal((await tokenRow(next.accessToken)).familyId, old.familyId)
    assert.equal((await authenticateAccessToken(next.accessToken, meta))?.userId, user.id)
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId]),
      [['api_token.refresh', old.familyId]],
    )

    // The chain continues: the newest refresh token works in turn.
    const third = await refreshTokens(next.refreshToken, meta)
    assert.equal((await tokenRow(third.refreshToken)).familyId, old.familyId)
  })

  test('reusing a used refresh token revokes the whole family, access tokens included, and is audited', async () => {
    const { user, password, tokens, meta } = await signedIn()
    const other = await loginWithPassword({ email: user.email, password }, meta)
    const second = await refreshTokens(tokens.refreshToken, meta)
    const familyId = (await tokenRow(tokens.refreshToken)).familyId

    const { error, rows } = await withAuditDelta(() => refreshTokens(tokens.refreshToken, meta))
    assert.equal((await assertAppError(Promise.reject(error), 'UNAUTHENTICATED')).message, GENERIC)
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId, r.after]),
      [['api_token.reuse_detected', familyId, { revokedTokens: 4 }]],
    )

    const family = await prisma.apiToken.findMany({ where: { familyId } })
    assert.equal(family.length, 4)
    assert.ok(
      family.every((t) => t.revokedAt),
      'every token of the family is revoked',
    )
    assert.equal(await authenticateAccessToken(tokens.accessToken, meta), null)
    assert.equal(await authenticateAccessToken(second.accessToken, meta), null)
    await assertAppError(refreshTokens(second.refreshToken, meta), 'UNAUTHENTICATED')

    // The user's other sign-in (another family) is untouched.
    assert.equal((await authenticateAccessToken(other.accessToken, meta))?.userId, user.id)
    await refreshTokens(other.refreshToken, meta)
  })

  test('two concurrent refreshes with one token: one pair is issued, the other counts as reuse', async () => {
    const { tokens, meta } = await signedIn()
    const outcomes = await Promise.allSettled([refreshTokens(tokens.refreshToken, meta), refreshTokens(tokens.refreshToken, meta)])
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1)
    const familyId = (await tokenRow(tokens.refreshToken)).familyId
    assert.equal(await prisma.apiToken.count({ where: { familyId } }), 4, 'exactly one new pair was written')
    assert.equal(await prisma.apiToken.count({ where: { familyId, revokedAt: null } }), 0)
  })

  test('expired, revoked, unknown, malformed and access tokens are refused with one generic message', async () => {
    const { tokens, meta } = await signedIn()
    const expired = await issueTokens((await tokenRow(tokens.refreshToken)).userId, meta)
    await prisma.apiToken.update({ where: { tokenHash: sha256(expired.refreshToken) }, data: { expiresAt: new Date(Date.now() - 1000) } })
    const revoked = await issueTokens((await tokenRow(tokens.refreshToken)).userId, meta)
    await prisma.apiToken.update({ where: { tokenHash: sha256(revoked.refreshToken) }, data: { revokedAt: new Date() } })

    const candidates = {
      expired: expired.refreshToken,
      revoked: revoked.refreshToken,
      unknown: `crt_${'A'.repeat(43)}`,
      malformed: 'crt_nope',
      empty: '',
      'an access token': tokens.accessToken,
      'an access token with the refresh prefix': `crt_${tokens.accessToken.slice(4)}`,
    }
    for (const [what, token] of Object.entries(candidates)) {
      const { error, rows } = await withAuditDelta(() => refreshTokens(token, meta))
      assert.equal((await assertAppError(Promise.reject(error), 'UNAUTHENTICATED')).message, GENERIC, what)
      assert.equal(rows.length, 0, `${what}: nothing audited`)
    }
    assert.equal((await tokenRow(expired.refreshToken)).usedAt, null)
    // The valid sign-in was not disturbed by any of it.
    await refreshTokens(tokens.refreshToken, meta)
  })
})

describe('access tokens', () => {
  test('expired, revoked, refresh and malformed tokens authenticate nobody', async () => {
    const { tokens, meta } = await signedIn()
    const second = await issueTokens((await tokenRow(tokens.accessToken)).userId, meta)
    await prisma.apiToken.update({ where: { tokenHash: sha256(second.accessToken) }, data: { expiresAt: new Date(Date.now() - 1000) } })
    const third = await issueTokens((await tokenRow(tokens.accessToken)).userId, meta)
    await prisma.apiToken.update({ where: { tokenHash: sha256(third.accessToken) }, data: { revokedAt: new Date() } })

    for (const token of [
      second.accessToken,
      third.accessToken,
      tokens.refreshToken,
      `cat_${tokens.refreshToken.slice(4)}`,
      'cat_x',
      '',
      tokens.accessToken.slice(4),
    ]) {
      assert.equal(await authenticateAccessToken(token, meta), null, token)
    }
    assert.ok(await authenticateAccessToken(tokens.accessToken, meta))
  })
})

describe('logging out', () => {
  test('revokes the access token’s family, refresh token included, and is audited once', async () => {
    const { user, password, actor, tokens, meta } = await signedIn()
    const elsewhere = await loginWithPassword({ email: user.email, password }, meta)
    const tokenActor = await authenticateAccessToken(tokens.accessToken, meta)
    assert.ok(tokenActor)

    const { rows } = await withAuditDelta(() => revokeTokenFamily(tokenActor, tokens.accessToken))
    const familyId = (await tokenRow(tokens.accessToken)).familyId
    assert.deepEqual(
      rows.map((r) => [r.action, r.actorId, r.targetId, r.after]),
      [['api_token.revoke', user.id, familyId, { revokedTokens: 2 }]],
    )
    assert.equal(await authenticateAccessToken(tokens.accessToken, meta), null)
    await assertAppError(refreshTokens(tokens.refreshToken, meta), 'UNAUTHENTICATED')
    assert.ok(await authenticateAccessToken(elsewhere.accessToken, meta), 'another sign-in stays')

    const { rows: again } = await withAuditDelta(() => revokeTokenFamily(actor, tokens.accessToken))
    assert.equal(again.length, 0, 'a second logout changes nothing')
  })

  test('a user cannot revoke another user’s tokens', async () => {
    const alice = await signedIn()
    const bob = await signedIn()
    const { rows } = await withAuditDelta(() => revokeTokenFamily(bob.actor, alice.tokens.accessToken))
    assert.equal(rows.length, 0)
    assert.ok(await authenticateAccessToken(alice.tokens.accessToken, alice.meta))
  })
})

describe('pruning', () => {
  test('housekeeping deletes expired tokens and keeps live ones, used refresh tokens included', async () => {
    const { tokens, meta } = await signedIn()
    const rotated = await refreshTokens(tokens.refreshToken, meta)
    const stale = await issueTokens((await tokenRow(tokens.accessToken)).userId, meta)
    await prisma.apiToken.updateMany({
      where: { tokenHash: { in: [sha256(stale.accessToken), sha256(stale.refreshToken)] } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    })
    // Earlier tests in this file left expired tokens of their own in the same database.
    const expired = await prisma.apiToken.count({ where: { expiresAt: { lte: new Date() } } })
    assert.ok(expired >= 2)
    const result = await runHousekeeping()
    assert.equal(result.expiredApiTokens, expired)
    assert.equal(await prisma.apiToken.count({ where: { expiresAt: { lte: new Date() } } }), 0)
    assert.equal(await prisma.apiToken.count({ where: { tokenHash: { in: [sha256(stale.accessToken), sha256(stale.refreshToken)] } } }), 0)
    assert.ok(await tokenRow(tokens.refreshToken), 'a used refresh token stays until it expires, so its reuse is still caught')
    assert.ok(await authenticateAccessToken(rotated.accessToken, meta))
    assert.equal(await pruneExpiredApiTokens(), 0)
  })
})
