import { z } from 'zod'
import { pageQuerySchema } from '~/services/pagination'
import { addTeamMemberSchema, createTeamSchema, slugSchema } from '~/services/workspaces/schemas'
import {
  addTeamMember,
  createTeam,
  deleteTeam,
  getTeam,
  listTeamMembers,
  listTeams,
  removeTeamMember,
  updateTeam,
} from '~/services/workspaces/teams.server'
import { notFound } from '~/utils/errors.server'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

const id = z.string().min(1).max(64)
const updateBody = z
  .object({ name: createTeamSchema.shape.name.optional(), slug: slugSchema.optional() })
  .refine((value) => value.name !== undefined || value.slug !== undefined, { message: 'Send name, slug or both' })

export const teamOperations = [
  defineOperation({
    id: 'listTeams',
    method: 'GET',
    path: '/api/v1/teams',
    summary: "List an organization's teams",
    tag: 'Teams',
    auth: 'user',
    tier: 'READ',
    query: pageQuerySchema.extend({ organizationId: id.describe('The organization whose teams to list') }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => listTeams(actor, query.organizationId, query),
  }),
  defineOperation({
    id: 'createTeam',
    method: 'POST',
    path: '/api/v1/teams',
    summary: 'Create a team in an organization; you become its owner',
    tag: 'Teams',
    auth: 'user',
    tier: 'WRITE',
    body: createTeamSchema.extend({ organizationId: id }),
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, body: { organizationId, ...input } }) => createTeam(actor, organizationId, input),
  }),
  defineOperation({
    id: 'getTeam',
    method: 'GET',
    path: '/api/v1/teams/{id}',
    summary: 'Get a team with your role in it',
    tag: 'Teams',
    auth: 'user',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getTeam(actor, params.id),
  }),
  defineOperation({
    id: 'updateTeam',
    method: 'PUT',
    path: '/api/v1/teams/{id}',
    summary: 'Rename a team or change its slug',
    tag: 'Teams',
    auth: 'user',
    tier: 'WRITE',
    params: idParams,
    body: updateBody,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateTeam(actor, params.id, body),
  }),
  defineOperation({
    id: 'deleteTeam',
    method: 'DELETE',
    path: '/api/v1/teams/{id}',
    summary: 'Delete a team and its projects',
    tag: 'Teams',
    auth: 'user',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => deleteTeam(actor, params.id),
  }),
  defineOperation({
    id: 'listTeamMembers',
    method: 'GET',
    path: '/api/v1/teams/{id}/members',
    summary: "List a team's members",
    tag: 'Teams',
    auth: 'user',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, params }) => ({ items: await listTeamMembers(actor, params.id), nextCursor: null }),
  }),
  defineOperation({
    id: 'addTeamMember',
    method: 'POST',
    path: '/api/v1/teams/{id}/members',
    summary: 'Add a member of the organization to the team',
    tag: 'Teams',
    auth: 'user',
    tier: 'WRITE',
    params: idParams,
    body: addTeamMemberSchema,
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => addTeamMember(actor, params.id, body.userId, body.role),
  }),
  defineOperation({
    id: 'removeTeamMember',
    method: 'DELETE',
    path: '/api/v1/teams/{id}/members/{userId}',
    summary: 'Remove someone from the team',
    tag: 'Teams',
    auth: 'user',
    tier: 'DELETE',
    params: idParams.extend({ userId: id.describe('The user to remove') }),
    status: 204,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, params }) => {
      const member = (await listTeamMembers(actor, params.id)).find((m) => m.user.id === params.userId)
      if (!member) throw notFound('Team member')
      await removeTeamMember(actor, params.id, member.id)
    },
  }),
]
