import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { projectOfCall } from '../project-scope.server'

export interface UploadHealth {
  ok: boolean
  project: { id: string; name: string; slug: string }
  bucket: { configured: boolean; provider: string | null }
  caller: { type: 'user' | 'api-key' }
  /** Why uploads would fail now, when they would. */
  problem: string | null
}

/**
 * What a file-router integration checks at start-up: the credentials work, reach this project and
 * may upload to it, and the project has a bucket. Never names the bucket's credentials.
 */
export async function checkUploadHealth(actor: Actor, projectId: string | undefined): Promise<UploadHealth> {
  const id = projectOfCall(actor, projectId)
  const access = await projectAccess(prisma, actor, id)
  requirePermission(access, 'files:write', 'upload files to this project')
  const project = await prisma.project.findUniqueOrThrow({ where: { id }, select: { bucket: { select: { provider: true } } } })
  const configured = project.bucket !== null
  return {
    ok: configured,
    project: { id: access.project.id, name: access.project.name, slug: access.project.slug },
    bucket: { configured, provider: project.bucket?.provider ?? null },
    caller: { type: actor.type },
    problem: configured ? null : 'This project has no bucket yet; choose one in its settings.',
  }
}
