import { remember } from '@epic-web/remember'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { z } from 'zod'
import { prisma, type Transaction } from '~/utils/db.server'
import { getConfig } from '~/utils/config.server'
import { AppError } from '~/utils/errors.server'
import { createInvalidatedCache } from '~/utils/invalidated-cache.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'
import type { RequestMeta } from '~/utils/request.server'
import { sql } from '~/utils/sql.server'
import { userActor, type UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import type { signInSchema } from './schemas'
import { signIn } from './sign-in.server'
import type { PublicUser } from './users.server'

export const ACCESS_TOKEN_PREFIX = 'cat_'
export const REFRESH_TOKEN_PREFIX = 'crt_'
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60
/** A prefix + 32 random bytes in base64url (43 characters). */
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/

export interface TokenPair {
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  /** Seconds until the access token expires. */
  expiresIn: number
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number
}

/** Tokens are stored by their SHA-256: a leaked table cannot be replayed. */
export const hashApiToken = (token: string) => createHash('sha256').update(token).digest('hex')

const wellFormed = (token: string, prefix: string) =>
  typeof token === 'string' && token.startsWith(prefix) && TOKEN_BODY.test(token.slice(prefix.length))

// One answer for every refresh token that cannot be used, so a caller learns nothing about it.
const refreshRefused = () => new AppError('UNAUTHENTICATED', 'The refresh token is invalid or expired. Sign in again.')

/** Writes a new access and refresh token in `familyId` and returns them in plain text, this once. */
async function createPair(tx: Transaction, userId: string, familyId: string): Promise<TokenPair> {
  const accessToken = ACCESS_TOKEN_PREFIX + randomBytes(32).toString('base64url')
  const refreshToken = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url')
  const now = Date.now()
  await tx.apiToken.createMany({
    data: [
      {
        tokenHash: hashApiToken(accessToken),
        kind: 'ACCESS',
        userId,
        familyId,
        expiresAt: new Date(now + ACCESS_TOKEN_TTL_SECONDS * 1000),
      },
      {
        tokenHash: hashApiToken(refreshToken),
        kind: 'REFRESH',
        userId,
        familyId,
        expiresAt: new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000),
      },
    ],
  })
  return {
    accessToken,
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshExpiresIn: REFRESH_TOKEN_TTL_SECONDS,
  }
}

/** Starts a new token family for a user (one per sign-in), audited as `api_token.issue`. */
export async function issueTokens(userId: string, meta: RequestMeta): Promise<TokenPair> {
  const familyId = randomUUID()
  return prisma.$transaction(async (tx) => {
    const pair = await createPair(tx, userId, familyId)
    await recordAudit(tx, userActor(userId, meta), meta, {
      action: 'api_token.issue',
      targetType: 'api_token_family',
      targetId: familyId,
    })
    return pair
  })
}

/**
 * Email and password for a token pair. The sign-in throttle and the audit of failed attempts are
 * signIn's own, shared with the dashboard.
 */
export async function loginWithPassword(
  input: Pick<z.output<typeof signInSchema>, 'email' | 'password'>,
  meta: RequestMeta,
): Promise<TokenPair & { user: PublicUser }> {
  const user = await signIn(input, meta)
  return { ...(await issueTokens(user.id, meta)), user }
}

/**
 * Trades a refresh token for a new pair in the same family and marks it used. Presenting a used
 * refresh token again means it leaked (or the client is broken): the whole family is revoked, so the
 * thief's and the owner's tokens stop working together and the owner signs in again.
 */
