import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import type { RequestMeta } from '~/utils/request.server'
import { hashApiToken } from '../accounts/api-tokens.server'
import { hashApiKey } from '../api-keys/api-keys.server'
import { recordAudit } from './record-audit.server'

/**
 * Records a refused bearer credential (unknown, malformed, revoked or expired) as an anonymous entry.
 * A key or token Carcosa knows (revoked or expired) is named, and an API key's entry joins its
 * project's log; the credential itself is never stored. Callers record only requests the rate
 * limiter let through, so guessing cannot flood the log. A failure to record is logged, and the
 * refusal is answered all the same.
 */
export async function recordRefusedCredential(token: string | null, meta: RequestMeta, where: string): Promise<void> {
  try {
    const kind = token?.startsWith('ck_') ? 'api_key' : token?.startsWith('cat_') ? 'api_token' : 'unknown'
    const key =
      kind === 'api_key' && token
        ? await prisma.apiKey.findUnique({
            where: { keyHash: hashApiKey(token) },
            select: {
              id: true,
              prefix: true,
              revokedAt: true,
              expiresAt: true,
              project: { select: { id: true, teamId: true, team: { select: { organizationId: true } } } },
            },
          })
        : null
    const userToken =
      kind === 'api_token' && token
        ? await prisma.apiToken.findUnique({ where: { tokenHash: hashApiToken(token) }, select: { familyId: true, userId: true } })
        : null
    const reason = key ? (key.revokedAt ? 'revoked' : 'expired') : userToken ? 'expired or revoked' : 'unknown'
    await prisma.$transaction((tx) =>
      recordAudit(tx, null, meta, {
        organizationId: key?.project.team.organizationId ?? null,
        teamId: key?.project.teamId ?? null,
        projectId: key?.project.id ?? null,
        action: 'auth.credential_refused',
        targetType: kind === 'api_key' ? 'api_key' : kind === 'api_token' ? 'api_token_family' : 'credential',
        targetId: key?.id ?? userToken?.familyId ?? null,
        after: { credential: kind, reason, where, ...(key ? { prefix: key.prefix } : {}), ...(userToken ? { userId: userToken.userId } : {}) },
      }),
    )
  } catch (error) {
    logger.warn({ err: error }, 'could not record a refused credential in the audit log')
  }
}
