import type { TenantStatus } from '~/generated/prisma/enums'
import { AppError } from '~/utils/errors.server'

export type TenantStatusValue = TenantStatus

/** The API's spelling of a status. */
export const TENANT_STATUSES = ['active', 'suspended', 'archived'] as const
export type TenantStatusName = (typeof TENANT_STATUSES)[number]

export const statusName = (status: TenantStatus) => status.toLowerCase() as TenantStatusName
export const statusOfName = (name: TenantStatusName) => name.toUpperCase() as TenantStatus

interface TenantState {
  slug: string
  status: TenantStatus
}

export const tenantSuspended = (slug: string) =>
  new AppError('FORBIDDEN', `Tenant ${slug} is suspended: its uploads, downloads and transforms are refused until it is reactivated.`, {
    extensions: { tenant: { slug, status: 'suspended' } },
  })

/** Reading a tenant's files (downloads, transforms): refused while it is suspended. */
export function requireTenantReadable(tenant: TenantState | null | undefined) {
  if (tenant?.status === 'SUSPENDED') throw tenantSuspended(tenant.slug)
}

/** Changing a tenant's files (uploads, deletions, edits): refused while suspended or archived. */
export function requireTenantWritable(tenant: TenantState | null | undefined, action: string) {
  if (!tenant) return
  if (tenant.status === 'SUSPENDED') throw tenantSuspended(tenant.slug)
  if (tenant.status === 'ARCHIVED') {
    throw new AppError('FORBIDDEN', `Tenant ${tenant.slug} is archived and read-only: you cannot ${action}.`, {
      extensions: { tenant: { slug: tenant.slug, status: 'archived' } },
    })
  }
}
