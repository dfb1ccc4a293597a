/**
 * The documentation paths of Carcosa's first README: the OpenAPI document at /api-docs.json and the
 * reference at /api-docs. (The API paths it documents are in the operation table and the matrix.)
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { api } from '../support/api-client'

test('/api-docs.json is the OpenAPI document, listing the documented seed paths; /api-docs leads to the reference', async () => {
  const document = await api('GET', '/api-docs.json')
  assert.equal(document.status, 200)
  assert.equal(document.json.openapi.startsWith('3.1'), true)
  for (const path of ['/api/v1/rate-limits', '/api/v1/buckets/{id}/share', '/api/v1/buckets/{id}/share/{teamId}', '/api/v1/settings/project/{id}', '/api/v1/settings/user', '/api/v1/carcosa/storage/stats']) {
    assert.ok(document.json.paths[path], `${path} is documented`)
  }
  const reference = await api('GET', '/api-docs')
  assert.equal(reference.status, 301)
  assert.equal(reference.headers.get('Location'), '/docs/api')
})
