import { z } from 'zod'
import { projectOfCall } from '~/services/project-scope.server'
import { optionalProjectId } from '~/services/project-scope'
import { getRateLimitOverrides, updateRateLimitOverrides } from '~/services/settings/settings.server'
import { defineOperation, type Operation } from '../operation.server'
import { bucketOperations } from './buckets.server'
import { carcosaFileOperations } from './carcosa-files.server'
import { RESOURCE_ERRORS, WRITE_ERRORS } from './common.server'
import { rateLimitsDocument, rateLimitsDocumentSchema, settingsOperations } from './settings.server'

/**
 * The paths Carcosa's first README documented, answering on the same operations as their current
 * homes: the same auth, permission, tier, schemas and service call, under the documented path.
 */
function samePathAs(id: string, from: Operation[], alias: { id: string; path: string }): Operation {
  const operation = from.find((candidate) => candidate.id === id)
  if (!operation) throw new Error(`No operation ${id} to serve ${alias.path}`)
  return { ...operation, ...alias, summary: `${operation.summary} (also at ${operation.path})` }
}

export const seedPathOperations: Operation[] = [
  samePathAs('shareBucket', bucketOperations, { id: 'shareBucketAtSharePath', path: '/api/v1/buckets/{id}/share' }),
  samePathAs('revokeBucketShare', bucketOperations, { id: 'revokeBucketShareAtSharePath', path: '/api/v1/buckets/{id}/share/{teamId}' }),
  samePathAs('getProjectSettings', settingsOperations, { id: 'getProjectSettingsAtSettingsPath', path: '/api/v1/settings/project/{id}' }),
  samePathAs('updateProjectSettings', settingsOperations, { id: 'updateProjectSettingsAtSettingsPath', path: '/api/v1/settings/project/{id}' }),
  samePathAs('getUserSettings', settingsOperations, { id: 'getUserSettingsAtSettingsPath', path: '/api/v1/settings/user' }),
  samePathAs('updateUserSettings', settingsOperations, { id: 'updateUserSettingsAtSettingsPath', path: '/api/v1/settings/user' }),
  samePathAs('carcosaStats', carcosaFileOperations, { id: 'carcosaStorageStats', path: '/api/v1/carcosa/storage/stats' }),
  defineOperation({
    id: 'getRateLimitsOfCall',
    method: 'GET',
    path: '/api/v1/rate-limits',
    summary: "Get the rate limits of the key's project (or `projectId`): overrides, defaults and the limits in effect",
    tag: 'Rate limits',
    auth: 'any',
    permission: 'projects:read',
    tier: 'READ',
    query: z.object({ projectId: optionalProjectId }),
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, query }) => rateLimitsDocument(await getRateLimitOverrides(actor, projectOfCall(actor, query.projectId))),
  }),
  defineOperation({
    id: 'updateRateLimitsOfCall',
    method: 'PUT',
    path: '/api/v1/rate-limits',
    summary: "Replace the rate-limit overrides of the key's project (or `projectId`), sending the shape GET answers (admin)",
    tag: 'Rate limits',
    auth: 'any',
    permission: 'admin',
    tier: 'ADMIN',
    query: z.object({ projectId: optionalProjectId }),
    body: rateLimitsDocumentSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: async ({ actor, query, body }) =>
      rateLimitsDocument(await updateRateLimitOverrides(actor, projectOfCall(actor, query.projectId), body.overrides)),
  }),
]