export async function refreshTokens(refreshToken: string, meta: RequestMeta): Promise<TokenPair> {
  if (!wellFormed(refreshToken, REFRESH_TOKEN_PREFIX)) throw refreshRefused()
  const tokenHash = hashApiToken(refreshToken)
  const outcome = await prisma.$transaction(async (tx) => {
    const now = new Date()
    // Marking it used is the claim: of two concurrent refreshes with one token, exactly one wins.
    const claimed = await tx.apiToken.updateMany({
      where: { tokenHash, kind: 'REFRESH', usedAt: null, revokedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    })
    const token = await tx.apiToken.findUnique({
      where: { tokenHash },
      select: { id: true, kind: true, userId: true, familyId: true, usedAt: true, revokedAt: true, expiresAt: true },
    })
    if (!token || token.kind !== 'REFRESH') return { refused: true as const }
    const actor = userActor(token.userId, meta)
    if (claimed.count === 1) {
      const pair = await createPair(tx, token.userId, token.familyId)
      await recordAudit(tx, actor, meta, { action: 'api_token.refresh', targetType: 'api_token_family', targetId: token.familyId })
      return { pair }
    }
    if (token.usedAt && !token.revokedAt) {
      const revoked = await tx.apiToken.updateMany({ where: { familyId: token.familyId, revokedAt: null }, data: { revokedAt: now } })
      await recordAudit(tx, actor, meta, {
        action: 'api_token.reuse_detected',
        targetType: 'api_token_family',
        targetId: token.familyId,
        after: { revokedTokens: revoked.count },
      })
      return { refused: true as const, revokedFamily: token.familyId }
    }
    return { refused: true as const }
  })
  if ('revokedFamily' in outcome && outcome.revokedFamily) await publishInvalidation('api-token-family', outcome.revokedFamily)
  if ('refused' in outcome) throw refreshRefused()
  return outcome.pair
}

interface ResolvedAccessToken {
  userId: string
  familyId: string
  expiresAt: Date
}

// Resolved access tokens by hash, for API_CREDENTIAL_CACHE_SECONDS; revoking a family (logout,
// reuse of a refresh token) forgets them on every instance through the invalidation bus.
const accessTokens = () =>
  remember('carcosa.resolved-access-tokens', () =>
    createInvalidatedCache<ResolvedAccessToken>({
      max: getConfig().API_CREDENTIAL_CACHE_MAX,
      ttlMs: getConfig().API_CREDENTIAL_CACHE_SECONDS * 1000,
      matches: (token, kind, id) => (kind === 'api-token-family' && token.familyId === id) || (kind === 'user' && token.userId === id),
    }),
  )

async function loadAccessToken(tokenHash: string): Promise<ResolvedAccessToken | null> {
  const [row] = await sql<{ kind: string; userId: string; familyId: string; expiresAt: Date; revokedAt: Date | null }>(
    'SELECT kind, "userId", "familyId", "expiresAt", "revokedAt" FROM "ApiToken" WHERE "tokenHash" = $1',
    [tokenHash],
  )
  if (!row || row.kind !== 'ACCESS' || row.revokedAt) return null
  return { userId: row.userId, familyId: row.familyId, expiresAt: row.expiresAt }
}

/** The user behind a bearer access token, or null when it is malformed, unknown, expired or revoked. */
export async function authenticateAccessToken(token: string, meta: RequestMeta): Promise<UserActor | null> {
  if (!wellFormed(token, ACCESS_TOKEN_PREFIX)) return null
  const tokenHash = hashApiToken(token)
  const cache = accessTokens()
  const resolved = cache.get(tokenHash) ?? (await cache.resolve(tokenHash, () => loadAccessToken(tokenHash)))
  if (!resolved || resolved.expiresAt.getTime() <= Date.now()) return null
  return userActor(resolved.userId, meta)
}

/**
 * Logout: revokes every token of the access token's family (the refresh token included). A token
 * that is not the actor's, or a family already revoked, changes nothing and writes no entry.
 */
export async function revokeTokenFamily(actor: UserActor, accessToken: string): Promise<void> {
  if (!wellFormed(accessToken, ACCESS_TOKEN_PREFIX)) return
  const revokedFamily = await prisma.$transaction(async (tx) => {
    const token = await tx.apiToken.findUnique({
      where: { tokenHash: hashApiToken(accessToken) },
      select: { kind: true, userId: true, familyId: true },
    })
    if (!token || token.kind !== 'ACCESS' || token.userId !== actor.userId) return null
    const revoked = await tx.apiToken.updateMany({ where: { familyId: token.familyId, revokedAt: null }, data: { revokedAt: new Date() } })
    if (revoked.count === 0) return null
    await recordAudit(tx, actor, actor, {
      action: 'api_token.revoke',
      targetType: 'api_token_family',
      targetId: token.familyId,
      after: { revokedTokens: revoked.count },
    })
    return token.familyId
  })
  if (revokedFamily) await publishInvalidation('api-token-family', revokedFamily)
}

/**
 * Deletes expired tokens; called from the periodic housekeeping. A used refresh token is kept until
 * it expires, so its reuse is still recognised (and its family revoked) until then.
 */
export async function pruneExpiredApiTokens(): Promise<number> {
  const deleted = await prisma.apiToken.deleteMany({ where: { expiresAt: { lte: new Date() } } })
  return deleted.count
}
