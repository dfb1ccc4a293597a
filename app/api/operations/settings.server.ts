import { z } from 'zod'
import {
  getProjectSettings,
  getRateLimitOverrides,
  getUserSettings,
  updateProjectSettings,
  updateRateLimitOverrides,
  updateUserSettings,
} from '~/services/settings/settings.server'
import { projectSettingsSchema, rateLimitOverridesSchema, userSettingsSchema } from '~/services/settings/schemas'
import { DEFAULT_TIER_LIMITS } from '~/utils/rate-limiter.server'
import { defineOperation } from '../operation.server'
import { RESOURCE_ERRORS, WRITE_ERRORS, idParams } from './common.server'

/** Rate limits read and written in one shape: PUT takes the `overrides` that GET answers (the rest of GET's answer may be sent back and is ignored). */
export const rateLimitsDocumentSchema = z.object({
  overrides: rateLimitOverridesSchema,
  defaults: z.record(z.string(), z.number()).optional().describe('Read-only: ignored'),
  effective: z.record(z.string(), z.number()).optional().describe('Read-only: ignored'),
  windowSeconds: z.number().optional().describe('Read-only: ignored'),
})

export const rateLimitsDocument = (overrides: Partial<Record<keyof typeof DEFAULT_TIER_LIMITS, number>>) => ({
  overrides,
  defaults: DEFAULT_TIER_LIMITS,
  effective: { ...DEFAULT_TIER_LIMITS, ...overrides },
  windowSeconds: 3600,
})

export const settingsOperations = [
  defineOperation({
    id: 'getProjectSettings',
    method: 'GET',
    path: '/api/v1/projects/{id}/settings',
    summary: "Get a project's settings",
    tag: 'Settings',
    auth: 'any',
    permission: 'projects:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: ({ actor, params }) => getProjectSettings(actor, params.id),
  }),
  defineOperation({
    id: 'updateProjectSettings',
    method: 'PUT',
    path: '/api/v1/projects/{id}/settings',
    summary: "Replace a project's settings",
    tag: 'Settings',
    auth: 'any',
    permission: 'projects:write',
    tier: 'WRITE',
    params: idParams,
    body: projectSettingsSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: ({ actor, params, body }) => updateProjectSettings(actor, params.id, body),
  }),
  defineOperation({
    id: 'getUserSettings',
    method: 'GET',
    path: '/api/v1/users/me/settings',
    summary: 'Get your personal settings',
    tag: 'Settings',
    auth: 'user',
    tier: 'READ',
    status: 200,
    errors: [403],
    handler: ({ actor }) => getUserSettings(actor),
  }),
  defineOperation({
    id: 'updateUserSettings',
    method: 'PUT',
    path: '/api/v1/users/me/settings',
    summary: 'Replace your personal settings',
    tag: 'Settings',
    auth: 'user',
    tier: 'WRITE',
    body: userSettingsSchema,
    status: 200,
    errors: [400, 403, 413, 415],
    handler: ({ actor, body }) => updateUserSettings(actor, body),
  }),
  defineOperation({
    id: 'getRateLimits',
    method: 'GET',
    path: '/api/v1/projects/{id}/rate-limits',
    summary: "Get a project's rate-limit overrides, the defaults and the limits in effect (requests per hour)",
    tag: 'Rate limits',
    auth: 'any',
    permission: 'projects:read',
    tier: 'READ',
    params: idParams,
    status: 200,
    errors: RESOURCE_ERRORS,
    handler: async ({ actor, params }) => rateLimitsDocument(await getRateLimitOverrides(actor, params.id)),
  }),
  defineOperation({
    id: 'updateRateLimits',
    method: 'PUT',
    path: '/api/v1/projects/{id}/rate-limits',
    summary: "Replace a project's rate-limit overrides, sending the shape GET answers (admin)",
    tag: 'Rate limits',
    auth: 'any',
    permission: 'admin',
    tier: 'ADMIN',
    params: idParams,
    body: rateLimitsDocumentSchema,
    status: 200,
    errors: WRITE_ERRORS,
    handler: async ({ actor, params, body }) => rateLimitsDocument(await updateRateLimitOverrides(actor, params.id, body.overrides)),
  }),
]
