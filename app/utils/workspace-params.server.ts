import type { Params } from '@remix-run/react'
import type { Actor } from '~/services/actor'
import { getOrganizationBySlug } from '~/services/workspaces/organizations.server'
import { getProjectBySlug } from '~/services/workspaces/projects.server'
import { getTeamBySlug } from '~/services/workspaces/teams.server'
import { notFound } from './errors.server'

/** Resolves the `$org` URL segment for the actor (404 when they are not a member). */
export async function organizationFromParams(actor: Actor, params: Params) {
  if (!params.org) throw notFound('Organization')
  return getOrganizationBySlug(actor, params.org)
}

export async function teamFromParams(actor: Actor, params: Params) {
  const { organization } = await organizationFromParams(actor, params)
  if (!params.team) throw notFound('Team')
  return { organization, ...(await getTeamBySlug(actor, organization.id, params.team)) }
}

export async function projectFromParams(actor: Actor, params: Params) {
  const { organization, team } = await teamFromParams(actor, params)
  if (!params.project) throw notFound('Project')
  return { organization, ...(await getProjectBySlug(actor, team.id, params.project)) }
}

export const organizationPath = (org: { slug: string }) => `/orgs/${org.slug}`
export const teamPath = (org: { slug: string }, team: { slug: string }) => `/orgs/${org.slug}/teams/${team.slug}`
export const projectPath = (org: { slug: string }, team: { slug: string }, project: { slug: string }) =>
  `/orgs/${org.slug}/teams/${team.slug}/projects/${project.slug}`
