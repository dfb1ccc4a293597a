import { prisma } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import { actorTenantId, type Actor } from '../actor'
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
export async function signTransformUrl(
  actor: Actor,
  projectId: string,
  input: Omit<SignUrlInput, 'projectId'>,
  baseUrl: string,
): Promise<SignedTransformUrl> {
  const [signed] = await signTransformUrls(actor, projectId, [input], baseUrl, () => '')
  return signed!
}

/**
 * Signs many URLs of one project at once (a responsive image's widths, a page of images): one
 * authorization, one settings and secret read, each preset looked up once. Field errors name the
 * item (`items.3.params.preset`); nothing is signed unless every item is valid.
 */
export async function signTransformUrls(
  actor: Actor,
  projectId: string,
  items: Omit<SignUrlInput, 'projectId'>[],
  baseUrl: string,
  fieldOf: (index: number) => string = (index) => `items.${index}.`,
): Promise<SignedTransformUrl[]> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'transforms:execute', 'sign transform URLs for this project')
  // A tenant-scoped key signs URLs for its tenant's files only: a signed URL reaches any path.
  const keyTenant = actorTenantId(actor)
  if (keyTenant) {
    const paths = [...new Set(items.map((item) => item.path))]
    const files = await prisma.file.findMany({ where: { projectId, path: { in: paths }, tenantId: keyTenant }, select: { path: true } })
    if (files.length !== paths.length) throw notFound('File')
  }
  const project = await prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { settings: true } })
  const presetsOnly = readTransformSettings(project.settings).presetsOnly
  const presetExists = new Map<string, Promise<boolean>>()
  for (const [index, { params }] of items.entries()) {
    if (presetsOnly && (hasOwnParams(params) || !params.preset)) {
      throw new AppError('VALIDATION', 'This project accepts presets only: give params.preset and nothing else', {
        fieldErrors: { [`${fieldOf(index)}params`]: ['This project accepts presets only: give a preset and nothing else'] },
      })
    }
    if (!params.preset) continue
    if (!presetExists.has(params.preset)) presetExists.set(params.preset, presetParams(projectId, params.preset).then(Boolean))
    if (!(await presetExists.get(params.preset))) {
      throw new AppError('VALIDATION', `There is no preset named ${params.preset} in this project`, {
        fieldErrors: { [`${fieldOf(index)}params.preset`]: [`no preset named ${params.preset}`] },
      })
    }
  }
  const secret = await signingSecret(actor, access.team.organizationId, projectId)
  const now = Math.floor(Date.now() / 1000)
  return items.map(({ path, params, expiresIn }) => {
    const expires = now + expiresIn
    return {
      url: transformUrl(baseUrl, projectId, path, signedQuery(secret, projectId, path, params, expires)),
      expiresAt: new Date(expires * 1000),
    }
  })
}
