import { z } from 'zod'
import type { RoleName } from '../workspaces/schemas'

/** The 17 permissions an API key can carry. `admin` implies every other one. */
export const PERMISSIONS = [
  'files:read',
  'files:write',
  'files:delete',
  'transforms:read',
  'transforms:write',
  'transforms:delete',
  'transforms:execute',
  'projects:read',
  'projects:write',
  'projects:delete',
  'api-keys:read',
  'api-keys:write',
  'api-keys:delete',
  'tenants:manage',
  'usage:read',
  'audit-logs:read',
  'admin',
] as const

export type Permission = (typeof PERMISSIONS)[number]

/**
 * What a tenant-scoped key may carry (ADR 025): work on its tenant's files and transforms only,
 * nothing that reaches the project as a whole (tenants, keys, settings, usage, audit).
 */
export const TENANT_KEY_PERMISSIONS: readonly Permission[] = ['files:read', 'files:write', 'files:delete', 'transforms:execute']

export const permissionSchema = z.enum(PERMISSIONS, { error: `Unknown permission; valid ones: ${PERMISSIONS.join(', ')}` })

const READ: Permission[] = ['files:read', 'transforms:read', 'projects:read', 'api-keys:read', 'usage:read', 'audit-logs:read']
const WRITE: Permission[] = [
  'files:write',
  'files:delete',
  'transforms:write',
  'transforms:delete',
  'transforms:execute',
  'projects:write',
  'api-keys:write',
  'tenants:manage',
]

/**
 * What a team role may do in the team's projects. A user acts with these; a key they create can
 * carry no more. Viewers read; members also change; admins and owners also delete and administer.
 */
export const ROLE_PERMISSIONS: Record<RoleName, readonly Permission[]> = {
  VIEWER: READ,
  MEMBER: [...READ, ...WRITE],
  ADMIN: PERMISSIONS,
  OWNER: PERMISSIONS,
}

export function hasPermission(granted: readonly Permission[], needed: Permission): boolean {
  return granted.includes('admin') || granted.includes(needed)
}

/** The permissions in `requested` that `granted` does not cover. */
export function missingPermissions(granted: readonly Permission[], requested: readonly Permission[]): Permission[] {
  return requested.filter((permission) => !hasPermission(granted, permission))
}

export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  'files:read': 'List and download files',
  'files:write': 'Upload files',
  'files:delete': 'Delete files',
  'transforms:read': 'Read transform presets',
  'transforms:write': 'Create and change transform presets',
  'transforms:delete': 'Delete transform presets',
  'transforms:execute': 'Request image transforms',
  'projects:read': 'Read the project and its settings',
  'projects:write': 'Change the project and its settings',
  'projects:delete': 'Delete the project',
  'api-keys:read': 'List API keys',
  'api-keys:write': 'Create API keys and change their permissions',
  'api-keys:delete': 'Revoke API keys',
  'tenants:manage': 'Create, change and delete tenants',
  'usage:read': 'Read usage analytics',
  'audit-logs:read': 'Read audit logs',
  admin: 'Everything above, plus rate-limit overrides',
}
