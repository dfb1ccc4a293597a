import { z } from 'zod'
import {
  createBucket,
  deleteBucket,
  getBucket,
  listBucketShares,
  listBuckets,
  revokeBucketShare,
  shareBucket,
  updateBucket,
  updateBucketShare,
} from '~/services/buckets/buckets.server'
import { createBucketSchema, shareBucketSchema, updateBucketSchema, updateShareSchema } from '~/services/buckets/schemas'
import { testBucketConnection } from '~/services/buckets/test-connection.server'
import { pageQuerySchema } from '~/services/pagination'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

const id = z.string().min(1).max(64)
const shareParams = z.object({ id: id.describe('The bucket id'), teamId: id.describe('The team the bucket is shared with') })

// Buckets are team resources: API keys (project-scoped) never reach them.
export const bucketOperations = [
  defineOperation({
    id: 'listBuckets',
    method: 'GET',
    path: '/api/v1/buckets',
    summary: "List a team's buckets: its own and those shared with it, each with the team's access",
    tag: 'Buckets',
    auth: 'user',
    tier: 'READ',
    query: pageQuerySchema.extend({ teamId: id.describe('The team whose buckets to list') }),
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, query: { teamId, ...page } }) => listBuckets(actor, teamId, page),
  }),
  defineOperation({
    id: 'createBucket',
    method: 'POST',
    path: '/api/v1/buckets',
    summary: 'Register a bucket for a team (credentials are stored encrypted and never returned)',
    tag: 'Buckets',
    auth: 'user',
    tier: 'WRITE',
    body: createBucketSchema,
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, body }) => createBucket(actor, body),
  }),
  defineOperation({
    id: 'getBucket',
    method: 'GET',
    path: '/api/v1/buckets/{id}',
    summary: 'Get a bucket (the access key id masked, never the secret)',
    tag: 'Buckets',
    auth: 'user',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, params }) => {
      const { canManage: _canManage, canEdit: _canEdit, ...bucket } = await getBucket(actor, params.id)
      return bucket
    },
  }),
  defineOperation({
    id: 'updateBucket',
    method: 'PUT',
    path: '/api/v1/buckets/{id}',
    summary: 'Change a bucket: name, region, endpoint, path style; both keys together rotate the credentials',
    tag: 'Buckets',
    auth: 'user',
    tier: 'WRITE',
    params: idParams,
    body: updateBucketSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateBucket(actor, params.id, body),
  }),
  defineOperation({
    id: 'deleteBucket',
    method: 'DELETE',
    path: '/api/v1/buckets/{id}',
    summary: "Delete a bucket's registration (not its objects); refused while projects or files use it",
    tag: 'Buckets',
    auth: 'user',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: [...RESOURCE_ERRORS, 409],
    handler: async ({ actor, params }) => {
      await deleteBucket(actor, params.id)
    },
  }),
  defineOperation({
    id: 'testBucket',
    method: 'POST',
    path: '/api/v1/buckets/{id}/test',
    summary: 'Test the connection: head the bucket, write and delete a probe object, check CORS for browser uploads',
    tag: 'Buckets',
    auth: 'user',
    tier: 'EXPENSIVE',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => testBucketConnection(actor, params.id),
  }),
  defineOperation({
    id: 'listBucketShares',
    method: 'GET',
    path: '/api/v1/buckets/{id}/shares',
    summary: 'List the teams a bucket is shared with',
    tag: 'Buckets',
    auth: 'user',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => listBucketShares(actor, params.id),
  }),
  defineOperation({
    id: 'shareBucket',
    method: 'POST',
    path: '/api/v1/buckets/{id}/shares',
    summary: 'Share a bucket with another team of the same organization (READ_ONLY, READ_WRITE or ADMIN)',
    tag: 'Buckets',
    auth: 'user',
    tier: 'WRITE',
    params: idParams,
    body: shareBucketSchema,
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => shareBucket(actor, params.id, body),
  }),
  defineOperation({
    id: 'updateBucketShare',
    method: 'PUT',
    path: '/api/v1/buckets/{id}/shares/{teamId}',
    summary: "Change a share's access level",
    tag: 'Buckets',
    auth: 'user',
    tier: 'WRITE',
    params: shareParams,
    body: updateShareSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateBucketShare(actor, params.id, params.teamId, body.access),
  }),
  defineOperation({
    id: 'revokeBucketShare',
    method: 'DELETE',
    path: '/api/v1/buckets/{id}/shares/{teamId}',
    summary: 'Revoke a share; refused while projects of that team store files in the bucket',
    tag: 'Buckets',
    auth: 'user',
    tier: 'DELETE',
    params: shareParams,
    status: 204,
    errors: [...RESOURCE_ERRORS, 409],
    handler: async ({ actor, params }) => {
      await revokeBucketShare(actor, params.id, params.teamId)
    },
  }),
]
