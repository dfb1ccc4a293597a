import type { Prisma } from '~/generated/prisma/client'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, fieldConflict, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { isUniqueViolation } from '../db-errors.server'
import { projectAccess, requirePermission, type ProjectAccess } from '../workspaces/access.server'
import { limitColumns, limitsOfRow, NO_LIMITS, type Limits } from './limits'
import type { CreatePlanInput, UpdatePlanInput } from './plan-schemas'
import { checkStoredQuota } from './quota.server'

export interface PlanView {
  id: string
  projectId: string
  name: string
  limits: Limits
  /** Tenants on this plan. */
  tenantCount: number
  createdAt: Date
  updatedAt: Date
}

const planSelect = {
  id: true,
  projectId: true,
  name: true,
  maxStoredBytes: true,
  maxFiles: true,
  maxFileBytes: true,
  maxUploadsPerHour: true,
  maxTransformsPerHour: true,
  createdAt: true,
  updatedAt: true,
  _count: { select: { tenants: true } },
} as const

type PlanRow = Prisma.PlanGetPayload<{ select: typeof planSelect }>

const toView = (row: PlanRow): PlanView => ({
  id: row.id,
  projectId: row.projectId,
  name: row.name,
  limits: limitsOfRow(row),
  tenantCount: row._count.tenants,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
})

const nameTaken = () => fieldConflict('name', 'This project already has a plan with this name')

async function planWithAccess(db: Transaction, actor: Actor, planId: string, projectId?: string) {
  const plan = await db.plan.findUnique({ where: { id: planId }, select: planSelect })
  if (!plan || (projectId && plan.projectId !== projectId)) throw notFound('Plan')
  const access = await projectAccess(db, actor, plan.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Plan') : error
  })
  return { plan, access }
}

const audit = (
  tx: Transaction,
  actor: Actor,
  access: ProjectAccess,
  action: string,
  planId: string,
  change: { before?: Prisma.InputJsonValue; after?: Prisma.InputJsonValue },
) => recordAudit(tx, actor, actor, { organizationId: access.team.organizationId, action, targetType: 'plan', targetId: planId, ...change })

const planState = (row: PlanRow) => ({ projectId: row.projectId, name: row.name, limits: limitsOfRow(row) })

/** A project's plans by name (a project has a handful). */
export async function listPlans(actor: Actor, projectId: string): Promise<PlanView[]> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'list the plans of this project')
  const rows = await prisma.plan.findMany({ where: { projectId }, select: planSelect, orderBy: { name: 'asc' }, take: MAX_PLANS })
  return rows.map(toView)
}

/** Plans per project: enough for tiers, few enough to list on one page. */
export const MAX_PLANS = 100

export async function getPlan(actor: Actor, planId: string, options: { projectId?: string } = {}): Promise<PlanView> {
  const { plan, access } = await planWithAccess(prisma, actor, planId, options.projectId)
  requirePermission(access, 'projects:read', 'read the plans of this project')
  return toView(plan)
}

export async function createPlan(actor: Actor, input: CreatePlanInput & { projectId: string }): Promise<PlanView> {
  try {
    return await prisma.$transaction(async (tx) => {
      const access = await projectAccess(tx, actor, input.projectId)
      requirePermission(access, 'tenants:manage', 'create plans in this project')
      if ((await tx.plan.count({ where: { projectId: input.projectId } })) >= MAX_PLANS) {
        throw new AppError('CONFLICT', `A project has at most ${MAX_PLANS} plans.`)
      }
      const row = await tx.plan.create({
        data: { projectId: input.projectId, name: input.name, ...limitColumns({ ...NO_LIMITS, ...input.limits }) },
        select: planSelect,
      })
      await audit(tx, actor, access, 'plan.create', row.id, { after: planState(row) })
      return toView(row)
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken()
    throw error
  }
}

/** Renames a plan or changes its limits (a limit left out is kept, null removes it); its tenants follow at once. */
export async function updatePlan(actor: Actor, planId: string, input: UpdatePlanInput, options: { projectId?: string } = {}): Promise<PlanView> {
  let updated: PlanView
  try {
    updated = await prisma.$transaction(async (tx) => {
      const { plan, access } = await planWithAccess(tx, actor, planId, options.projectId)
      requirePermission(access, 'tenants:manage', 'change plans of this project')
      const row = await tx.plan.update({
        where: { id: planId },
        data: { name: input.name, ...limitColumns(input.limits ?? {}) },
        select: planSelect,
      })
      await audit(tx, actor, access, 'plan.update', planId, { before: planState(plan), after: planState(row) })
      return toView(row)
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken()
    throw error
  }
  // New limits move the tenants' quota levels (and may cross one).
  const tenants = await prisma.tenant.findMany({ where: { planId }, select: { id: true }, take: 1000 })
  for (const tenant of tenants) await checkStoredQuota(tenant.id)
  return updated
}

/** Deletes a plan; its tenants keep their own overrides and no longer have a plan. */
export async function deletePlan(actor: Actor, planId: string, options: { projectId?: string } = {}): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { plan, access } = await planWithAccess(tx, actor, planId, options.projectId)
    requirePermission(access, 'tenants:manage', 'delete plans of this project')
    await tx.plan.delete({ where: { id: planId } })
    await audit(tx, actor, access, 'plan.delete', planId, { before: planState(plan) })
  })
}
