import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { transformTarget, verifiedSignedQuery } from './fast-path.server'
import { signedQuery } from './signing.server'
import { cacheControlFor, matchesEtag, variantHeaders, withBody } from './variant-headers'

test('the target is read as the Remix route reads it: decoded segments, an encoded slash kept, dot segments resolved', () => {
  assert.deepEqual(
    { ...transformTarget('/api/v1/transform/p1/photos/cat%20one.jpg?w=1'), search: undefined },
    { projectId: 'p1', path: 'photos/cat one.jpg', search: undefined },
  )
  assert.equal(transformTarget('/api/v1/transform/p1/a%2Fb.jpg')?.path, 'a%2Fb.jpg')
  assert.equal(transformTarget('/api/v1/transform/p1/x/../cat.jpg')?.path, 'cat.jpg')
  assert.equal(transformTarget('/api/v1/transform/p1/photos/cat.jpg?w=1')?.search.get('w'), '1')
  for (const refused of [
    '/api/v1/transform/p1/',
    '/api/v1/transform//cat.jpg',
    '/api/v1/transform/p1/a//b.jpg',
    '/api/v1/transform/p1/a/',
    '/api/v1/transforms/p1/a.jpg',
    '/api/v1/transform/p1/%E0%A4%A.jpg',
    `/api/v1/transform/${'p'.repeat(65)}/a.jpg`,
  ]) {
    assert.equal(transformTarget(refused), null, refused)
  }
})

test('only a signed, unexpired URL whose rebuilt canonical text matches a secret is verified', () => {
  const secret = randomBytes(32)
  const other = randomBytes(32)
  const now = 1_900_000_000
  const query = signedQuery(secret, 'p1', 'a/b.jpg', { w: 100, format: 'webp' }, now + 60)
  const verify = (search: string, secrets = [secret], projectId = 'p1', path = 'a/b.jpg', at = now) =>
    verifiedSignedQuery(projectId, path, new URLSearchParams(search), secrets, at)
  assert.deepEqual(verify(query)?.params, { w: 100, format: 'webp' })
  assert.equal(verify(query)?.expires, now + 60)
  assert.ok(verify(query, [other, secret]), 'either active secret')
  assert.equal(verify(query, [other]), null)
  assert.equal(verify(query, [secret], 'p2'), null)
  assert.equal(verify(query, [secret], 'p1', 'a/c.jpg'), null)
  assert.equal(verify(query.replace('w=100', 'w=101')), null)
  assert.equal(verify(query, [secret], 'p1', 'a/b.jpg', now + 60), null, 'expired at exp')
  const sig = new URLSearchParams(query).get('sig')!
  assert.equal(verify(`sig=${sig}&${query.replace(`&sig=${sig}`, '')}`), null, 'signature moved')
  assert.equal(verify('w=100&format=webp'), null, 'unsigned')
  assert.equal(verify(`${query}&w=100`), null, 'a repeat')
})

test('variant headers: strong ETag, Cache-Control until expiry, Vary only when negotiated, length and outcome on a 200', () => {
  const hash = 'a'.repeat(64)
  const headers = withBody(variantHeaders('webp', true, hash, cacheControlFor({ via: 'signature', expires: 1_000 }, 400)), 123, 'memory')
  assert.deepEqual(
    [...headers],
    [
      ['cache-control', 'public, max-age=600, immutable'],
      ['content-length', '123'],
      ['content-type', 'image/webp'],
      ['etag', `"${'a'.repeat(40)}"`],
      ['vary', 'Accept'],
      ['x-carcosa-cache', 'memory'],
      ['x-content-type-options', 'nosniff'],
    ],
  )
  assert.equal(variantHeaders('png', false, hash, 'x').get('vary'), null)
  assert.equal(cacheControlFor({ via: 'signature', expires: 10 ** 10 }, 0), 'public, max-age=31536000, immutable')
  assert.equal(cacheControlFor({ via: 'signature', expires: 5 }, 10), 'public, max-age=0, immutable')
  assert.equal(cacheControlFor({ via: 'public' }), 'public, max-age=3600')
  assert.equal(cacheControlFor({ via: 'credentials' }), 'private, max-age=3600')
  assert.equal(matchesEtag('W/"x", "y"', '"x"'), true)
  assert.equal(matchesEtag('*', '"x"'), true)
  assert.equal(matchesEtag('"z"', '"x"'), false)
  assert.equal(matchesEtag(null, '"x"'), false)
})
