import { prisma } from '~/utils/db.server'
import { rateLimitOverridesSchema } from './schemas'

/**
 * The per-tier limits a project's owners set, for the rate limiter (no actor: the caller already
 * authenticated as the project's key). Unknown or invalid stored data counts as no override.
 */
export async function rateLimitOverridesFor(projectId: string) {
  const project = await prisma.project.findUnique({ where: { id: projectId }, select: { rateLimitOverrides: true } })
  const parsed = rateLimitOverridesSchema.safeParse(project?.rateLimitOverrides ?? {})
  return parsed.success ? parsed.data : {}
}
