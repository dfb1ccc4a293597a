import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FALLBACK_NAME, MAX_NAME_BYTES, fileNameWithFolders, objectLocation, sanitizeFileName, uniqueComponent } from './object-keys'

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
    assert.deepEqual(objectLocation(scope, 'avatar.jpg', 'abc123'), {
      objectKey: 'acme/web/site/abc123-avatar.jpg',
      path: 'abc123-avatar.jpg',
      name: 'avatar.jpg',
    })
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

  test('a name keeps the folders it was sent with; the key and path never do', () => {
    const located = objectLocation(scope, 'photos/2026/summer.jpg', 'abc123')
    assert.deepEqual(located, { objectKey: 'acme/web/site/abc123-summer.jpg', path: 'abc123-summer.jpg', name: 'photos/2026/summer.jpg' })
    assert.equal(fileNameWithFolders('../../etc/passwd'), 'etc/passwd')
    assert.equal(fileNameWithFolders('a\\.\\b/ /c?.txt'), 'a/b/c_.txt')
    assert.equal(fileNameWithFolders('/../../../root/.ssh/id_rsa'), 'root/ssh/id_rsa')
    assert.equal(fileNameWithFolders('x\u0000/../b'), 'x/b')
    assert.equal(fileNameWithFolders('file/a.txt'), 'file/a.txt')
    assert.equal(fileNameWithFolders('1/2/3/4/5/6/7/8/9/10/a.txt'), '3/4/5/6/7/8/9/10/a.txt')
    const deep = fileNameWithFolders(`${'d'.repeat(150)}/${'e'.repeat(150)}/f.txt`)
    assert.equal(deep, `${'e'.repeat(150)}/f.txt`, 'outer folders go first when the whole is too long')
  })

  test('two uploads of one name get different keys', () => {
    assert.notEqual(objectLocation(scope, 'a.png').objectKey, objectLocation(scope, 'a.png').objectKey)
    assert.match(uniqueComponent(), /^[0-9a-f]{12}$/)
  })
})
