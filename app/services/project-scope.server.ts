import { AppError } from '~/utils/errors.server'
import type { Actor } from './actor'

/** The project a call addresses: the one it names, else an API key's own. A user token must name it. */
export function projectOfCall(actor: Actor, projectId: string | undefined): string {
  const project = projectId ?? (actor.type === 'api-key' ? actor.projectId : undefined)
  if (!project) throw new AppError('VALIDATION', 'projectId is required with a user token', { fieldErrors: { projectId: ['Required'] } })
  return project
}
