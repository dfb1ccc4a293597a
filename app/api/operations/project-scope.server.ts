import type { Actor } from '~/services/actor'
import { AppError } from '~/utils/errors.server'

/**
 * The project a project-scoped call addresses: the one named in the request, else an API key's own.
 * A user token must name it.
 */
export function projectOf(actor: Actor, projectId: string | undefined): string {
  const project = projectId ?? (actor.type === 'api-key' ? actor.projectId : undefined)
  if (!project) throw new AppError('VALIDATION', 'projectId is required with a user token', { fieldErrors: { projectId: ['Required'] } })
  return project
}
