import { buildOpenApiDocument } from './openapi.server'
import { defineOperation, type Operation } from './operation.server'
import { createApiRouter } from './router.server'
import { adoptionOperations } from './operations/adoptions.server'
import { apiKeyOperations } from './operations/api-keys.server'
import { auditLogOperations } from './operations/audit-logs.server'
import { authOperations } from './operations/auth.server'
import { bucketOperations } from './operations/buckets.server'
import { carcosaFileOperations } from './operations/carcosa-files.server'
import { carcosaUploadOperations } from './operations/carcosa-uploads.server'
import { fileOperations } from './operations/files.server'
import { organizationOperations } from './operations/organizations.server'
import { projectOperations } from './operations/projects.server'
import { seedPathOperations } from './operations/seed-paths.server'
import { realtimeOperations } from './operations/realtime.server'
import { settingsOperations } from './operations/settings.server'
import { systemOperations } from './operations/system.server'
import { teamOperations } from './operations/teams.server'
import { tenantOperations } from './operations/tenants.server'
import { transformEndpointDocumentation } from './operations/transform-endpoint.server'
import { transformOperations } from './operations/transforms.server'
import { uploadOperations } from './operations/uploads.server'
import { usageOperations } from './operations/usage.server'
import { webhookOperations } from './operations/webhooks.server'

let document: ReturnType<typeof buildOpenApiDocument> | undefined

const openApiOperation = defineOperation({
  id: 'openapi',
  method: 'GET',
  path: '/api/v1/openapi.json',
  summary: 'This API described as OpenAPI 3.1',
  tag: 'System',
  auth: 'none',
  tier: 'READ',
  status: 200,
  errors: [429],
  handler: async ({ request }) => {
    document ??= buildOpenApiDocument(DOCUMENTED_OPERATIONS, new URL(request.url).origin)
    return document
  },
})

/** Every REST operation: the host serves each under its path (router.server.ts, ADR 027). */
export const OPERATIONS: Operation[] = [
  ...systemOperations,
  openApiOperation,
  ...authOperations,
  ...organizationOperations,
  ...teamOperations,
  ...projectOperations,
  ...settingsOperations,
  ...apiKeyOperations,
  ...bucketOperations,
  ...tenantOperations,
  ...adoptionOperations,
  ...webhookOperations,
  ...fileOperations,
  ...uploadOperations,
  ...carcosaUploadOperations,
  ...carcosaFileOperations,
  ...transformOperations,
  ...realtimeOperations,
  ...usageOperations,
  ...auditLogOperations,
  ...seedPathOperations,
]

/** What the OpenAPI document and /docs/api describe: the table, and the transform URL served beside it. */
export const DOCUMENTED_OPERATIONS: Operation[] = [...OPERATIONS, transformEndpointDocumentation]

/** The operation (or transform endpoint) a pathname under /api/v1 names. */
export const routeApiPath = createApiRouter(OPERATIONS)
