import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FALLBACK_NAME, MAX_NAME_BYTES, objectLocation, sanitizeFileName, uniqueComponent } from './object-keys'

describe('sanitizeFileName', () => {
  test('keeps ordinary names as they are', () => {
    assert.equal(sanitizeFileName('avatar.jpg'), 'avatar.jpg')
    assert.equal(sanitizeFileName('Quarterly report (final) v2.pdf'), 'Quarterly report (final) v2.pdf')
    assert.equal(sanitizeFileName('été à Zürich.png'), 'été à Zürich.png')
  })

  test('strips directories and traversal, with either separator', () => {
    assert.equal(sanitizeFileName('../../etc/passwd'), 'passwd')
    assert.equal(sanitizeFileName('..\\..\\x'), 'x')
    assert.equal(sanitizeFileName('C:\\Users\\me\\photo.png'), 'photo.png')
    assert.equal(sanitizeFileName('/absolute/path/a.txt'), 'a.txt')
    for (const name of ['..', '.', '../', '..\\..\\', '/', '']) assert.equal(sanitizeFileName(name), FALLBACK_NAME, JSON.stringify(name))
  })

  test('removes NUL, control characters and bidirectional overrides', () => {
    assert.equal(sanitizeFileName('evil\u0000.png'), 'evil.png')
    assert.equal(sanitizeFileName('a\u0001b\u001fc\u007f.txt'), 'abc.txt')
    assert.equal(sanitizeFileName('line\nbreak\r\n.txt'), 'line break .txt')
    assert.equal(sanitizeFileName('invoice\u202egpj.exe'), 'invoicegpj.exe')
  })

  test('replaces reserved characters, collapses whitespace, drops leading dots and trailing dots', () => {
    assert.equal(sanitizeFileName('a<b>c:d"e|f?g*h#i%j.txt'), 'a_b_c_d_e_f_g_h_i_j.txt')
    assert.equal(sanitizeFileName('  many   spaces\there .txt'), 'many spaces here .txt')
    assert.equal(sanitizeFileName('.htaccess'), 'htaccess')
    assert.equal(sanitizeFileName('...hidden.png'), 'hidden.png')
    assert.equal(sanitizeFileName('name.txt...  '), 'name.txt')
  })

  test('bounds the name to MAX_NAME_BYTES of UTF-8, keeping the extension and whole characters', () => {
    const long = sanitizeFileName(`${'a'.repeat(500)}.jpeg`)
    assert.equal(Buffer.byteLength(long), MAX_NAME_BYTES)
    assert.ok(long.endsWith('.jpeg'))
    const multibyte = sanitizeFileName(`${'é'.repeat(300)}.png`)
    assert.ok(Buffer.byteLength(multibyte) <= MAX_NAME_BYTES)
    assert.ok(multibyte.endsWith('.png'))
    assert.ok(!multibyte.includes('\uFFFD'))
    assert.match(multibyte, /^é+\.png$/)
    const emoji = sanitizeFileName('😀'.repeat(100))
    assert.ok(Buffer.byteLength(emoji) <= MAX_NAME_BYTES)
    assert.match(emoji, /^(😀)+$/u)
  })
})

describe('objectLocation', () => {
  const scope = { organizationSlug: 'acme', teamSlug: 'web', projectSlug: 'site' }

  test('puts the object under the project prefix with a unique component, and the path under the tenant', () => {
    assert.deepEqual(objectLocation(scope, 'avatar.jpg', 'abc123'), { objectKey: 'acme/web/site/abc123-avatar.jpg', path: 'abc123-avatar.jpg', name: 'avatar.jpg' })
    assert.deepEqual(objectLocation({ ...scope, tenantSlug: 'tenant-a' }, 'avatar.jpg', 'abc123'), {
      objectKey: 'acme/web/site/tenant-a/abc123-avatar.jpg',
      path: 'tenant-a/abc123-avatar.jpg',
      name: 'avatar.jpg',
    })
  })

  test('a hostile name never leaves the prefix', () => {
    for (const hostile of ['../../etc/passwd', '..\\..\\x', '/../../../root/.ssh/id_rsa', 'a\u0000/../b']) {
      const { objectKey, path } = objectLocation(scope, hostile)
      assert.ok(objectKey.startsWith('acme/web/site/'), objectKey)
      assert.equal(objectKey.split('/').length, 4, objectKey)
      assert.ok(!objectKey.split('/').some((part) => part === '..' || part === '.' || part === ''), objectKey)
      assert.ok(!path.includes('/'), path)
    }
  })

  test('two uploads of one name get different keys', () => {
    assert.notEqual(objectLocation(scope, 'a.png').objectKey, objectLocation(scope, 'a.png').objectKey)
    assert.match(uniqueComponent(), /^[0-9a-f]{12}$/)
  })
})
