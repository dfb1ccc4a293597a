import { pageQuerySchema } from '~/services/pagination'
import { createTenantSchema, updateTenantSchema } from '~/services/tenants/schemas'
import { createTenant, deleteTenant, getTenant, listTenants, updateTenant } from '~/services/tenants/tenants.server'
import { projectOfCall } from '~/services/project-scope.server'
import { optionalProjectId } from '~/services/project-scope'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

export const tenantOperations = [
  defineOperation({
    id: 'listTenants',
    method: 'GET',
    path: '/api/v1/tenants',
    summary: "List a project's tenants",
    tag: 'Tenants',
    auth: 'any',
    permission: 'projects:read',
    tier: 'READ',
    query: pageQuerySchema.extend({
      projectId: optionalProjectId,
    }),
    status: 200,
    errors: [400, 403, 404],
    handler: ({ actor, query: { projectId, ...page } }) => listTenants(actor, projectOfCall(actor, projectId), page),
  }),
  defineOperation({
    id: 'createTenant',
    method: 'POST',
    path: '/api/v1/tenants',
    summary: 'Create a tenant (slug unique in its project; metadata a JSON object up to 16 KiB)',
    tag: 'Tenants',
    auth: 'any',
    permission: 'tenants:manage',
    tier: 'WRITE',
    body: createTenantSchema,
    status: 201,
    errors: WRITE_ERRORS,
    handler: ({ actor, body }) => createTenant(actor, { ...body, projectId: projectOfCall(actor, body.projectId) }),
  }),
  defineOperation({
    id: 'getTenant',
    method: 'GET',
    path: '/api/v1/tenants/{id}',
    summary: 'Get a tenant',
    tag: 'Tenants',
    auth: 'any',
    permission: 'projects:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getTenant(actor, params.id),
  }),
  defineOperation({
    id: 'updateTenant',
    method: 'PUT',
    path: '/api/v1/tenants/{id}',
    summary: "Rename a tenant or replace its metadata (its slug does not change)",
    tag: 'Tenants',
    auth: 'any',
    permission: 'tenants:manage',
    tier: 'WRITE',
    params: idParams,
    body: updateTenantSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateTenant(actor, params.id, body),
  }),
  defineOperation({
    id: 'deleteTenant',
    method: 'DELETE',
    path: '/api/v1/tenants/{id}',
    summary: 'Delete a tenant; refused (409) while it has files or uploads in progress',
    tag: 'Tenants',
    auth: 'any',
    permission: 'tenants:manage',
    tier: 'DELETE',
    params: idParams,
    status: 204,
    errors: [...RESOURCE_ERRORS, 409],
    handler: async ({ actor, params }) => {
      await deleteTenant(actor, params.id)
    },
  }),
]
