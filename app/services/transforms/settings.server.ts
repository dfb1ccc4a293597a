import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { lockProjectSettings } from '../settings/project-settings-lock.server'
import { transformSettingsSchema, type TransformSettings } from '../settings/schemas'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { forgetProject } from './known-sources.server'

const DEFAULTS = transformSettingsSchema.parse({})

/** The transforms object of stored project settings; anything unreadable falls back to the defaults (signed only). */
export function readTransformSettings(settings: unknown): TransformSettings {
  const stored = typeof settings === 'object' && settings !== null ? (settings as { transforms?: unknown }).transforms : undefined
  const parsed = transformSettingsSchema.safeParse(stored ?? {})
  return parsed.success ? parsed.data : DEFAULTS
}

export async function getTransformSettings(actor: Actor, projectId: string): Promise<TransformSettings> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'transforms:read', 'read the transform settings of this project')
  const row = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { settings: true } })
  return readTransformSettings(row.settings)
}

/** Replaces the project's transform settings, leaving its other settings as they are. Needs `projects:write`. */
export async function updateTransformSettings(actor: Actor, projectId: string, input: TransformSettings): Promise<TransformSettings> {
  const saved = await prisma.$transaction(async (tx) => {
    const access = await projectAccess(tx, actor, projectId)
    requirePermission(access, 'projects:write', 'change the transform settings of this project')
    const settings = await lockProjectSettings(tx, projectId)
    const before = readTransformSettings(settings)
    await tx.project.update({ where: { id: projectId }, data: { settings: { ...settings, transforms: { ...input } } as never } })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'project.transform_settings.update',
      targetType: 'project',
      targetId: projectId,
      before: { ...before },
      after: { ...input },
    })
    return input
  })
  // This instance's fast path re-learns the project's settings from the full path.
  forgetProject(projectId)
  return saved
}
