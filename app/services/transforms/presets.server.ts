import type { Prisma } from '~/generated/prisma/client'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError, fieldConflict, notFound } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { isUniqueViolation } from '../db-errors.server'
import { pageArgs, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { paramsFromObject, type TransformParams } from './params'
import type { CreatePresetInput, UpdatePresetInput } from './schemas'

/** A named set of transform parameters in a project (`?preset=thumbnail`). */
export interface TransformPreset {
  id: string
  projectId: string
  name: string
  params: TransformParams
  createdAt: Date
  updatedAt: Date
}

const select = { id: true, projectId: true, name: true, params: true, createdAt: true, updatedAt: true } as const

type PresetRow = Omit<TransformPreset, 'params'> & { params: Prisma.JsonValue }

/** Stored parameters read through today's parsers: anything no longer valid is dropped, not served. */
function storedParams(value: Prisma.JsonValue): TransformParams {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  try {
    return paramsFromObject(value as Record<string, unknown>, { allowPreset: false })
  } catch {
    return {}
  }
}

const toPreset = (row: PresetRow): TransformPreset => ({
  id: row.id,
  projectId: row.projectId,
  name: row.name,
  params: storedParams(row.params),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
})
const asJson = (params: TransformParams) => JSON.parse(JSON.stringify(params)) as Prisma.InputJsonObject

const nameTaken = (name: string) => fieldConflict('name', `A preset named ${name} already exists in this project`)

async function presetWithAccess(db: Transaction, actor: Actor, presetId: string) {
  const preset = await db.transformPreset.findUnique({ where: { id: presetId }, select })
  if (!preset) throw notFound('Transform preset')
  const access = await projectAccess(db, actor, preset.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND' ? notFound('Transform preset') : error
  })
  return { preset, access }
}

export async function createPreset(actor: Actor, projectId: string, input: Omit<CreatePresetInput, 'projectId'>): Promise<TransformPreset> {
  try {
    return await prisma.$transaction(async (tx) => {
      const access = await projectAccess(tx, actor, projectId)
      requirePermission(access, 'transforms:write', 'create transform presets in this project')
      const row = await tx.transformPreset.create({ data: { projectId, name: input.name, params: asJson(input.params) }, select })
      await recordAudit(tx, actor, actor, {
        ...projectAuditScope(access),
        action: 'transform_preset.create',
        targetType: 'transform_preset',
        targetId: row.id,
        after: { projectId, name: row.name, params: asJson(input.params) },
      })
      return toPreset(row)
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(input.name)
    throw error
  }
}

export async function listPresets(actor: Actor, projectId: string, page: PageQuery): Promise<Page<TransformPreset>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'transforms:read', 'list transform presets of this project')
  const rows = await prisma.transformPreset.findMany({ select, ...pageArgs(page, { projectId }) })
  return toPage(rows.map(toPreset), page)
}

export async function getPreset(actor: Actor, presetId: string): Promise<TransformPreset> {
  const { preset, access } = await presetWithAccess(prisma, actor, presetId)
  requirePermission(access, 'transforms:read', 'read transform presets of this project')
  return toPreset(preset)
}

export async function updatePreset(actor: Actor, presetId: string, input: UpdatePresetInput): Promise<TransformPreset> {
  try {
    return await prisma.$transaction(async (tx) => {
      const { preset, access } = await presetWithAccess(tx, actor, presetId)
      requirePermission(access, 'transforms:write', 'change transform presets of this project')
      const row = await tx.transformPreset.update({
        where: { id: presetId },
        data: { name: input.name, params: input.params ? asJson(input.params) : undefined },
        select,
      })
      await recordAudit(tx, actor, actor, {
        ...projectAuditScope(access),
        action: 'transform_preset.update',
        targetType: 'transform_preset',
        targetId: presetId,
        before: { name: preset.name, params: preset.params ?? {} },
        after: { name: row.name, params: row.params ?? {} },
      })
      return toPreset(row)
    })
  } catch (error) {
    if (isUniqueViolation(error) && input.name) throw nameTaken(input.name)
    throw error
  }
}

export async function deletePreset(actor: Actor, presetId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { preset, access } = await presetWithAccess(tx, actor, presetId)
    requirePermission(access, 'transforms:delete', 'delete transform presets of this project')
    await tx.transformPreset.delete({ where: { id: presetId } })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'transform_preset.delete',
      targetType: 'transform_preset',
      targetId: presetId,
      before: { name: preset.name, params: preset.params ?? {} },
    })
  })
}

/** A preset's parameters by name, for the transform endpoint (the caller is already authorized). */
export async function presetParams(projectId: string, name: string): Promise<TransformParams | null> {
  const row = await prisma.transformPreset.findUnique({ where: { projectId_name: { projectId, name } }, select: { params: true } })
  return row ? storedParams(row.params) : null
}
