/** The SDK's pure parts: sizes, types, tenant detection, problem errors. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CarcosaError, formatFileSize, parseFileSize } from '@carcosa/sdk'
import { createCarcosa, createUploadRouter, f, routesOf, tenantFromHeader, tenantFromPath, tenantFromSubdomain } from '@carcosa/sdk/server'

describe('file sizes', () => {
  test('any number and unit, in powers of 1024', () => {
    assert.equal(parseFileSize('512KB'), 512 * 1024)
    assert.equal(parseFileSize('4MB'), 4 * 1024 ** 2)
    assert.equal(parseFileSize('1.5GB'), 1.5 * 1024 ** 3)
    assert.equal(parseFileSize('2MiB'), 2 * 1024 ** 2)
    assert.equal(parseFileSize('10B'), 10)
    assert.equal(parseFileSize(123), 123)
    assert.equal(formatFileSize(1.5 * 1024 ** 3), '1.5 GiB')
  })

  test('anything else is refused with a message that shows the form', () => {
    for (const bad of ['4', 'MB', '4 megabytes', '-1MB', '']) {
      assert.throws(() => parseFileSize(bad as '4MB'), /is not a file size: write a number and a unit/)
    }
  })
})

describe('tenant detection', () => {
  test('from a header, a subdomain and a path, on fetch and Node requests', () => {
    const fetchRequest = new Request('https://acme.app.example.com/t/globex/upload', {
      headers: { 'x-tenant-id': 'Initech', host: 'acme.app.example.com' },
    })
    const nodeRequest = { headers: { 'x-tenant-id': 'initech', host: 'acme.app.example.com:3000' }, originalUrl: '/t/globex/upload?x=1' }
    for (const req of [fetchRequest, nodeRequest]) {
      assert.equal(tenantFromHeader(req), 'initech')
      assert.equal(tenantFromSubdomain(req, { baseDomain: 'app.example.com' }), 'acme')
      assert.equal(tenantFromPath(req, { prefix: '/t' }), 'globex')
      assert.equal(tenantFromPath(req, { index: 0 }), null, '"t" is too short to be a tenant slug')
    }
    assert.equal(tenantFromSubdomain(new Request('https://app.example.com/'), { baseDomain: 'app.example.com' }), null)
    assert.equal(tenantFromSubdomain({ headers: { host: 'a.b.app.example.com' } }, { baseDomain: 'app.example.com' }), null, 'one label only')
    assert.equal(tenantFromHeader({ headers: { 'x-tenant-id': '../etc' } }), null, 'not a slug')
  })
})

describe('routers', () => {
  test('both forms give the same routes; the seed shorthands name their kind', () => {
    const g = createCarcosa()
    const route = g({ image: { maxFileSize: '2MB' } }).onUploadComplete(() => null)
    const plain = { avatar: route }
    const seed = createUploadRouter().addRoute('avatar', route)
    assert.deepEqual(Object.keys(routesOf(plain)), ['avatar'])
    assert.deepEqual(Object.keys(routesOf(seed)), ['avatar'])
    assert.deepEqual(f.imageUploader({ maxFileSize: '2MB' }).onUploadComplete(() => null)._def.config, { image: { maxFileSize: '2MB' } })
    assert.throws(() => seed.addRoute('avatar', route), /defined twice/)
    assert.throws(() => g({}), /at least one file kind/)
  })
})

describe('errors', () => {
  test('a problem keeps its fields; a code gives its status', () => {
    const error = CarcosaError.fromProblem({
      type: 't',
      title: 'Validation failed',
      status: 400,
      detail: 'size is wrong',
      errors: { size: ['too big'] },
    })
    assert.deepEqual([error.code, error.status, error.message, error.fieldErrors], ['BAD_REQUEST', 400, 'size is wrong', { size: ['too big'] }])
    const refused = new CarcosaError({ code: 'FORBIDDEN', message: 'Sign in first' })
    assert.equal(refused.status, 403)
    assert.deepEqual(refused.toProblem().status, 403)
  })
})
