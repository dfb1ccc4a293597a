import { authenticateAccessToken } from '~/services/accounts/api-tokens.server'
import type { Actor } from '~/services/actor'
import { authenticateApiKey } from '~/services/api-keys/api-keys.server'
import type { RequestMeta } from '~/utils/request.server'

/** `token` of an invalid credential is only for recording the refusal (never logged or stored). */
export type Credentials = { kind: 'missing' } | { kind: 'invalid'; token: string | null } | { kind: 'valid'; actor: Actor }

/** `Authorization: Bearer <ck_... API key | cat_... user access token>`. */
export function authenticateRequest(request: Request, meta: RequestMeta): Promise<Credentials> {
  return authenticateBearer(request.headers.get('authorization'), meta)
}

/** The same from the Authorization header's value. */
export async function authenticateBearer(header: string | null, meta: RequestMeta): Promise<Credentials> {
  if (!header) return { kind: 'missing' }
  const match = /^Bearer\s+(\S{1,512})$/i.exec(header.trim())
  const token = match?.[1]
  if (!token) return { kind: 'invalid', token: null }
  const actor = token.startsWith('ck_')
    ? await authenticateApiKey(token, meta)
    : token.startsWith('cat_')
      ? await authenticateAccessToken(token, meta)
      : null
  return actor ? { kind: 'valid', actor } : { kind: 'invalid', token }
}
