import { z } from 'zod'
import { publicBaseUrl } from '~/services/buckets/bucket-storage.server'
import { abortUpload } from '~/services/uploads/abort-upload.server'
import { completeUpload } from '~/services/uploads/complete-upload.server'
import { initUpload } from '~/services/uploads/init-upload.server'
import {
  completeUploadSchema,
  initUploadSchema,
  partParams,
  recordPartSchema,
  signPartsSchema,
  streamUploadFieldsSchema,
  streamUploadQuerySchema,
} from '~/services/uploads/schemas'
import { receiveStreamedUpload } from '~/services/uploads/streamed-upload.server'
import { recordUploadPart, signUploadParts } from '~/services/uploads/upload-parts.server'
import { getUploadStatus } from '~/services/uploads/upload-status.server'
import { claimUploadCallback, settleUploadCallback } from '~/services/uploads/upload-callback.server'
import { uploadFromUrl, uploadFromUrlSchema } from '~/services/uploads/upload-from-url.server'
import { callbackResultSchema } from '~/services/uploads/upload-route'
import { defineOperation } from '../operation.server'

const uploadIdParams = z.object({ id: z.string().min(1).max(64).describe('The upload id') })

/** Statuses of calls on one pending upload: gone when expired, a conflict once settled, 502 when the bucket fails. */
const UPLOAD_ERRORS = [400, 403, 404, 409, 410, 502]

export const initUploadOperation = defineOperation({
  id: 'initUpload',
  method: 'POST',
  path: '/api/v1/uploads/init',
  summary:
    'Start a direct-to-bucket upload: a signed PUT (`method: "PUT"`: send the bytes to `url` with `headers`), or a resumable multipart upload (`method: "MULTIPART"`, above 100 MiB or when asked); then complete it',
  tag: 'Uploads',
  auth: 'any',
  permission: 'files:write',
  tier: 'WRITE',
  body: initUploadSchema,
  status: 201,
  errors: [400, 403, 404, 409, 413, 415, 502],
  handler: ({ actor, body, url }) => initUpload(actor, body, { baseUrl: publicBaseUrl({ url }) }),
})

export const completeUploadOperation = defineOperation({
  id: 'completeUpload',
  method: 'POST',
  path: '/api/v1/uploads/complete',
  summary:
    'Complete an upload: the object is checked (exists, declared size, first bytes match the declared type, project rules) and only then becomes a file; a failed check deletes it (422). Completing again returns the same file',
  tag: 'Uploads',
  auth: 'any',
  permission: 'files:write',
  tier: 'WRITE',
  body: completeUploadSchema,
  status: 200,
  errors: [...UPLOAD_ERRORS, 413, 415, 422],
  handler: ({ actor, body }) => completeUpload(actor, body),
})

const settleCallbackSchema = z.object({
  claimId: z.string({ error: 'claimId is required' }).min(1, 'claimId is required').max(64).describe('The claimId the claim answered'),
  outcome: z
    .enum(['done', 'failed'], { error: 'outcome must be done or failed' })
    .describe(
      '`done`: the callback ran, its serverData is stored and answered to every later claim; `failed`: the claim is released for the next report',
    ),
  serverData: callbackResultSchema.optional().describe('What the callback returned (JSON, at most 64 KiB; with `done`)'),
})

