/**
 * How many SQL statements the hot paths send, counted at the pg driver (Prisma's included, BEGIN
 * and COMMIT included): an API call with a key already resolved, and upload init.
 */
import '../support/test-database'
import { countStatements } from '../support/statement-counter'
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { authenticateApiKey, createApiKey } from '~/services/api-keys/api-keys.server'
import { createApiKeySchema } from '~/services/api-keys/schemas'
import { listFiles } from '~/services/files/files.server'
import { createTenant } from '~/services/tenants/tenants.server'
import { flushUploadExpiries } from '~/services/uploads/expiry-jobs.server'
import { initUpload } from '~/services/uploads/init-upload.server'
import { initUploadSchema } from '~/services/uploads/schemas'
import { prisma } from '~/utils/db.server'
import { invalidationBusConnected, onInvalidation } from '~/utils/invalidation-bus.server'
import { createTestApiKey, createWorkspace, testMeta } from '../support/factories'
import { commitSessionCookie } from '~/services/accounts/session-cookie.server'
import { createSession } from '~/services/accounts/sessions.server'
import { api } from '../support/api-client'
import * as projectLayout from '~/routes/orgs.$org_.teams.$team_.projects.$project'
import * as projectFiles from '~/routes/orgs.$org_.teams.$team_.projects.$project.files._index'

// A running server listens on the invalidation bus from its first request on: start it before counting.
before(async () => {
  onInvalidation(() => {})
  while (!invalidationBusConnected()) await new Promise((resolve) => setTimeout(resolve, 10))
})

describe('statements per call', () => {
  test('an API key resolves in one statement, then from memory; a page of files is one more', async () => {
    const { owner, project } = await createWorkspace()
    // Created, never used: its first use resolves it.
    const { key } = await createApiKey(
      owner.actor,
      createApiKeySchema.parse({ projectId: project.id, name: 'Reader', permissions: ['files:read'] }),
    )

    const first = await countStatements(() => authenticateApiKey(key, testMeta()))
    assert.ok(first.result)
    assert.equal(first.statements.length, 1, first.statements.join('\n'))
    assert.match(first.statements[0]!, /FROM "ApiKey" k JOIN "Project" p .* JOIN "Team" t .* JOIN "Organization" o/)

    const again = await countStatements(() => authenticateApiKey(key, testMeta()))
    assert.ok(again.result)
    assert.equal(again.statements.length, 0, again.statements.join('\n'))

    const page = await countStatements(() => listFiles(again.result!, project.id, {}, { limit: 20 }))
    assert.equal(page.statements.length, 1, page.statements.join('\n'))
  })

  test('upload init: one statement resolves the target (tenant included), one reserves the upload with its audit entry', async () => {
    const { owner, project } = await createWorkspace()
    const tenant = await createTenant(owner.actor, { projectId: project.id, slug: 'acme', name: 'Acme' })
    const { actor } = await createTestApiKey(owner.actor, project.id, ['files:write'])
    const input = initUploadSchema.parse({ fileName: 'photo.jpg', contentType: 'image/jpeg', size: 1234, tenantId: tenant.id })

    const { result, statements } = await countStatements(() => initUpload(actor, input))
    assert.equal(result.method, 'PUT')
    assert.equal(statements.length, 2, statements.join('\n'))

    const row = await prisma.upload.findUniqueOrThrow({ where: { id: result.uploadId } })
    assert.equal(row.status, 'PENDING')
    assert.equal(row.tenantId, tenant.id)
    assert.equal(row.size, 1234n)
    assert.ok(Math.abs(row.expiresAt.getTime() - result.expiresAt.getTime()) < 1000)
    const audit = await prisma.auditLog.findFirstOrThrow({ where: { targetId: result.uploadId } })
    assert.equal(audit.action, 'upload.create')
    assert.equal(audit.actorId, actor.apiKeyId)
    assert.deepEqual(audit.after, {
      projectId: project.id,
      tenantId: tenant.id,
      path: row.path,
      contentType: 'image/jpeg',
      size: 1234,
      method: 'PUT',
    })
    assert.ok(Math.abs(audit.createdAt.getTime() - Date.now()) < 60_000, 'stored in UTC like Prisma writes it')
    // Its expiry job follows off the request path, in one insert for the batch.
    const batch = await countStatements(() => flushUploadExpiries())
    assert.equal(batch.statements.filter((text) => text.includes('INSERT INTO pgboss.job')).length, 1, batch.statements.join('\n'))
    const jobs = await prisma.$queryRaw<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'upload-expire' AND singleton_key = ${result.uploadId}`
    assert.equal(jobs[0]!.n, 1)

    // A user (dashboard or user token) needs the same two: the roles come with the target.
    const userInit = await countStatements(() => initUpload(owner.actor, { ...input, projectId: project.id }))
    assert.equal(userInit.statements.length, 2, userInit.statements.join('\n'))
  })

  test('the project files page: slugs and roles resolved once for the layout and the leaf, never re-read by the services', async () => {
    const { owner, organization, team, project } = await createWorkspace()
    const { token } = await createSession(owner.user.id, testMeta())
    const cookie = (await commitSessionCookie(token)).split(';')[0]!
    const url = `http://carcosa.test/orgs/${organization.slug}/teams/${team.slug}/projects/${project.slug}/files`
    const request = new Request(url, { headers: { cookie } })
    // One load context per request, as the host makes it; both loaders run at once, as Remix runs them.
    const context = { requestId: 'statements', cspNonce: 'n', clientIp: '127.0.0.1' }
    const params = { org: organization.slug, team: team.slug, project: project.slug }
    const args = { request, context, params } as never
    const { result, statements } = await countStatements(() => Promise.all([projectLayout.loader(args), projectFiles.loader(args)]))
    assert.equal(result[0].project.slug, project.slug)
    assert.deepEqual(result[1].files, [])

    const workspace = statements.filter((text) => text.includes('FROM "Organization" o LEFT JOIN "OrganizationMember" om'))
    assert.equal(workspace.length, 1, statements.join('\n'))
    const session = statements.filter((text) => /FROM "public"\."Session"|FROM "Session"/.test(text))
    assert.equal(session.length, 1, statements.join('\n'))
    // The services (files page, tenants, totals) were handed the access: no project or membership reads of their own.
    const accessReads = statements.filter((text) => /"OrganizationMember"|"TeamMember"/.test(text) && !workspace.includes(text))
    assert.deepEqual(accessReads, [])
    const projectReads = statements.filter((text) => /FROM "public"\."Project"|FROM "Project"/.test(text))
    assert.deepEqual(projectReads, [])

    // The whole page (root, layout and leaf loaders, then the render) reads the session once too.
    const page = await countStatements(() => api('GET', new URL(url).pathname, { headers: { cookie } }))
    assert.equal(page.result.status, 200)
    assert.equal(page.statements.filter((text) => /FROM "public"\."Session"|FROM "Session"/.test(text)).length, 1, page.statements.join('\n'))
    // Five hand-written statements in all (session, workspace, the page of files, the tenants for the filter, the totals); no
    // Prisma query. (The upload expiry batch of the test before may land meanwhile: not the page's.)
    const pageStatements = page.statements.filter((text) => !text.includes('pgboss.'))
    assert.equal(pageStatements.length, 5, pageStatements.join('\n'))
    assert.deepEqual(
      pageStatements.filter((text) => text.includes('"public".')),
      [],
    )
  })
})
