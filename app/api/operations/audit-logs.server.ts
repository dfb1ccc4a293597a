import { getAuditLog, listAuditLogs, verifyAuditChain } from '~/services/audit/audit-log.server'
import { auditListQuerySchema, auditVerifyQuerySchema } from '~/services/audit/schemas'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, idParams } from './common.server'

const common = { method: 'GET', tag: 'Audit logs', auth: 'any', permission: 'audit-logs:read', tier: 'READ', status: 200 } as const

export const auditLogOperations = [
  defineOperation({
    ...common,
    id: 'listAuditLogs',
    path: '/api/v1/audit-logs',
    summary:
      "Audit entries, newest first, filtered by actor, action, target, scope, tenant and time; an API key sees its project's, a user what their roles allow (organization owners and admins: the organization's)",
    query: auditListQuerySchema,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => listAuditLogs(actor, query),
  }),
  defineOperation({
    ...common,
    id: 'verifyAuditLogs',
    path: '/api/v1/audit-logs/verify',
    summary: "Verify an organization's audit hash chain from its retention anchor; reports the first entry that does not verify",
    tier: 'EXPENSIVE',
    query: auditVerifyQuerySchema,
    errors: [400, 403, 404],
    handler: ({ actor, query }) => verifyAuditChain(actor, query),
  }),
  defineOperation({
    ...common,
    id: 'getAuditLog',
    path: '/api/v1/audit-logs/{id}',
    summary: 'One audit entry with its before and after state, and its place in the chain',
    params: idParams,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getAuditLog(actor, params.id),
  }),
]
