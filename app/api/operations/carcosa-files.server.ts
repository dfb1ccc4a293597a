import { z } from 'zod'
import { storageStats } from '~/services/files/files.server'
import { downloadQuerySchema } from '~/services/files/schemas'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, idParams } from './common.server'
import { downloadAnswer } from './files.server'
import { projectOf } from './project-scope.server'

/** The file-router integration's storage statistics and authenticated file access. */
export const carcosaFileOperations = [
  defineOperation({
    id: 'carcosaStats',
    method: 'GET',
    path: '/api/v1/carcosa/stats',
    summary: 'Storage used: bytes and file count of the project and of each tenant',
    tag: 'Carcosa integration',
    auth: 'any',
    permission: 'files:read',
    tier: 'READ',
    query: z.object({ projectId: z.string().min(1).max(64).optional().describe("The project; an API key's own project when omitted") }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => storageStats(actor, projectOf(actor, query.projectId)),
  }),
  defineOperation({
    id: 'carcosaFile',
    method: 'GET',
    path: '/api/v1/carcosa/files/{id}',
    summary: 'Authenticated file access: 302 to a short-lived signed URL, or JSON with `redirect=false`',
    tag: 'Carcosa integration',
    auth: 'any',
    permission: 'files:read',
    tier: 'READ',
    params: idParams,
    query: downloadQuerySchema,
    status: 200,
    errors: RESOURCE_ERRORS,
    response: z.object({ url: z.string(), expiresAt: z.string() }),
    handler: ({ actor, params, query, request }) => downloadAnswer(actor, params.id, request, query.redirect),
  }),
]
