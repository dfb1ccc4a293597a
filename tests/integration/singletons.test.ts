import '../support/test-database'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { rateLimitOverridesSchema } from '~/services/settings/schemas'
import * as settings from '~/services/settings/settings.server'
import { getRateLimiter } from '~/utils/rate-limiter.server'
import { createWorkspace } from '../support/factories'

// The host (server.ts) and the Remix build each load their own copy of a module; a second import of
// the same file under another URL gives this test such a second copy.
async function secondCopy<Module>(relativePath: string): Promise<Module> {
  return (await import(`${new URL(relativePath, import.meta.url).href}?copy=${Math.random()}`)) as Module
}

describe('process-wide singletons', () => {
  test('a change of rate-limit overrides made through one copy of the module is seen at once by another', async () => {
    const { owner, project } = await createWorkspace()
    const other = await secondCopy<typeof settings>('../../app/services/settings/settings.server.ts')
    assert.notEqual(other.rateLimitOverridesFor, settings.rateLimitOverridesFor, 'a separate module instance')

    assert.deepEqual(await other.rateLimitOverridesFor(project.id), {}, 'read (and cached) by the second copy')
    await settings.updateRateLimitOverrides(owner.actor, project.id, rateLimitOverridesSchema.parse({ READ: 7 }))
    assert.deepEqual(await other.rateLimitOverridesFor(project.id), { READ: 7 })
  })

  test('every copy gets the same rate limiter', async () => {
    const otherLimiter = await secondCopy<{ getRateLimiter: typeof getRateLimiter }>('../../app/utils/rate-limiter.server.ts')
    assert.equal(otherLimiter.getRateLimiter(), getRateLimiter())
  })
})
