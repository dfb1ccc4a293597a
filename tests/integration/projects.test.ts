import '../support/test-database'
import { DASHBOARD_PAGE } from '~/services/pagination'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deleteProject, getProjectBySlug, listProjects, updateProject } from '~/services/workspaces/projects.server'
import {
  createOrganizationSchema,
  createProjectSchema,
  createTeamSchema,
  slugSchema,
  updateOrganizationSchema,
  updateProjectSchema,
  updateTeamSchema,
} from '~/services/workspaces/schemas'
import { prisma } from '~/utils/db.server'
import {
  addMember,
  addToTeam,
  assertAppError,
  createOrganizationFor,
  createProjectIn,
  createTeamIn,
  createTestUser,
  withAuditDelta,
} from '../support/factories'

const projectSettings = (name: string, slug: string) => updateProjectSchema.parse({ name, slug })
const projectRow = (id: string) => prisma.project.findUnique({ where: { id } })

/** An organization with one team and people in every position that matters for projects. */
async function teamWithPeople() {
  const owner = await createTestUser({ name: 'Owner' })
  const organization = await createOrganizationFor(owner.actor)
  const team = await createTeamIn(owner.actor, organization.id)
  const teamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, teamAdmin, 'ADMIN')
  const teamMember = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, teamMember, 'MEMBER')
  const teamViewer = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, teamViewer, 'VIEWER')
  const outsider = await addMember(organization.id, owner.actor, 'MEMBER')
  const orgViewer = await addMember(organization.id, owner.actor, 'VIEWER')
  await addToTeam(owner.actor, team.id, orgViewer, 'ADMIN')
  const orgAdmin = await addMember(organization.id, owner.actor, 'ADMIN')
  return { owner, organization, team, teamAdmin, teamMember, teamViewer, outsider, orgViewer, orgAdmin }
}

describe('projects', () => {
  test('a team MEMBER creates a project with a derived slug; it is audited', async () => {
    const { team, teamMember, organization } = await teamWithPeople()
    const { result: project, rows } = await withAuditDelta(() => createProjectIn(teamMember.actor, team.id, { name: 'Marketing Site' }))
    assert.ok(project)
    assert.equal(project.slug, 'marketing-site')
    assert.equal(project.teamId, team.id)
    // The team's first project also creates the team's default local bucket (local provider enabled).
    assert.deepEqual(
      rows.map((row) => row.action),
      ['bucket.create', 'project.create'],
    )
    const entry = rows[1]
    assert.equal(entry?.organizationId, organization.id)
    assert.equal(entry?.actorId, teamMember.user.id)
    assert.ok(project.bucketId)
    assert.deepEqual(entry?.after, { name: 'Marketing Site', slug: 'marketing-site', teamId: team.id, bucketId: project.bucketId })
  })

  test('who may create: team VIEWER, organization MEMBER outside the team and organization VIEWER may not', async () => {
    const { team, teamViewer, outsider, orgViewer, orgAdmin } = await teamWithPeople()
    for (const person of [teamViewer, outsider, orgViewer]) {
      const { error, rows } = await withAuditDelta(() => createProjectIn(person.actor, team.id, { name: 'Nope' }))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
    }
    assert.equal(await prisma.project.count({ where: { teamId: team.id } }), 0)
    await createProjectIn(orgAdmin.actor, team.id, { name: 'By Admin' })
    assert.equal(await prisma.project.count({ where: { teamId: team.id } }), 1)
  })

  test('every organization member may read projects; outsiders of the team read them too', async () => {
    const { team, owner, outsider, orgViewer } = await teamWithPeople()
    const project = await createProjectIn(owner.actor, team.id, { name: 'Readable', slug: 'readable' })
    for (const person of [outsider, orgViewer]) {
      assert.deepEqual(
        (await listProjects(person.actor, team.id, DASHBOARD_PAGE)).items.map((p) => p.id),
        [project.id],
      )
      const access = await getProjectBySlug(person.actor, team.id, 'readable')
      assert.equal(access.project.id, project.id)
      assert.equal(access.role, 'VIEWER')
    }
    await assertAppError(getProjectBySlug(owner.actor, team.id, 'missing'), 'NOT_FOUND')
  })

  test('a team MEMBER renames a project and changes its slug, with before and after audited', async () => {
    const { team, owner, teamMember } = await teamWithPeople()
    const project = await createProjectIn(owner.actor, team.id, { name: 'Old', slug: 'old' })
    const { result, rows } = await withAuditDelta(() => updateProject(teamMember.actor, project.id, projectSettings('New', 'new-slug')))
    assert.equal(result?.slug, 'new-slug')
    const row = await projectRow(project.id)
    assert.equal(row?.name, 'New')
    assert.equal(row?.slug, 'new-slug')
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.action, 'project.update')
    assert.deepEqual(rows[0]?.before, { name: 'Old', slug: 'old' })
    assert.deepEqual(rows[0]?.after, { name: 'New', slug: 'new-slug' })
  })

  test('a team VIEWER, an organization VIEWER and an outsider of the team cannot change a project', async () => {
    const { team, owner, teamViewer, outsider, orgViewer } = await teamWithPeople()
    const project = await createProjectIn(owner.actor, team.id, { name: 'Stable', slug: 'stable' })
    for (const person of [teamViewer, outsider, orgViewer]) {
      const { error, rows } = await withAuditDelta(() => updateProject(person.actor, project.id, projectSettings('Changed', 'changed')))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
    }
    const row = await projectRow(project.id)
    assert.equal(row?.name, 'Stable')
    assert.equal(row?.slug, 'stable')
  })

  test('deleting needs team ADMIN: a team MEMBER is FORBIDDEN, a team ADMIN and an organization ADMIN may', async () => {
    const { team, owner, teamAdmin, teamMember, orgViewer, orgAdmin, organization } = await teamWithPeople()
    const first = await createProjectIn(owner.actor, team.id)
    const second = await createProjectIn(owner.actor, team.id)

    for (const person of [teamMember, orgViewer]) {
      const { error, rows } = await withAuditDelta(() => deleteProject(person.actor, first.id))
      await assertAppError(Promise.reject(error), 'FORBIDDEN')
      assert.equal(rows.length, 0)
    }
    assert.ok(await projectRow(first.id))

    const { rows } = await withAuditDelta(() => deleteProject(teamAdmin.actor, first.id))
    assert.equal(await projectRow(first.id), null)
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetId, r.organizationId]),
      [['project.delete', first.id, organization.id]],
    )
    assert.deepEqual(rows[0]?.before, { name: first.name, slug: first.slug, teamId: team.id })
    await deleteProject(orgAdmin.actor, second.id)
    assert.equal(await projectRow(second.id), null)
    await assertAppError(deleteProject(owner.actor, second.id), 'NOT_FOUND')
  })

  test('slugs are unique per team: explicit duplicates conflict (create and update), other teams may reuse them', async () => {
    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor)
    const team = await createTeamIn(owner.actor, organization.id)
    const otherTeam = await createTeamIn(owner.actor, organization.id)
    await createProjectIn(owner.actor, team.id, { name: 'Web', slug: 'web' })

    const { error, rows } = await withAuditDelta(() => createProjectIn(owner.actor, team.id, { name: 'Web again', slug: 'web' }))
    const appError = await assertAppError(Promise.reject(error), 'CONFLICT')
    assert.ok(appError.details.fieldErrors?.slug?.length)
    assert.equal(rows.length, 0)
    assert.equal(await prisma.project.count({ where: { teamId: team.id } }), 1)

    const upper = await assertAppError(createProjectIn(owner.actor, team.id, { name: 'Web', slug: 'WEB' }), 'CONFLICT')
    assert.ok(upper.details.fieldErrors?.slug?.length, 'case does not get around uniqueness')

    const derived = await createProjectIn(owner.actor, team.id, { name: 'Web' })
    assert.match(derived.slug, /^web-[0-9a-f]{6}$/)
    const elsewhere = await createProjectIn(owner.actor, otherTeam.id, { name: 'Web', slug: 'web' })
    assert.equal(elsewhere.slug, 'web')

    const app = await createProjectIn(owner.actor, team.id, { name: 'App', slug: 'app' })
    const update = await assertAppError(updateProject(owner.actor, app.id, projectSettings('App', 'web')), 'CONFLICT')
    assert.ok(update.details.fieldErrors?.slug?.length)
    assert.equal((await projectRow(app.id))?.slug, 'app')
  })
})

