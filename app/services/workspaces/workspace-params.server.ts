import type { Params } from '@remix-run/react'
import { notFound } from '~/utils/errors.server'
import { orRouteError } from '~/utils/route-errors.server'
import type { UserActor } from '../actor'
import { getOrganizationBySlug } from './organizations.server'
import { getProjectBySlug } from './projects.server'
import { getTeamBySlug } from './teams.server'

/**
 * Resolve the `$org`, `$team` and `$project` URL segments for the actor. What they may not see
 * answers the page with 404 (never 403), like the services.
 */
export function organizationFromParams(actor: UserActor, params: Params) {
  return orRouteError(params.org ? getOrganizationBySlug(actor, params.org) : Promise.reject(notFound('Organization')))
}

export async function teamFromParams(actor: UserActor, params: Params) {
  const { organization } = await organizationFromParams(actor, params)
  const access = await orRouteError(
    params.team ? getTeamBySlug(actor, organization.id, params.team) : Promise.reject(notFound('Team')),
  )
  return { organization, ...access }
}

export async function projectFromParams(actor: UserActor, params: Params) {
  const { organization, team } = await teamFromParams(actor, params)
  const access = await orRouteError(
    params.project ? getProjectBySlug(actor, team.id, params.project) : Promise.reject(notFound('Project')),
  )
  return { organization, ...access }
}