export const uploadOperations = [
  initUploadOperation,
  completeUploadOperation,
  defineOperation({
    id: 'signUploadParts',
    method: 'POST',
    path: '/api/v1/uploads/{id}/parts',
    summary: 'Sign PUT URLs for parts of a multipart upload, up to 100 part numbers per call; each part answers an ETag header to record',
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'STANDARD',
    params: uploadIdParams,
    body: signPartsSchema,
    status: 200,
    errors: [...UPLOAD_ERRORS, 413, 415],
    handler: ({ actor, params, body, url }) => signUploadParts(actor, params.id, body.partNumbers, { baseUrl: publicBaseUrl({ url }) }),
  }),
  defineOperation({
    id: 'recordUploadPart',
    method: 'PUT',
    path: '/api/v1/uploads/{id}/parts/{partNumber}',
    summary: 'Record an uploaded part (its ETag and size), so the upload can be resumed from its status after a reload',
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'STANDARD',
    params: partParams,
    body: recordPartSchema,
    status: 200,
    errors: [...UPLOAD_ERRORS, 413, 415],
    handler: ({ actor, params, body }) => recordUploadPart(actor, params.id, params.partNumber, body),
  }),
  defineOperation({
    id: 'getUploadStatus',
    method: 'GET',
    path: '/api/v1/uploads/{id}/status',
    summary: "An upload's state, recorded parts, expiry, failure reason, and its file once completed",
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'READ',
    params: uploadIdParams,
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, params }) => getUploadStatus(actor, params.id),
  }),
  defineOperation({
    id: 'abortUpload',
    method: 'POST',
    path: '/api/v1/uploads/{id}/abort',
    summary: 'Abort a pending upload: its parts and object are removed from the bucket',
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'WRITE',
    params: uploadIdParams,
    status: 200,
    errors: [400, 403, 404, 409, 410],
    handler: ({ actor, params }) => abortUpload(actor, params.id),
  }),
  defineOperation({
    id: 'claimUploadCallback',
    method: 'POST',
    path: '/api/v1/uploads/{id}/callback/claim',
    summary:
      "For SDK route handlers: claim the right to run a completed upload's completion callback, once however many reports arrive. `claimed` (run it, then settle), `done` (with the stored serverData) or `busy` (another report holds the claim)",
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'STANDARD',
    params: uploadIdParams,
    status: 200,
    errors: [400, 403, 404, 409, 410],
    handler: ({ actor, params }) => claimUploadCallback(actor, params.id),
  }),
  defineOperation({
    id: 'settleUploadCallback',
    method: 'POST',
    path: '/api/v1/uploads/{id}/callback/settle',
    summary:
      'Settle a callback claim: `done` stores serverData (and stops the reconciliation webhook), `failed` releases the claim; 409 when the claim lapsed and was taken',
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'STANDARD',
    params: uploadIdParams,
    body: settleCallbackSchema,
    status: 200,
    errors: [400, 403, 404, 409, 410, 413, 415],
    handler: ({ actor, params, body }) =>
      settleUploadCallback(
        actor,
        params.id,
        body.outcome === 'done'
          ? { claimId: body.claimId, outcome: 'done', serverData: body.serverData ?? null }
          : { claimId: body.claimId, outcome: 'failed' },
      ),
  }),
  defineOperation({
    id: 'uploadFromUrl',
    method: 'POST',
    path: '/api/v1/uploads/from-url',
    summary:
      "Store a file Carcosa fetches from a URL: the URL and each redirect pass the SSRF guard, the body streams to the bucket within the project's limit, and it is completed like any upload",
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'WRITE',
    body: uploadFromUrlSchema,
    status: 201,
    errors: [400, 403, 404, 409, 413, 415, 422, 502],
    handler: ({ actor, body }) => uploadFromUrl(actor, body),
  }),
  defineOperation({
    id: 'streamFileUpload',
    method: 'POST',
    path: '/api/v1/files/upload',
    summary:
      'Upload a file through Carcosa as multipart/form-data: an optional `tenantId` field FIRST, then one part named `file` (its filename and Content-Type are kept). Streamed to the bucket, then completed like any upload',
    tag: 'Uploads',
    auth: 'any',
    permission: 'files:write',
    tier: 'WRITE',
    query: streamUploadQuerySchema,
    multipart: streamUploadFieldsSchema,
    status: 201,
    errors: [400, 403, 404, 409, 413, 415, 422, 502],
    handler: ({ actor, query, request }) => receiveStreamedUpload(actor, { projectId: query.projectId, request }),
  }),
]
