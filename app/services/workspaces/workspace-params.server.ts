import type { Params } from '@remix-run/react'
import { notFound } from '~/utils/errors.server'
import { orRouteError } from '~/utils/route-errors.server'
import type { UserActor } from '../actor'
import { resolveWorkspace, type WorkspaceAccess, type WorkspaceSlugs } from './workspace-access.server'

// One resolution per request and set of slugs: the layout and leaf loaders of a page share the
// actor requireUser made for the request (ADR 019), so they share this too.
const resolutions = new WeakMap<UserActor, Map<string, Promise<WorkspaceAccess>>>()

function resolved(actor: UserActor, slugs: WorkspaceSlugs): Promise<WorkspaceAccess> {
  const key = `${slugs.org}/${slugs.team ?? ''}/${slugs.project ?? ''}`
  let forActor = resolutions.get(actor)
  if (!forActor) resolutions.set(actor, (forActor = new Map()))
  let resolution = forActor.get(key)
  if (!resolution) {
    resolution = resolveWorkspace(actor, slugs).then((access) => {
      // Services called with this actor in this request use the resolved access instead of re-reading it.
      if (access.project) actor.projectAccess = access.project
      return access
    })
    forActor.set(key, resolution)
  }
  return orRouteError(resolution)
}

const slug = (value: string | undefined, what: 'Organization' | 'Team' | 'Project') => {
  if (!value) throw notFound(what)
  return value
}

/**
 * Resolve the `$org`, `$team` and `$project` URL segments for the actor, in one statement per
 * request. What they may not see answers the page with 404 (never 403), like the services.
 */
export async function organizationFromParams(actor: UserActor, params: Params) {
  const { organization, role } = await orRouteError(Promise.resolve().then(() => resolved(actor, { org: slug(params.org, 'Organization') })))
  return { organization, role }
}

export async function teamFromParams(actor: UserActor, params: Params) {
  const access = await orRouteError(
    Promise.resolve().then(() => resolved(actor, { org: slug(params.org, 'Organization'), team: slug(params.team, 'Team') })),
  )
  return { organization: access.organization, ...access.team! }
}

export async function projectFromParams(actor: UserActor, params: Params) {
  const access = await orRouteError(
    Promise.resolve().then(() =>
      resolved(actor, { org: slug(params.org, 'Organization'), team: slug(params.team, 'Team'), project: slug(params.project, 'Project') }),
    ),
  )
  return { organization: access.organization, ...access.project! }
}
