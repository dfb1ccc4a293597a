import { z } from 'zod'
import { pageQuerySchema } from '~/services/pagination'
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listOrganizations,
  updateOrganization,
} from '~/services/workspaces/organizations.server'
import { createOrganizationSchema, slugSchema } from '~/services/workspaces/schemas'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

const updateBody = z
  .object({ name: createOrganizationSchema.shape.name.optional(), slug: slugSchema.optional() })
  .refine((value) => value.name !== undefined || value.slug !== undefined, { message: 'Send name, slug or both' })

export const organizationOperations = [
  defineOperation({
    id: 'listOrganizations',
    method: 'GET',
    path: '/api/v1/organizations',
    summary: 'List the organizations you belong to, with your role in each',
    tag: 'Organizations',
    auth: 'user',
    tier: 'READ',
    query: pageQuerySchema,
    status: 200,
    errors: [400, 403],
    handler: ({ actor, query }) => listOrganizations(actor, query),
  }),
  defineOperation({
    id: 'createOrganization',
    method: 'POST',
    path: '/api/v1/organizations',
    summary: 'Create an organization; you become its owner',
    tag: 'Organizations',
    auth: 'user',
    tier: 'WRITE',
    body: createOrganizationSchema,
    status: 201,
    errors: [400, 403, 409, 413, 415],
    handler: async ({ actor, body }) => ({ ...(await createOrganization(actor, body)), role: 'OWNER' }),
  }),
  defineOperation({
    id: 'getOrganization',
    method: 'GET',
    path: '/api/v1/organizations/{id}',
    summary: 'Get an organization',
    tag: 'Organizations',
    auth: 'user',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getOrganization(actor, params.id),
  }),
  defineOperation({
    id: 'updateOrganization',
    method: 'PUT',
    path: '/api/v1/organizations/{id}',
    summary: 'Rename an organization or change its slug (admins and owners)',
    tag: 'Organizations',
    auth: 'user',
    tier: 'WRITE',
    params: idParams,
    body: updateBody,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateOrganization(actor, params.id, body),
  }),
  defineOperation({
    id: 'deleteOrganization',
    method: 'DELETE',
    path: '/api/v1/organizations/{id}',
    summary: 'Delete an organization with its teams and projects (owners)',
    tag: 'Organizations',
    auth: 'user',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => deleteOrganization(actor, params.id),
  }),
]
