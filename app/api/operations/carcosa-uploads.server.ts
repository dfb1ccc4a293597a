import { z } from 'zod'
import { checkUploadHealth } from '~/services/uploads/upload-health.server'
import { optionalProjectId } from '~/services/project-scope'
import { defineOperation } from '../operation.server'
import { completeUploadOperation, initUploadOperation } from './uploads.server'

/** The file-router integration's calls: the same services as /api/v1/uploads, under its own paths. */
export const carcosaUploadOperations = [
  defineOperation({
    id: 'carcosaHealth',
    method: 'GET',
    path: '/api/v1/carcosa/health',
    summary: 'For the file-router integration: the credentials work, reach the project and may upload, and whether it has a bucket',
    tag: 'Carcosa integration',
    auth: 'any',
    permission: 'files:write',
    tier: 'READ',
    query: z.object({ projectId: optionalProjectId }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => checkUploadHealth(actor, query.projectId),
  }),
  { ...initUploadOperation, id: 'carcosaInitUpload', path: '/api/v1/carcosa/init', tag: 'Carcosa integration' },
  { ...completeUploadOperation, id: 'carcosaCompleteUpload', path: '/api/v1/carcosa/complete', tag: 'Carcosa integration' },
]
