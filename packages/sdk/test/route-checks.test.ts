/** The route's checks as a browser runs them before uploading (the handler's own, from its GET entry). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CarcosaError } from '@carcosa/sdk'
import { checkRouteFiles, routeAccepts, type RouteConfigEntry } from '@carcosa/sdk/client'

const MB = 1024 * 1024
const route: RouteConfigEntry = {
  slug: 'media',
  config: {
    image: { maxFileSize: 2 * MB, maxFileCount: 2, minFileCount: 1 },
    'application/pdf': { maxFileSize: 4 * MB, maxFileCount: 1, minFileCount: 1 },
  },
}

const refusal = (files: Array<{ name: string; size: number; type?: string }>) => {
  try {
    checkRouteFiles(files, route)
  } catch (error) {
    assert.ok(error instanceof CarcosaError)
    return [error.status, error.message]
  }
  return null
}

test('files within the route pass; the most specific kind applies', () => {
  assert.equal(
    refusal([
      { name: 'a.png', size: MB, type: 'image/png' },
      { name: 'b.pdf', size: 3 * MB, type: 'application/pdf' },
    ]),
    null,
  )
})

test('a wrong type, a file too large and too many files are refused with the status the handler would answer', () => {
  assert.deepEqual(refusal([{ name: 'notes.txt', size: 10, type: 'text/plain' }]), [
    415,
    'notes.txt is text/plain; this route accepts image, application/pdf',
  ])
  assert.deepEqual(refusal([{ name: 'big.png', size: 3 * MB, type: 'image/png' }]), [
    413,
    'big.png is 3 MiB; this route accepts image files up to 2 MiB',
  ])
  assert.deepEqual(refusal([1, 2, 3].map((i) => ({ name: `${i}.png`, size: 10, type: 'image/png' })))?.[0], 400)
})

test('a file without a type is judged by its extension, as the uploader sends it', () => {
  assert.equal(refusal([{ name: 'scan.pdf', size: 10, type: '' }]), null)
  assert.equal(refusal([{ name: 'archive.zip', size: 10 }])?.[0], 415)
})

test("a route's accept patterns, none when it takes anything", () => {
  assert.deepEqual(routeAccepts(route), ['image/*', 'application/pdf'])
  assert.deepEqual(routeAccepts({ slug: 'any', config: { blob: { maxFileSize: MB, maxFileCount: 1, minFileCount: 1 } } }), [])
})
