import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { userActor } from '~/services/actor'
import type { RealtimePrincipal } from '~/services/realtime/channel-access.server'
import { REALTIME_TOKEN_PREFIX, verifyRealtimeToken } from '~/services/realtime/realtime-tokens.server'
import { getConfig } from '~/utils/config.server'
import type { RequestMeta } from '~/utils/request.server'
import { getOptionalUser } from '~/services/accounts/session-cookie.server'
import { recordRefusedCredential } from '~/services/audit/refused-credential.server'
import { authenticateRequest } from '../authenticate.server'

export interface AuthenticatedUpgrade {
  principal: RealtimePrincipal
  /** What connection and subscription caps count against: an API key, a user, or one realtime token. */
  credential: string
}

export type UpgradeRefusal = { status: 401 | 403; detail: string }

/**
 * Who opens a realtime connection, from the upgrade request: `Authorization: Bearer` with an API key
 * or user access token (the same resolution as the REST API), a realtime token (`?token=` or as the
 * bearer), or the dashboard's session cookie when the Origin is Carcosa's own.
 */
export async function authenticateUpgrade(req: IncomingMessage, url: URL): Promise<AuthenticatedUpgrade | UpgradeRefusal> {
  const meta = upgradeMeta(req)
  const authorization = req.headers.authorization
  const bearer = authorization ? /^Bearer\s+(\S{1,4096})$/i.exec(authorization.trim())?.[1] : undefined
  const token = url.searchParams.get('token') ?? (bearer?.startsWith(REALTIME_TOKEN_PREFIX) ? bearer : undefined)
  if (token) {
    const scope = verifyRealtimeToken(token)
    if (!scope) return { status: 401, detail: 'The realtime token is invalid or expired; ask your server for a new one.' }
    const digest = createHash('sha256').update(token).digest('base64url').slice(0, 22)
    return { principal: { kind: 'token', scope }, credential: `token:${digest}` }
  }
  if (authorization) {
    const headers = new Headers({ authorization })
    const credentials = await authenticateRequest(new Request(url, { headers }), meta)
    if (credentials.kind !== 'valid') {
      if (credentials.kind === 'invalid') await recordRefusedCredential(credentials.token, meta, 'realtime connection')
      return { status: 401, detail: 'The bearer token is invalid, expired or revoked.' }
    }
    const { actor } = credentials
    return { principal: { kind: 'actor', actor }, credential: actor.type === 'api-key' ? `api-key:${actor.apiKeyId}` : `user:${actor.userId}` }
  }
  if (req.headers.cookie) {
    // A cookie rides along with any page's WebSocket: only Carcosa's own pages may use it.
    if (!sameOrigin(req)) return { status: 403, detail: "A session cookie is accepted only from Carcosa's own pages (Origin mismatch)." }
    const signedIn = await getOptionalUser(new Request(url, { headers: { cookie: req.headers.cookie } }))
    if (signedIn) return { principal: { kind: 'actor', actor: userActor(signedIn.user.id, meta) }, credential: `user:${signedIn.user.id}` }
  }
  return {
    status: 401,
    detail: 'Send an API key or user access token as `Authorization: Bearer`, a realtime token as `?token=`, or sign in to the dashboard.',
  }
}

/** The Origin names this host (as the browser reached it) or the configured APP_URL. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (!origin || origin === 'null') return false
  let originHost: string
  try {
    originHost = new URL(origin).host
  } catch {
    return false
  }
  const appUrl = getConfig().APP_URL
  return originHost === req.headers.host || (appUrl !== undefined && originHost === new URL(appUrl).host)
}

/** The client's address as Express computes `req.ip`: TRUST_PROXY hops of X-Forwarded-For are believed. */
export function upgradeMeta(req: IncomingMessage): RequestMeta {
  const hops = getConfig().TRUST_PROXY
  const forwarded =
    typeof req.headers['x-forwarded-for'] === 'string' ? req.headers['x-forwarded-for'].split(',').map((part) => part.trim()) : []
  const chain = [req.socket.remoteAddress ?? null, ...forwarded.reverse()]
  const userAgent = req.headers['user-agent']
  return { ipAddress: chain[Math.min(hops, chain.length - 1)] ?? null, userAgent: userAgent ? userAgent.slice(0, 512) : null }
}