describe('slug and name schemas', () => {
  const schemas = { createOrganizationSchema, createTeamSchema, createProjectSchema } as const
  const invalidSlugs = {
    space: 'my project',
    'leading hyphen': '-project',
    'trailing hyphen': 'project-',
    'double hyphen': 'my--project',
    underscore: 'my_project',
    accent: 'caf\u00e9',
    'one character': 'a',
    'too long': 'a'.repeat(49),
    'reserved new': 'new',
    'reserved NEW in capitals': 'NEW',
    'reserved settings': 'settings',
    'path separator': 'a/b',
  }

  for (const [schemaName, schema] of Object.entries(schemas)) {
    for (const [reason, slug] of Object.entries(invalidSlugs)) {
      test(`${schemaName} rejects a slug with ${reason} (${JSON.stringify(slug)}) on the slug field`, () => {
        const result = schema.safeParse({ name: 'Fine Name', slug })
        assert.equal(result.success, false)
        assert.deepEqual(
          result.error?.issues.map((issue) => issue.path.join('.')),
          ['slug'],
        )
      })
    }
  }

  test('update schemas require a slug and a name', () => {
    for (const schema of [updateOrganizationSchema, updateTeamSchema, updateProjectSchema]) {
      const result = schema.safeParse({ name: '  ' })
      assert.equal(result.success, false)
      assert.deepEqual(result.error?.issues.map((issue) => issue.path.join('.')).sort(), ['name', 'slug'])
      assert.equal(schema.safeParse({ name: 'x'.repeat(81), slug: 'fine' }).success, false)
    }
  })

  test('valid slugs pass; uppercase is lower-cased and surrounding spaces trimmed, never stored as typed', async () => {
    for (const slug of ['ab', 'project-1', '2024-assets', 'a'.repeat(48)]) {
      assert.equal(slugSchema.parse(slug), slug)
    }
    assert.equal(slugSchema.parse('  Marketing-Site '), 'marketing-site')

    const owner = await createTestUser()
    const organization = await createOrganizationFor(owner.actor, { slug: `Upper-${Date.now().toString(36)}`.toUpperCase() })
    assert.equal(organization.slug, organization.slug.toLowerCase())
    const team = await createTeamIn(owner.actor, organization.id, { slug: 'MEDIA' })
    assert.equal(team.slug, 'media')
    const project = await createProjectIn(owner.actor, team.id, { slug: 'Photos' })
    assert.equal((await projectRow(project.id))?.slug, 'photos')
  })
})
