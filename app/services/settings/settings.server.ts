import { remember } from '@epic-web/remember'
import type { z } from 'zod'
import { prisma } from '~/utils/db.server'
import { createInvalidatedCache } from '~/utils/invalidated-cache.server'
import { publishInvalidation } from '~/utils/invalidation-bus.server'
import { notFound } from '~/utils/errors.server'
import { logger } from '~/utils/logger.server'
import type { Actor, UserActor } from '../actor'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { lockProjectSettings } from './project-settings-lock.server'
import {
  projectSettingsSchema,
  rateLimitOverridesSchema,
  userSettingsSchema,
  type ProjectSettings,
  type RateLimitOverrides,
  type UserSettings,
} from './schemas'

type ObjectSchema = z.ZodObject<Record<string, z.ZodType>>

/**
 * A stored JSON object read through its schema field by field: a field that no longer passes (data
 * written by an older version, or by hand) falls back to its default instead of failing the page.
 */
function readStored<S extends ObjectSchema>(schema: S, stored: unknown, what: string): z.output<S> {
  const value = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {}
  const result: Record<string, unknown> = {}
  const replaced: string[] = []
  for (const [key, field] of Object.entries(schema.shape)) {
    const parsed = field.safeParse(value[key])
    if (!parsed.success) replaced.push(key)
    const data = parsed.success ? parsed.data : field.parse(undefined)
    if (data !== undefined) result[key] = data
  }
  if (replaced.length > 0) logger.warn({ fields: replaced }, `stored ${what} failed validation; defaults used for those fields`)
  return result as z.output<S>
}

/** The JSON to store: undefined fields are left out rather than written as nulls. */
const toJson = <T extends object>(value: T) => JSON.parse(JSON.stringify(value)) as { [key: string]: string | number | string[] }

export async function getProjectSettings(actor: Actor, projectId: string): Promise<ProjectSettings> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'read this project')
  const row = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { settings: true } })
  return readStored(projectSettingsSchema, row.settings, 'project settings')
}

/** Replaces the project's settings as a whole (fields left out return to their defaults). */
export async function updateProjectSettings(actor: Actor, projectId: string, input: ProjectSettings): Promise<ProjectSettings> {
  return prisma.$transaction(async (tx) => {
    const access = await projectAccess(tx, actor, projectId)
    requirePermission(access, 'projects:write', 'change the settings of this project')
    const before = readStored(projectSettingsSchema, await lockProjectSettings(tx, projectId), 'project settings')
    // Transform access has its own page: a save that leaves it out (the settings form) keeps it.
    if (input.transforms === undefined && before.transforms !== undefined) input = { ...input, transforms: before.transforms }
    const after = toJson(input)
    await tx.project.update({ where: { id: projectId }, data: { settings: after } })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'project.settings.update',
      targetType: 'project',
      targetId: projectId,
      before: toJson(before),
      after,
    })
    return input
  })
}

export async function getUserSettings(actor: UserActor): Promise<UserSettings> {
  const user = await prisma.user.findUnique({ where: { id: actor.userId }, select: { settings: true } })
  if (!user) throw notFound('Account')
  return readStored(userSettingsSchema, user.settings, 'user settings')
}

/** Replaces the actor's own settings as a whole. */
export async function updateUserSettings(actor: UserActor, input: UserSettings): Promise<UserSettings> {
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: actor.userId }, select: { settings: true } })
    if (!user) throw notFound('Account')
    const before = readStored(userSettingsSchema, user.settings, 'user settings')
    const after = toJson(input)
    await tx.user.update({ where: { id: actor.userId }, data: { settings: after } })
    await recordAudit(tx, actor, actor, {
      action: 'user.settings.update',
      targetType: 'user',
      targetId: actor.userId,
      before: toJson(before),
      after,
    })
    return input
  })
}

export async function getRateLimitOverrides(actor: Actor, projectId: string): Promise<RateLimitOverrides> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'read this project')
  const row = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { rateLimitOverrides: true } })
  return readStored(rateLimitOverridesSchema, row.rateLimitOverrides, 'rate-limit overrides')
}

/** A project's stored overrides as the limiter reads them (fields that no longer validate are dropped). */
export const storedRateLimitOverrides = (stored: unknown): RateLimitOverrides =>
  readStored(rateLimitOverridesSchema, stored, 'rate-limit overrides')

// Overrides change rarely and anonymous transform calls need them: a short cache keeps the read off
// the hot path, kept honest by the invalidation bus (a change applies everywhere within a delivery).
// One per process: the host's transform fast path and the app's build read the same one.
const overridesCache = remember('carcosa.rate-limit-overrides', () =>
  createInvalidatedCache<{ projectId: string; overrides: RateLimitOverrides }>({
    max: 10_000,
    ttlMs: 10_000,
    matches: (entry, kind, id) => kind === 'project' && entry.projectId === id,
  }),
)

/**
 * The limits a project's owners set, for the rate limiter when no API key brought them along
 * (API-key actors carry their project's overrides in `scope`).
 */
export async function rateLimitOverridesFor(projectId: string): Promise<RateLimitOverrides> {
  const cached = overridesCache.get(projectId)
  if (cached) return cached.overrides
  const resolved = await overridesCache.resolve(projectId, async () => {
    const row = await prisma.project.findUnique({ where: { id: projectId }, select: { rateLimitOverrides: true } })
    return { projectId, overrides: storedRateLimitOverrides(row?.rateLimitOverrides ?? {}) }
  })
  return resolved!.overrides
}

/** Replaces the project's overrides as a whole; an empty object restores every default. Needs `admin`. */
export async function updateRateLimitOverrides(actor: Actor, projectId: string, input: RateLimitOverrides): Promise<RateLimitOverrides> {
  const updated = await prisma.$transaction(async (tx) => {
    const access = await projectAccess(tx, actor, projectId)
    requirePermission(access, 'admin', 'change the rate limits of this project')
    const row = await tx.project.findUniqueOrThrow({ where: { id: projectId }, select: { rateLimitOverrides: true } })
    const before = readStored(rateLimitOverridesSchema, row.rateLimitOverrides, 'rate-limit overrides')
    const after = toJson(input)
    await tx.project.update({ where: { id: projectId }, data: { rateLimitOverrides: after } })
    await recordAudit(tx, actor, actor, {
      ...projectAuditScope(access),
      action: 'project.rate_limits.update',
      targetType: 'project',
      targetId: projectId,
      before: toJson(before),
      after,
    })
    return after as RateLimitOverrides
  })
  await publishInvalidation('project', projectId)
  return updated
}
