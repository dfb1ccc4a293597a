import { prisma } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { hasOwnParams } from './params'
import { presetParams } from './presets.server'
import type { SignUrlInput } from './schemas'
import { readTransformSettings } from './settings.server'
import { signedQuery, signingSecret, transformUrl } from './signing.server'

export interface SignedTransformUrl {
  url: string
  expiresAt: Date
}

/**
 * Mints a signed transform URL for a file path of a project (needs `transforms:execute`: whoever
 * may run transforms may hand out URLs that run them). The first signing makes the project's secret.
 */
export async function signTransformUrl(actor: Actor, projectId: string, input: Omit<SignUrlInput, 'projectId'>, baseUrl: string): Promise<SignedTransformUrl> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'transforms:execute', 'sign transform URLs for this project')
  const { params } = input
  const project = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { settings: true } })
  if (readTransformSettings(project.settings).presetsOnly && (hasOwnParams(params) || !params.preset)) {
    throw new AppError('VALIDATION', 'This project accepts presets only: give params.preset and nothing else', {
      fieldErrors: { params: ['This project accepts presets only: give a preset and nothing else'] },
    })
  }
  if (params.preset && !(await presetParams(projectId, params.preset))) {
    throw new AppError('VALIDATION', `There is no preset named ${params.preset} in this project`, {
      fieldErrors: { 'params.preset': [`no preset named ${params.preset}`] },
    })
  }
  const secret = await signingSecret(actor, access.team.organizationId, projectId)
  const expires = Math.floor(Date.now() / 1000) + input.expiresIn
  return {
    url: transformUrl(baseUrl, projectId, input.path, signedQuery(secret, projectId, input.path, params, expires)),
    expiresAt: new Date(expires * 1000),
  }
}
