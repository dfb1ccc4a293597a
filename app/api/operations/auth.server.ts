import { z } from 'zod'
import { loginWithPassword, issueTokens, refreshTokens, revokeTokenFamily } from '~/services/accounts/api-tokens.server'
import { registerSchema, signInSchema } from '~/services/accounts/schemas'
import { getUser, registerUser } from '~/services/accounts/users.server'
import { validateApiKey } from '~/services/api-keys/api-keys.server'
import { defineOperation } from '../operation.server'

const bearerToken = (request: Request) =>
  request.headers
    .get('authorization')
    ?.replace(/^Bearer\s+/i, '')
    .trim() ?? ''

export const authOperations = [
  defineOperation({
    id: 'register',
    method: 'POST',
    path: '/api/v1/auth/register',
    summary: 'Create an account and receive tokens',
    tag: 'Authentication',
    auth: 'none',
    tier: 'WRITE',
    body: registerSchema,
    status: 201,
    errors: [400, 409, 413, 415, 429],
    handler: async ({ body, meta }) => {
      const user = await registerUser(body, meta)
      return { user, ...(await issueTokens(user.id, meta)) }
    },
  }),
  defineOperation({
    id: 'login',
    method: 'POST',
    path: '/api/v1/auth/login',
    summary: 'Trade an email and password for an access token (15 min) and a refresh token (30 days)',
    tag: 'Authentication',
    auth: 'none',
    tier: 'STANDARD',
    body: signInSchema.pick({ email: true, password: true }),
    status: 200,
    errors: [400, 401, 413, 415, 429],
    handler: ({ body, meta }) => loginWithPassword(body, meta),
  }),
  defineOperation({
    id: 'logout',
    method: 'POST',
    path: '/api/v1/auth/logout',
    summary: 'Revoke the access token used and its refresh token family',
    tag: 'Authentication',
    auth: 'user',
    tier: 'STANDARD',
    status: 204,
    errors: [403],
    handler: ({ actor, request }) => revokeTokenFamily(actor, bearerToken(request)),
  }),
  defineOperation({
    id: 'me',
    method: 'GET',
    path: '/api/v1/auth/me',
    summary: 'The signed-in user',
    tag: 'Authentication',
    auth: 'user',
    tier: 'READ',
    status: 200,
    errors: [403],
    handler: ({ actor }) => getUser(actor),
  }),
  defineOperation({
    id: 'refreshTokens',
    method: 'POST',
    path: '/api/v1/tokens/refresh',
    summary: 'Rotate a refresh token into a new token pair (reusing an old one revokes the family)',
    tag: 'Authentication',
    auth: 'none',
    tier: 'STANDARD',
    body: z.object({ refreshToken: z.string({ error: 'refreshToken is required' }).min(1).max(512) }),
    status: 200,
    errors: [400, 401, 413, 415, 429],
    handler: ({ body, meta }) => refreshTokens(body.refreshToken, meta),
  }),
  defineOperation({
    id: 'validateApiKey',
    method: 'POST',
    path: '/api/v1/tokens/validate',
    summary: 'Tell whether an API key is valid, and its project and permissions (nothing for an invalid one)',
    tag: 'Authentication',
    auth: 'none',
    tier: 'STANDARD',
    body: z.object({ key: z.string({ error: 'key is required' }).min(1).max(512) }),
    status: 200,
    errors: [400, 413, 415, 429],
    handler: ({ body }) => validateApiKey(body.key),
  }),
]
