import { z } from 'zod'
import { pageQuerySchema } from '~/services/pagination'
import { createProject, deleteProject, getProject, listProjects, updateProject } from '~/services/workspaces/projects.server'
import { createProjectSchema, projectBucketIdSchema, slugSchema } from '~/services/workspaces/schemas'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

const id = z.string().min(1).max(64)
const updateProjectBody = z
  .object({ name: createProjectSchema.shape.name.optional(), slug: slugSchema.optional(), bucketId: projectBucketIdSchema.optional() })
  .refine((value) => value.name !== undefined || value.slug !== undefined || value.bucketId !== undefined, {
    message: 'Send name, slug, bucketId or several of them',
  })
export const projectOperations = [
  defineOperation({
    id: 'listProjects',
    method: 'GET',
    path: '/api/v1/projects',
    summary: "List a team's projects",
    tag: 'Projects',
    auth: 'user',
    tier: 'READ',
    query: pageQuerySchema.extend({ teamId: id.describe('The team whose projects to list') }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => listProjects(actor, query.teamId, query),
  }),
  defineOperation({
    id: 'createProject',
    method: 'POST',
    path: '/api/v1/projects',
    summary: 'Create a project in a team',
    tag: 'Projects',
    auth: 'user',
    tier: 'WRITE',
    body: createProjectSchema.extend({
      teamId: id,
      bucketId: projectBucketIdSchema.optional().describe("A bucket the team may write to; the team's local storage when omitted and enabled"),
    }),
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, body: { teamId, ...input } }) => createProject(actor, teamId, input),
  }),
  defineOperation({
    id: 'getProject',
    method: 'GET',
    path: '/api/v1/projects/{id}',
    summary: 'Get a project',
    tag: 'Projects',
    auth: 'any',
    permission: 'projects:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getProject(actor, params.id),
  }),
  defineOperation({
    id: 'updateProject',
    method: 'PUT',
    path: '/api/v1/projects/{id}',
    summary: 'Rename a project, change its slug, or give it another bucket (one its team may write to)',
    tag: 'Projects',
    auth: 'any',
    permission: 'projects:write',
    tier: 'WRITE',
    params: idParams,
    body: updateProjectBody,
    status: 200,
    errors: WRITE_ERRORS,
    // No read first: a key holding projects:write alone may update (reading needs projects:read).
    handler: ({ actor, params, body }) => updateProject(actor, params.id, body),
  }),
  defineOperation({
    id: 'deleteProject',
    method: 'DELETE',
    path: '/api/v1/projects/{id}',
    summary: 'Delete a project',
    tag: 'Projects',
    auth: 'any',
    permission: 'projects:delete',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => deleteProject(actor, params.id),
  }),
]
