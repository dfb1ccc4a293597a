import { z } from 'zod'
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, updateApiKey } from '~/services/api-keys/api-keys.server'
import { createApiKeySchema, updateApiKeySchema } from '~/services/api-keys/schemas'
import { pageQuerySchema } from '~/services/pagination'
import { projectOfCall } from '~/services/project-scope.server'
import { optionalProjectId } from '~/services/project-scope'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

export const apiKeyOperations = [
  defineOperation({
    id: 'listApiKeys',
    method: 'GET',
    path: '/api/v1/api-keys',
    summary: "List a project's API keys (never their secrets)",
    tag: 'API keys',
    auth: 'any',
    permission: 'api-keys:read',
    tier: 'READ',
    query: pageQuerySchema.extend({
      projectId: optionalProjectId,
      tenantId: z.string().min(1).max(64).optional().describe('Only the keys bound to this tenant'),
    }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query: { projectId, tenantId, ...page } }) => listApiKeys(actor, projectOfCall(actor, projectId), page, { tenantId }),
  }),
  defineOperation({
    id: 'createApiKey',
    method: 'POST',
    path: '/api/v1/api-keys',
    summary: 'Create an API key; its secret is in `key`, shown this once',
    tag: 'API keys',
    auth: 'any',
    permission: 'api-keys:write',
    tier: 'ADMIN',
    body: createApiKeySchema,
    status: 201,
    errors: WRITE_ERRORS,
    handler: async ({ actor, body }) => {
      const { apiKey, key } = await createApiKey(actor, body)
      return { ...apiKey, key }
    },
  }),
  defineOperation({
    id: 'getApiKey',
    method: 'GET',
    path: '/api/v1/api-keys/{id}',
    summary: 'Get an API key (never its secret)',
    tag: 'API keys',
    auth: 'any',
    permission: 'api-keys:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getApiKey(actor, params.id),
  }),
  defineOperation({
    id: 'updateApiKey',
    method: 'PUT',
    path: '/api/v1/api-keys/{id}',
    summary: "Rename an API key or change its permissions (never beyond the caller's own)",
    tag: 'API keys',
    auth: 'any',
    permission: 'api-keys:write',
    tier: 'ADMIN',
    params: idParams,
    body: updateApiKeySchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateApiKey(actor, params.id, body),
  }),
  defineOperation({
    id: 'revokeApiKey',
    method: 'DELETE',
    path: '/api/v1/api-keys/{id}',
    summary: 'Revoke an API key, effective immediately',
    tag: 'API keys',
    auth: 'any',
    permission: 'api-keys:delete',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: [...RESOURCE_ERRORS, 409],
    handler: async ({ actor, params }) => {
      await revokeApiKey(actor, params.id)
    },
  }),
]
