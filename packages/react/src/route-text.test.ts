/** What the upload components say a route accepts. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeRoute, formatBytes, maxFilesOf } from './route-text.js'

test('sizes read in powers of 1024', () => {
  assert.equal(formatBytes(2 * 1024 * 1024), '2 MB')
  assert.equal(formatBytes(512 * 1024), '512 KB')
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GB')
  assert.equal(formatBytes(100), '100 bytes')
})

test('a route is described by its kinds, counts and sizes', () => {
  assert.equal(
    describeRoute({ slug: 'avatar', config: { image: { maxFileSize: 2 * 1024 ** 2, maxFileCount: 1, minFileCount: 1 } } }),
    'One image up to 2 MB',
  )
  const documents = {
    slug: 'docs',
    config: {
      pdf: { maxFileSize: 4 * 1024 ** 2, maxFileCount: 5, minFileCount: 2 },
      'text/csv': { maxFileSize: 64 * 1024, maxFileCount: 1, minFileCount: 1 },
    },
  }
  assert.equal(describeRoute(documents), 'Up to 5 PDFs (at least 2), 4 MB each; one text/csv file up to 64 KB')
  assert.equal(maxFilesOf(documents), 6)
})
