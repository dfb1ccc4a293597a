/**
 * `npm run db:seed`: a demo account with an organization, a team and a project, created through the
 * same services the dashboard calls (so audit entries are written too). Safe to run again: whatever
 * already exists is kept. Uses DATABASE_URL, or the embedded database in DATA_DIR (started here
 * when the server is not running, shared with it when it is; never a new one), and says which.
 * Refuses to run in production, since the demo password is published in the README.
 */
import { prepareRuntime } from '../app/utils/boot.server'
import { DASHBOARD_PAGE } from '~/services/pagination'
import { ConfigError } from '../app/utils/config.server'
import { disconnectDatabase, prisma } from '../app/utils/db.server'
import type { RequestMeta } from '../app/utils/request.server'
import { runningServerAddress, serverUrl } from '../app/utils/server-address.server'
import { userActor } from '../app/services/actor'
import { registerUser } from '../app/services/accounts/users.server'
import { createOrganization, listOrganizations } from '../app/services/workspaces/organizations.server'
import { createTeam, listTeams } from '../app/services/workspaces/teams.server'
import { createProject, listProjects } from '../app/services/workspaces/projects.server'

const DEMO = {
  email: 'demo@carcosa.local',
  password: 'carcosa-demo',
  name: 'Demo User',
  organization: { name: 'Demo Organization', slug: 'demo' },
  team: { name: 'Demo Team', slug: 'demo-team' },
  project: { name: 'Demo Project', slug: 'demo-project' },
} as const

const meta: RequestMeta = { ipAddress: null, userAgent: 'carcosa db:seed' }

/** Returns whether the demo user existed already (its password may have been changed since). */
async function seed(): Promise<boolean> {
  const existingUser = await prisma.user.findUnique({ where: { email: DEMO.email }, select: { id: true } })
  const user = existingUser ?? (await registerUser({ email: DEMO.email, password: DEMO.password, name: DEMO.name }, meta))
  report(existingUser ? 'kept' : 'created', `user ${DEMO.email}`)
  const actor = userActor(user.id, meta)

  const { items: organizations } = await listOrganizations(actor, DASHBOARD_PAGE)
  const existingOrganization = organizations.find((o) => o.slug === DEMO.organization.slug)
  const organization = existingOrganization ?? (await createOrganization(actor, { ...DEMO.organization }))
  report(existingOrganization ? 'kept' : 'created', `organization ${organization.slug}`)

  const { items: teams } = await listTeams(actor, organization.id, DASHBOARD_PAGE)
  const existingTeam = teams.find((t) => t.slug === DEMO.team.slug)
  const team = existingTeam ?? (await createTeam(actor, organization.id, { ...DEMO.team }))
  report(existingTeam ? 'kept' : 'created', `team ${organization.slug}/${team.slug}`)

  const { items: projects } = await listProjects(actor, team.id, DASHBOARD_PAGE)
  const existingProject = projects.find((p) => p.slug === DEMO.project.slug)
  const project = existingProject ?? (await createProject(actor, team.id, { ...DEMO.project }))
  report(existingProject ? 'kept' : 'created', `project ${organization.slug}/${team.slug}/${project.slug}`)
  return existingUser !== null
}

function report(what: 'created' | 'kept', thing: string) {
  console.log(`  ${what === 'created' ? 'created' : 'exists '}  ${thing}`)
}

async function main() {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('refusing to run with NODE_ENV=production: the demo account has a published password')
  }
  // Never a new embedded cluster: seeding one that no server uses would look like success and help nobody.
  const runtime = await prepareRuntime({ info: () => {}, warn: (message) => console.warn(`warning: ${message}`) }, { createDatabase: false })
  try {
    console.log(`db:seed: ${runtime.database}`)
    const userExisted = await seed()
    const running = await runningServerAddress(runtime.config.DATA_DIR)
    const origin = running ?? serverUrl(runtime.config)
    console.log(
      `\nSign in at ${origin}/login as ${DEMO.email} with the password ${DEMO.password}` +
        (userExisted ? ' (unless it was changed after the first seed)' : '') +
        (running ? '' : ` once Carcosa runs (npm start${runtime.config.APP_URL ? '' : `, PORT ${runtime.config.PORT}`})`),
    )
  } finally {
    await disconnectDatabase()
    await runtime.stop()
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.problems.join('; ') : error instanceof Error ? error.message : String(error)
    console.error(`db:seed failed: ${message}`)
    process.exit(1)
  },
)
