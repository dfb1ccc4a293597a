import { z } from 'zod'
import type { Actor } from '~/services/actor'
import { publicBaseUrl } from '~/services/buckets/bucket-storage.server'
import { createFileDownload, deleteFile, deleteFiles, getFile, listFilesJson } from '~/services/files/files.server'
import { bulkDeleteFilesSchema, downloadQuerySchema, listFilesQuerySchema } from '~/services/files/schemas'
import { projectOfCall } from '~/services/project-scope.server'
import { defineOperation, JsonText } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

/**
 * The answer to a download: 302 to a short-lived signed URL, or `{ url, expiresAt }` as JSON. Local
 * buckets' URLs point at the origin the caller reached us on (unless APP_URL says otherwise).
 */
async function downloadAnswer(actor: Actor, fileId: string, url: URL, redirect: 'true' | 'false') {
  const download = await createFileDownload(actor, fileId, { baseUrl: publicBaseUrl({ url }) })
  if (redirect === 'false') return { url: download.url, expiresAt: download.expiresAt }
  return new Response(null, { status: 302, headers: { Location: download.url, 'Cache-Control': 'no-store' } })
}

export const downloadFileOperation = defineOperation({
  id: 'downloadFile',
  method: 'GET',
  path: '/api/v1/files/{id}/download',
  summary: 'Download a file: 302 to a short-lived signed URL (attachment unless a safe image, audio or video), or JSON with `redirect=false`',
  tag: 'Files',
  auth: 'any',
  permission: 'files:read',
  tier: 'READ',
  params: idParams,
  query: downloadQuerySchema,
  status: 200,
  errors: RESOURCE_ERRORS,
  response: z.object({ url: z.string(), expiresAt: z.string() }),
  handler: ({ actor, params, query, url }) => downloadAnswer(actor, params.id, url, query.redirect),
})

export const fileOperations = [
  defineOperation({
    id: 'listFiles',
    method: 'GET',
    path: '/api/v1/files',
    summary: "List a project's files, filtered by tenant, content type or name prefix",
    tag: 'Files',
    auth: 'any',
    permission: 'files:read',
    tier: 'READ',
    query: listFilesQuerySchema,
    status: 200,
    errors: [400, 403, 404],
    handler: async ({ actor, query: { projectId, tenantId, contentType, namePrefix, ...page } }) =>
      new JsonText(await listFilesJson(actor, projectOfCall(actor, projectId), { tenantId, contentType, namePrefix }, page)),
  }),
  defineOperation({
    id: 'getFile',
    method: 'GET',
    path: '/api/v1/files/{id}',
    summary: 'Get a file',
    tag: 'Files',
    auth: 'any',
    permission: 'files:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getFile(actor, params.id),
  }),
  downloadFileOperation,
  defineOperation({
    id: 'deleteFile',
    method: 'DELETE',
    path: '/api/v1/files/{id}',
    summary: 'Delete a file: its object in the bucket, then its record',
    tag: 'Files',
    auth: 'any',
    permission: 'files:delete',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, params }) => {
      await deleteFile(actor, params.id)
    },
  }),
  defineOperation({
    id: 'bulkDeleteFiles',
    method: 'POST',
    path: '/api/v1/files/bulk-delete',
    summary: 'Delete up to 100 files; ids the caller cannot see are reported in `notFound` (404 when none is found)',
    tag: 'Files',
    auth: 'any',
    permission: 'files:delete',
    tier: 'DELETE',
    body: bulkDeleteFilesSchema,
    status: 200,
    errors: WRITE_ERRORS.filter((status) => status !== 409),
    handler: ({ actor, body }) => deleteFiles(actor, body.ids),
  }),
]
