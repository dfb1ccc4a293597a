/**
 * Every dashboard page, rendered for a signed-in owner of a workspace that holds one of everything
 * (an S3 bucket with sealed credentials, a file, a tenant, a preset, an API key, a signing secret),
 * carries nothing that must stay on the server: the page's HTML and the loader data serialized into it.
 * The pages are read from the build's route table, so a new page is scanned without being listed here.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { test } from 'node:test'
import type { ServerBuild } from '@remix-run/node'
import { createSession } from '~/services/accounts/sessions.server'
import { rotateSigningSecret } from '~/services/transforms/signing.server'
import { createPreset } from '~/services/transforms/presets.server'
import { createTenant } from '~/services/tenants/tenants.server'
import { commitSessionCookie } from '~/services/accounts/session-cookie.server'
import { prisma } from '~/utils/db.server'
import { api } from '../support/api-client'
import { createTestApiKey, createWorkspace, testMeta } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { assertNoServerSecrets, serverSecrets } from '../support/leak-scan'
import { attachS3Bucket } from '../support/storage-factories'

type Routes = ServerBuild['routes']

/** `orgs/:org/teams/:team` and the like for every route that renders a page (it has a component). */
function pagePaths(routes: Routes): string[] {
  const fullPath = (id: string): string => {
    const route = routes[id]!
    const own = route.path ?? ''
    return route.parentId ? [fullPath(route.parentId), own].filter(Boolean).join('/') : own
  }
  return Object.keys(routes)
    .filter((id) => id !== 'root' && typeof (routes[id]!.module as { default?: unknown }).default === 'function')
    .map((id) => `/${fullPath(id)}`)
}

test('no dashboard page shows sealed credentials, hashes, secrets or object keys', async () => {
  const build = (await import(pathToFileURL(path.resolve('build/index.js')).href)) as ServerBuild
  const { owner, organization, team, project } = await createWorkspace()
  const { bucket } = await attachS3Bucket(project.id)
  const tenant = await createTenant(owner.actor, { projectId: project.id, slug: 'leak-tenant', name: 'Leak tenant' })
  const file = await putTestFile(project.id, { tenantId: tenant.id })
  await createPreset(owner.actor, project.id, { name: 'thumb', params: { w: 100 } })
  await rotateSigningSecret(owner.actor, project.id)
  await createTestApiKey(owner.actor, project.id, ['files:read'])
  const { token } = await createSession(owner.user.id, testMeta())
  const cookie = (await commitSessionCookie(token)).split(';')[0]!
  const known = await serverSecrets()
  assert.ok(
    known.secrets.some((s) => s.startsWith('v1.')) && known.objectKeys.includes(file.objectKey),
    'the workspace holds sealed values and an object key',
  )

  const values: Record<string, string> = {
    org: organization.slug,
    team: team.slug,
    project: project.slug,
    fileId: file.id,
    tenantId: tenant.id,
    bucket: bucket.id,
    token: 'no-such-invitation',
    entryId: (await prisma.auditLog.findFirstOrThrow({ where: { projectId: project.id }, orderBy: { seq: 'desc' } })).id,
    operationId: 'listFiles',
  }
  const pages = pagePaths(build.routes).map((page) => page.replace(/:(\w+)/g, (_m, name: string) => values[name] ?? `unknown-${name}`))
  assert.ok(pages.some((page) => page.endsWith(`/files/${file.id}`)) && pages.some((page) => page.endsWith(`/buckets/${bucket.id}`)))
  const notRendered: string[] = []
  for (const page of pages) {
    const response = await api('GET', page, { headers: { Cookie: cookie } })
    if (response.status !== 200) {
      notRendered.push(`${page} ${response.status}`)
      continue
    }
    assertNoServerSecrets(response.text, known, page)
  }
  // Signed in with a workspace, these send the user on (or know no such invitation); every other page renders.
  assert.deepEqual(notRendered.sort(), ['/invitations/no-such-invitation 404', '/login 302', '/onboarding 302', '/register 302'])
})
