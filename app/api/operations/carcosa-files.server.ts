import { z } from 'zod'
import { storageStats } from '~/services/files/files.server'
import { projectOfCall } from '~/services/project-scope.server'
import { optionalProjectId } from '~/services/project-scope'
import { defineOperation } from '../operation.server'
import { downloadFileOperation } from './files.server'

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
    query: z.object({ projectId: optionalProjectId }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => storageStats(actor, projectOfCall(actor, query.projectId)),
  }),
  {
    ...downloadFileOperation,
    id: 'carcosaFile',
    path: '/api/v1/carcosa/files/{id}',
    summary: 'Authenticated file access: 302 to a short-lived signed URL, or JSON with `redirect=false`',
    tag: 'Carcosa integration',
  },
]
