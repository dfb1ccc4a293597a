import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findUnsafeInput, MAX_JSON_DEPTH } from './input-guards'

test('NUL and unpaired surrogates are found wherever they are, paired surrogates (emoji) pass', () => {
  assert.equal(findUnsafeInput({ name: 'ok 🎉', tags: ['a', 'b'] }), null)
  assert.deepEqual(findUnsafeInput({ name: 'a\u0000b' }), { path: 'name', message: 'must not contain NUL characters' })
  assert.deepEqual(findUnsafeInput({ metadata: { tags: ['x', '\uD800'] } }), {
    path: 'metadata.tags.1',
    message: 'must not contain unpaired UTF-16 surrogates',
  })
  assert.deepEqual(findUnsafeInput({ a: 'x\uDC00' })?.path, 'a')
  assert.match(findUnsafeInput({ metadata: { 'k\u0000': 1 } })!.message, /key/)
  assert.equal(findUnsafeInput('plain'), null)
  assert.equal(findUnsafeInput('\u0000')?.path, '')
})

test('nesting past the limit is refused without recursion, even 100,000 levels deep', () => {
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000))
  assert.match(findUnsafeInput(deep)!.message, new RegExp(`deeper than ${MAX_JSON_DEPTH}`))
  let ok: unknown = 1
  for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = { a: ok }
  assert.equal(findUnsafeInput(ok), null)
})
