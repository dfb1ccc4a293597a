import { pageQuerySchema } from '~/services/pagination'
import { publicBaseUrl } from '~/services/buckets/bucket-storage.server'
import { createPreset, deletePreset, getPreset, listPresets, updatePreset } from '~/services/transforms/presets.server'
import { MAX_URLS_PER_SIGNING, createPresetSchema, signUrlSchema, signUrlsSchema, updatePresetSchema } from '~/services/transforms/schemas'
import { signTransformUrl, signTransformUrls } from '~/services/transforms/sign-url.server'
import { rotateSigningSecret } from '~/services/transforms/signing.server'
import { projectOfCall } from '~/services/project-scope.server'
import { optionalProjectId } from '~/services/project-scope'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

export const transformOperations = [
  defineOperation({
    id: 'listTransformPresets',
    method: 'GET',
    path: '/api/v1/transforms',
    summary: "List a project's transform presets (named parameter sets for `?preset=`)",
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:read',
    tier: 'READ',
    query: pageQuerySchema.extend({
      projectId: optionalProjectId,
    }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query: { projectId, ...page } }) => listPresets(actor, projectOfCall(actor, projectId), page),
  }),
  defineOperation({
    id: 'createTransformPreset',
    method: 'POST',
    path: '/api/v1/transforms',
    summary: 'Create a transform preset',
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:write',
    tier: 'WRITE',
    body: createPresetSchema,
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, body: { projectId, ...input } }) => createPreset(actor, projectOfCall(actor, projectId), input),
  }),
  defineOperation({
    id: 'signTransformUrl',
    method: 'POST',
    path: '/api/v1/transforms/sign',
    summary: 'Mint a signed, expiring transform URL for a file path',
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:execute',
    tier: 'STANDARD',
    body: signUrlSchema,
    status: 200,
    errors: [400, 403, 404, 413, 415],
    handler: ({ actor, body: { projectId, ...input }, url }) =>
      signTransformUrl(actor, projectOfCall(actor, projectId), input, publicBaseUrl({ url })),
  }),
  defineOperation({
    id: 'signTransformUrls',
    method: 'POST',
    path: '/api/v1/transforms/sign/batch',
    summary: `Mint up to ${MAX_URLS_PER_SIGNING} signed, expiring transform URLs of one project in one call (a responsive image's widths, a page of images), answered in the order asked`,
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:execute',
    tier: 'STANDARD',
    body: signUrlsSchema,
    status: 200,
    errors: [400, 403, 404, 413, 415],
    handler: async ({ actor, body: { projectId, items }, url }) => ({
      items: await signTransformUrls(actor, projectOfCall(actor, projectId), items, publicBaseUrl({ url })),
    }),
  }),
  defineOperation({
    id: 'getTransformPreset',
    method: 'GET',
    path: '/api/v1/transforms/{id}',
    summary: 'Get a transform preset',
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getPreset(actor, params.id),
  }),
  defineOperation({
    id: 'updateTransformPreset',
    method: 'PUT',
    path: '/api/v1/transforms/{id}',
    summary: 'Rename a transform preset or replace its parameters',
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:write',
    tier: 'WRITE',
    params: idParams,
    body: updatePresetSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updatePreset(actor, params.id, body),
  }),
  defineOperation({
    id: 'deleteTransformPreset',
    method: 'DELETE',
    path: '/api/v1/transforms/{id}',
    summary: 'Delete a transform preset',
    tag: 'Transforms',
    auth: 'any',
    permission: 'transforms:delete',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, params }) => {
      await deletePreset(actor, params.id)
    },
  }),
  defineOperation({
    id: 'rotateTransformSecret',
    method: 'POST',
    path: '/api/v1/projects/{id}/transform-secrets/rotate',
    summary: "Rotate a project's transform signing secret: the previous one stays valid, older ones stop (admin)",
    tag: 'Transforms',
    auth: 'any',
    permission: 'admin',
    tier: 'ADMIN',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => rotateSigningSecret(actor, params.id),
  }),
]
