import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { parseTransformQuery } from './params'
import { canonicalString, signatureFor, signatureMatches, signedQuery } from './signing.server'

test('a signed query verifies by rebuilding the canonical text; any change to project, path, parameters or expiry breaks it', () => {
  const secret = randomBytes(32)
  const query = signedQuery(secret, 'project1', 'a/b.jpg', { w: 100, format: 'webp' }, 2_000_000_000)
  assert.match(query, /^exp=2000000000&format=webp&w=100&sig=[A-Za-z0-9_-]{43}$/)
  const parsed = parseTransformQuery(new URLSearchParams(query))
  const verify = (projectId: string, path: string, params = parsed.params, expires = parsed.expires!) =>
    signatureMatches([secret], canonicalString(projectId, path, params, expires), parsed.signature!)
  assert.equal(verify('project1', 'a/b.jpg'), true)
  assert.equal(verify('project2', 'a/b.jpg'), false)
  assert.equal(verify('project1', 'a/c.jpg'), false)
  assert.equal(verify('project1', 'a/b.jpg', { ...parsed.params, w: 101 }), false)
  assert.equal(verify('project1', 'a/b.jpg', parsed.params, parsed.expires! + 1), false)
})

test('any of the active secrets verifies; others do not', () => {
  const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)]
  const text = canonicalString('p', 'x.png', { w: 1 }, 10)
  assert.equal(signatureMatches([b, a], text, signatureFor(a, text)), true)
  assert.equal(signatureMatches([b, c], text, signatureFor(a, text)), false)
  assert.equal(signatureMatches([a], text, signatureFor(a, text).slice(0, 42) + 'A'), signatureFor(a, text).endsWith('A'))
})
