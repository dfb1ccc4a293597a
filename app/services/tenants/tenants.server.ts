import type { Prisma } from '~/generated/prisma/client'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, fieldConflict, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { recordEvent } from '../events/record-event.server'
import { isUniqueViolation } from '../db-errors.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import type { CreateTenantInput, TenantMetadata, UpdateTenantInput } from './schemas'

export interface TenantView {
  id: string
  projectId: string
  slug: string
  name: string
  metadata: TenantMetadata
  createdAt: Date
  updatedAt: Date
}

const tenantSelect = { id: true, projectId: true, slug: true, name: true, metadata: true, createdAt: true, updatedAt: true } as const

type TenantRow = Omit<TenantView, 'metadata'> & { metadata: unknown }
const toView = (row: TenantRow): TenantView => ({
  id: row.id,
  projectId: row.projectId,
  slug: row.slug,
  name: row.name,
  metadata: (row.metadata ?? {}) as TenantMetadata,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
})

const tenantData = (row: TenantRow) => ({ id: row.id, slug: row.slug, name: row.name, metadata: toView(row).metadata })

const slugTaken = () => fieldConflict('slug', 'This slug is already taken by another tenant in this project')

/** A tenant and the actor's access to its project; a tenant of a project the actor cannot see is "not found". */
async function tenantWithAccess(db: Transaction, actor: Actor, tenantId: string) {
  const tenant = await db.tenant.findUnique({ where: { id: tenantId }, select: tenantSelect })
  if (!tenant) throw notFound('Tenant')
  const access = await projectAccess(db, actor, tenant.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Tenant') : error
  })
  return { tenant, access }
}

/**
 * Checks that `tenantId` is a tenant of `projectId` (for listings and uploads scoped to one); a
 * tenant of another project is "not found", as if it did not exist.
 */
export async function requireTenantInProject(db: Pick<Transaction, 'tenant'>, projectId: string, tenantId: string) {
  const tenant = await db.tenant.findFirst({ where: { id: tenantId, projectId }, select: { id: true, slug: true, name: true } })
  if (!tenant) throw notFound('Tenant')
  return tenant
}

export async function listTenants(actor: Actor, projectId: string, page: PageQuery): Promise<Page<TenantView>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'list the tenants of this project')
  const rows = await prisma.tenant.findMany({ select: tenantSelect, ...pageArgs(page, { projectId }) })
  return toPage(rows.map(toView), page)
}

export async function getTenant(actor: Actor, tenantId: string, options: { projectId?: string } = {}): Promise<TenantView> {
  const { tenant, access } = await tenantWithAccess(prisma, actor, tenantId)
  if (options.projectId && tenant.projectId !== options.projectId) throw notFound('Tenant')
  requirePermission(access, 'projects:read', 'read the tenants of this project')
  return toView(tenant)
}

export async function createTenant(actor: Actor, input: CreateTenantInput & { projectId: string }): Promise<TenantView> {
  try {
    return await prisma.$transaction(async (tx) => {
      const access = await projectAccess(tx, actor, input.projectId)
      requirePermission(access, 'tenants:manage', 'create tenants in this project')
      const row = await tx.tenant.create({
        data: { projectId: input.projectId, slug: input.slug, name: input.name, metadata: (input.metadata ?? {}) as Prisma.InputJsonObject },
        select: tenantSelect,
      })
      await audit(tx, actor, access, 'tenant.create', row.id, {
        after: { projectId: row.projectId, slug: row.slug, name: row.name, metadata: row.metadata as Prisma.InputJsonValue },
      })
      await recordEvent(tx, { type: 'tenant.created', data: { projectId: row.projectId, tenant: tenantData(row) } })
      return toView(row)
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw slugTaken()
    throw error
  }
}

/** Renames a tenant or replaces its metadata; a field left out keeps its value. */
export async function updateTenant(actor: Actor, tenantId: string, input: UpdateTenantInput, options: { projectId?: string } = {}): Promise<TenantView> {
  return prisma.$transaction(async (tx) => {
    const { tenant, access } = await tenantWithAccess(tx, actor, tenantId)
    if (options.projectId && tenant.projectId !== options.projectId) throw notFound('Tenant')
    requirePermission(access, 'tenants:manage', 'change tenants of this project')
    const row = await tx.tenant.update({
      where: { id: tenantId },
      data: { name: input.name, metadata: input.metadata as Prisma.InputJsonObject | undefined },
      select: tenantSelect,
    })
    await audit(tx, actor, access, 'tenant.update', tenantId, {
      before: { name: tenant.name, metadata: tenant.metadata as Prisma.InputJsonValue },
      after: { name: row.name, metadata: row.metadata as Prisma.InputJsonValue },
    })
    await recordEvent(tx, { type: 'tenant.updated', data: { projectId: row.projectId, tenant: tenantData(row) } })
    return toView(row)
  })
}

/**
 * Deletes a tenant that has no files and no upload in progress (deleting it would otherwise drop
 * file rows whose objects stay in the bucket). The row is locked first, so a file completing at the
 * same moment is either counted here or refused by its foreign key.
 */
export async function deleteTenant(actor: Actor, tenantId: string, options: { projectId?: string } = {}): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { tenant, access } = await tenantWithAccess(tx, actor, tenantId)
    if (options.projectId && tenant.projectId !== options.projectId) throw notFound('Tenant')
    requirePermission(access, 'tenants:manage', 'delete tenants of this project')
    await tx.$queryRaw`SELECT id FROM "Tenant" WHERE id = ${tenantId} FOR UPDATE`
    const [files, uploads] = await Promise.all([
      tx.file.count({ where: { tenantId } }),
      tx.upload.count({ where: { tenantId, status: 'PENDING' } }),
    ])
    if (files > 0) {
      throw new AppError('CONFLICT', `Tenant ${tenant.slug} still has ${files} file${files === 1 ? '' : 's'}; delete them first.`)
    }
    if (uploads > 0) {
      throw new AppError('CONFLICT', `Tenant ${tenant.slug} has ${uploads} upload${uploads === 1 ? '' : 's'} in progress; let them finish or expire first.`)
    }
    await tx.tenant.delete({ where: { id: tenantId } })
    await audit(tx, actor, access, 'tenant.delete', tenantId, {
      before: { projectId: tenant.projectId, slug: tenant.slug, name: tenant.name, metadata: tenant.metadata as Prisma.InputJsonValue },
    })
    await recordEvent(tx, { type: 'tenant.deleted', data: { projectId: tenant.projectId, tenantId, slug: tenant.slug } })
  })
}

function audit(
  tx: Transaction,
  actor: Actor,
  access: ProjectAccess,
  action: string,
  tenantId: string,
  change: { before?: Prisma.InputJsonValue; after?: Prisma.InputJsonValue },
) {
  return recordAudit(tx, actor, actor, { ...projectAuditScope(access), tenantId, action, targetType: 'tenant', targetId: tenantId, ...change })
}
