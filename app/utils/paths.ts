/** Dashboard URLs of the workspace hierarchy (shared by loaders, actions and components). */
export const organizationPath = (org: { slug: string }) => `/orgs/${org.slug}`
export const teamPath = (org: { slug: string }, team: { slug: string }) => `/orgs/${org.slug}/teams/${team.slug}`
export const projectPath = (org: { slug: string }, team: { slug: string }, project: { slug: string }) =>
  `/orgs/${org.slug}/teams/${team.slug}/projects/${project.slug}`
