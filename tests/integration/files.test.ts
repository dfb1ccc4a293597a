import '../support/test-database'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { parse as parseDisposition } from 'content-disposition'
import sharp from 'sharp'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { PERMISSIONS } from '~/services/api-keys/permissions'
import {
  DOWNLOAD_URL_TTL_SECONDS,
  createFileDownload,
  deleteFile,
  deleteFiles,
  getFile,
  listFiles,
  storageStats,
  storageTotals,
} from '~/services/files/files.server'
import { listFilesQuerySchema } from '~/services/files/schemas'
import { fileThumbnail } from '~/services/files/thumbnails.server'
import { createTenantSchema } from '~/services/tenants/schemas'
import { createTenant } from '~/services/tenants/tenants.server'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import {
  addMember,
  addToTeam,
  assertAppError,
  createProjectIn,
  createTestApiKey,
  createWorkspace,
  testMeta,
  withAuditDelta,
} from '../support/factories'
import { objectExists, putTestFile } from '../support/file-factories'
import { attachLocalBucket, attachS3Bucket } from '../support/storage-factories'
import { rawS3Client } from '../support/s3'

/** Parses the API's list query as the route does, split into filters and page. */
function query(input: Record<string, unknown> = {}) {
  const { projectId: _projectId, tenantId, contentType, namePrefix, ...page } = listFilesQuerySchema.parse(input)
  return { filters: { tenantId, contentType, namePrefix }, page }
}

async function setup() {
  const { owner, organization, team, project } = await createWorkspace()
  await attachS3Bucket(project.id)
  const viewer = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, viewer, 'VIEWER')
  const other = await createWorkspace()
  await attachS3Bucket(other.project.id)
  const tenant = (slug: string, projectId = project.id, actor = owner.actor) =>
    createTenant(actor, { ...createTenantSchema.parse({ slug, name: slug }), projectId })
  return { owner, organization, team, project, viewer, other, tenant }
}

const tokenOf = async (user: { user: { id: string } }) => (await issueTokens(user.user.id, testMeta())).accessToken
const PNG = () =>
  sharp({ create: { width: 640, height: 480, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer()

describe('listing files', () => {
  test('cursor pages cover every file once; filters by tenant, exact type, type family and name prefix', async () => {
    const { owner, project, tenant } = await setup()
    const acme = await tenant('acme')
    const files = [
      await putTestFile(project.id, { name: 'Report.pdf', contentType: 'application/pdf', tenantId: acme.id }),
      await putTestFile(project.id, { name: 'photo.png', contentType: 'image/png', tenantId: acme.id }),
      await putTestFile(project.id, { name: 'PHOTO-2.jpg', contentType: 'image/jpeg' }),
      await putTestFile(project.id, { name: 'notes.txt', contentType: 'text/plain' }),
      await putTestFile(project.id, { name: '100%_done.txt', contentType: 'text/plain' }),
    ]
    const seen: string[] = []
    let cursor: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const { filters, page } = query({ limit: '2', cursor })
      const result = await listFiles(owner.actor, project.id, filters, page)
      assert.ok(result.items.length <= 2)
      seen.push(...result.items.map((file) => file.id))
      if (!result.nextCursor) break
      cursor = result.nextCursor
    }
    assert.deepEqual(seen.sort(), files.map((file) => file.id).sort())

    const names = async (input: Record<string, unknown>) => {
      const { filters, page } = query(input)
      return (await listFiles(owner.actor, project.id, filters, page)).items.map((file) => file.name).sort()
    }
    assert.deepEqual(await names({ tenantId: acme.id }), ['Report.pdf', 'photo.png'])
    assert.deepEqual(await names({ contentType: 'image/png' }), ['photo.png'])
    assert.deepEqual(await names({ contentType: 'IMAGE/*' }), ['PHOTO-2.jpg', 'photo.png'])
    assert.deepEqual(await names({ namePrefix: 'photo' }), ['PHOTO-2.jpg', 'photo.png'], 'prefix ignores case')
    assert.deepEqual(await names({ namePrefix: 'photo', tenantId: acme.id }), ['photo.png'])
    assert.deepEqual(await names({ namePrefix: '100%_' }), ['100%_done.txt'])
    assert.deepEqual(await names({ namePrefix: '%' }), [], '% is literal, not a wildcard')
    assert.deepEqual(await names({ namePrefix: '_' }), [], '_ is literal, not a wildcard')
    assert.deepEqual(await names({ namePrefix: 'hoto' }), [], 'a prefix, not a substring')
    assert.equal(listFilesQuerySchema.safeParse({ contentType: 'image/**' }).success, false)
  })

  test('the API answers the page the service lists, key for key and value for value (PostgreSQL writes its JSON)', async () => {
    const { owner, project, tenant } = await setup()
    const acme = await tenant('acme')
    const files = [
      await putTestFile(project.id, { name: 'Zoë "quoted" \\ name.png', contentType: 'image/png', tenantId: acme.id }),
      await putTestFile(project.id, { name: 'plain.txt' }),
      await putTestFile(project.id, { name: 'photo.jpg', contentType: 'image/jpeg' }),
    ]
    await prisma.file.update({
      where: { id: files[0]!.id },
      data: { metadata: { caption: 'line\nbreak, "quotes", ünïcode 🚀', nested: { n: 1.5, list: [1, null, true] } }, isPublic: true },
    })
    const token = await tokenOf(owner)
    const viaApi = async (input: Record<string, string>) => {
      const answer = await api('GET', `/api/v1/files?${new URLSearchParams({ projectId: project.id, ...input })}`, { token })
      assert.equal(answer.status, 200)
      return answer.json as unknown
    }
    const viaService = async (input: Record<string, string>) => {
      const { filters, page } = query(input)
      const { items, nextCursor } = await listFiles(owner.actor, project.id, filters, page)
      return JSON.parse(JSON.stringify({ items, nextCursor })) as unknown
    }
    let cursor: string | undefined
    for (let pages = 0; pages < 5; pages++) {
      const input: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) }
      const expected = (await viaService(input)) as { nextCursor: string | null }
      assert.deepEqual(await viaApi(input), expected)
      if (!expected.nextCursor) break
      cursor = expected.nextCursor
    }
    const filtered: Record<string, string>[] = [
      {},
      { tenantId: acme.id },
      { contentType: 'image/*' },
      { namePrefix: 'zo' },
      { namePrefix: 'nothing' },
    ]
    for (const input of filtered) {
      assert.deepEqual(await viaApi(input), await viaService(input), JSON.stringify(input))
    }
  })

  test('the dashboard pages backward with `before` and knows whether earlier files exist', async () => {
    const { owner, project } = await setup()
    const files = []
    for (let i = 0; i < 5; i++) files.push(await putTestFile(project.id))
    const ids = files.map((file) => file.id).sort()
    const first = await listFiles(owner.actor, project.id, {}, { limit: 2 })
    assert.deepEqual([first.items.map((f) => f.id), first.hasPrevious], [ids.slice(0, 2), false])
    const second = await listFiles(owner.actor, project.id, {}, { limit: 2, cursor: first.nextCursor! })
    assert.deepEqual([second.items.map((f) => f.id), second.hasPrevious], [ids.slice(2, 4), true])
    const back = await listFiles(owner.actor, project.id, {}, { limit: 2, before: second.items[0]!.id })
    assert.deepEqual([back.items.map((f) => f.id), back.hasPrevious, back.nextCursor], [ids.slice(0, 2), false, ids[1]])
    const backFromLast = await listFiles(owner.actor, project.id, {}, { limit: 2, before: ids[4]! })
    assert.deepEqual([backFromLast.items.map((f) => f.id), backFromLast.hasPrevious], [ids.slice(2, 4), true])
    // A cursor whose file was deleted meanwhile still leads on.
    await deleteFile(owner.actor, ids[1]!)
    const afterDeleted = await listFiles(owner.actor, project.id, {}, { limit: 2, cursor: ids[1]! })
    assert.deepEqual(
      afterDeleted.items.map((f) => f.id),
      ids.slice(2, 4),
    )
  })

  test("a tenant of another project is not found, and so are that project's files", async () => {
    const { owner, project, other, tenant } = await setup()
    const foreignTenant = await tenant('foreign', other.project.id, other.owner.actor)
    const foreignFile = await putTestFile(other.project.id, { tenantId: foreignTenant.id })
    await assertAppError(listFiles(owner.actor, project.id, { tenantId: foreignTenant.id }, { limit: 20 }), 'NOT_FOUND')
    await assertAppError(getFile(owner.actor, foreignFile.id), 'NOT_FOUND')
    await assertAppError(listFiles(owner.actor, other.project.id, {}, { limit: 20 }), 'NOT_FOUND')
    const token = await tokenOf(owner)
    assertProblem(await api('GET', `/api/v1/files?projectId=${project.id}&tenantId=${foreignTenant.id}`, { token }), 404)
  })
})

describe('downloads', () => {
  test('302 to a signed URL that downloads the bytes with a server-chosen disposition and type; JSON with redirect=false', async () => {
    const { owner, project } = await setup()
    const png = await PNG()
    const image = await putTestFile(project.id, { name: 'Ünïcode photo.png', contentType: 'image/png', body: png })
    const key = await createTestApiKey(owner.actor, project.id, ['files:read'])

    const redirect = await api('GET', `/api/v1/files/${image.id}/download`, { token: key.key })
    assert.equal(redirect.status, 302, redirect.text)
    assert.equal(redirect.headers.get('Cache-Control'), 'no-store')
    assert.ok(redirect.headers.get('X-RateLimit-Limit'), 'the redirect reports the rate limit too')
    const location = redirect.headers.get('Location')!
    assert.ok(location.startsWith(process.env.TEST_S3_ENDPOINT!), location)

    const bytes = await fetch(location)
    assert.equal(bytes.status, 200)
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), png)
    assert.equal(bytes.headers.get('Content-Type'), 'image/png')
    const disposition = parseDisposition(bytes.headers.get('Content-Disposition')!)
    assert.deepEqual([disposition.type, disposition.parameters.filename], ['inline', 'Ünïcode photo.png'])

    const json = await api('GET', `/api/v1/files/${image.id}/download?redirect=false`, { token: key.key })
    assert.equal(json.status, 200)
    assert.match(json.json.url, /^http/)
    const expiresIn = new Date(json.json.expiresAt).getTime() - Date.now()
    assert.ok(expiresIn > 0 && expiresIn <= DOWNLOAD_URL_TTL_SECONDS * 1000, `expires within the TTL (${expiresIn} ms)`)
    assertProblem(await api('GET', `/api/v1/files/${image.id}/download?redirect=maybe`, { token: key.key }), 400)

    const carcosa = await api('GET', `/api/v1/carcosa/files/${image.id}?redirect=false`, { token: key.key })
    assert.equal(carcosa.status, 200)
    assert.deepEqual(Buffer.from(await (await fetch(carcosa.json.url)).arrayBuffer()), png)
  })

  test('HTML, SVG, JavaScript, XML, PDF and unknown types are attachments; a hostile type is replaced', async () => {
    const { owner, project } = await setup()
    const cases = [
      { name: 'page.html', contentType: 'text/html', body: '<script>alert(1)</script>' },
      { name: 'logo.svg', contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' },
      { name: 'app.js', contentType: 'text/javascript', body: 'alert(1)' },
      { name: 'feed.xml', contentType: 'application/xml', body: '<x/>' },
      { name: 'doc.pdf', contentType: 'application/pdf', body: '%PDF-1.4' },
      { name: 'blob.bin', contentType: 'application/x-unknown', body: 'bytes' },
      { name: 'odd.txt', contentType: 'text/html; charset=utf-8\r\nX-Evil: 1', body: '<b>hi</b>' },
    ]
    for (const spec of cases) {
      const hostile = spec.contentType.includes('\n')
      const file = await putTestFile(project.id, { ...spec, contentType: hostile ? 'text/html' : spec.contentType })
      // A type no client could send through a header, as if the row had been written by hand.
      if (hostile) await prisma.file.update({ where: { id: file.id }, data: { contentType: spec.contentType } })
      const download = await createFileDownload(owner.actor, file.id)
      const response = await fetch(download.url)
      assert.equal(response.status, 200, spec.name)
      assert.equal(await response.text(), spec.body, spec.name)
      const disposition = parseDisposition(response.headers.get('Content-Disposition')!)
      assert.deepEqual([disposition.type, disposition.parameters.filename], ['attachment', spec.name], spec.name)
      const expectedType = spec.name === 'odd.txt' ? 'application/octet-stream' : spec.contentType
      assert.equal(response.headers.get('Content-Type'), expectedType, spec.name)
      assert.equal(response.headers.get('X-Evil'), null)
    }
  })

  test('local provider: the signed URL points at Carcosa, which serves HTML as a sandboxed, unsniffed attachment', async () => {
    const { owner, project } = await setup()
    await attachLocalBucket(project.id)
    const body = '<script>alert(document.cookie)</script>'
    const html = await putTestFile(project.id, { name: 'page.html', contentType: 'text/html', body })
    const png = await putTestFile(project.id, { name: 'pic.png', contentType: 'image/png', body: await PNG() })
    const token = await tokenOf(owner)

    const redirect = await api('GET', `/api/v1/files/${html.id}/download`, { token })
    assert.equal(redirect.status, 302, redirect.text)
    const location = new URL(redirect.headers.get('Location')!)
    assert.equal(location.origin, 'http://carcosa.test', 'local URLs point at the origin the caller used')
    assert.ok(location.pathname.startsWith('/storage/local/'), location.pathname)
    const served = await api('GET', location.pathname + location.search)
    assert.equal(served.status, 200, served.text)
    assert.equal(served.text, body)
    assert.equal(parseDisposition(served.headers.get('Content-Disposition')!).type, 'attachment')
    assert.equal(served.headers.get('X-Content-Type-Options'), 'nosniff')
    assert.match(served.headers.get('Content-Security-Policy') ?? '', /sandbox/)

    const image = await api('GET', `/api/v1/files/${png.id}/download?redirect=false`, { token })
    const inline = new URL(image.json.url)
    const servedImage = await api('GET', inline.pathname + inline.search)
    assert.equal(servedImage.status, 200)
    assert.equal(servedImage.headers.get('Content-Type'), 'image/png')
    assert.equal(parseDisposition(servedImage.headers.get('Content-Disposition')!).type, 'inline')
  })

  test('viewers download; a key without files:read is refused; other projects see nothing', async () => {
    const { owner, project, viewer, other } = await setup()
    const file = await putTestFile(project.id)
    assert.ok((await createFileDownload(viewer.actor, file.id)).url)
    const writer = await createTestApiKey(owner.actor, project.id, ['files:write'])
    assertProblem(await api('GET', `/api/v1/files/${file.id}/download`, { token: writer.key }), 403)
    await assertAppError(createFileDownload(other.owner.actor, file.id), 'NOT_FOUND')
    await assertAppError(createFileDownload(owner.actor, file.id, { projectId: other.project.id }), 'NOT_FOUND')
  })
})

describe('deleting files', () => {
  test('delete removes the object, then the row, with an audit entry; viewers are refused', async () => {
    const { owner, organization, project, viewer } = await setup()
    const file = await putTestFile(project.id)
    assert.ok(await objectExists(file))
    await assertAppError(deleteFile(viewer.actor, file.id), 'FORBIDDEN')
    assert.ok(await objectExists(file), 'a refused delete changes nothing')

    const { rows } = await withAuditDelta(() => deleteFile(owner.actor, file.id))
    assert.equal(await objectExists(file), false)
    assert.equal(await prisma.file.count({ where: { id: file.id } }), 0)
    assert.deepEqual(
      rows.map((row) => [row.action, row.targetType, row.targetId, row.organizationId]),
      [['file.delete', 'file', file.id, organization.id]],
    )
    assert.equal((rows[0]!.before as { name: string }).name, file.name)
    await assertAppError(deleteFile(owner.actor, file.id), 'NOT_FOUND')
  })

  test('a file whose object is already gone is still deleted', async () => {
    const { owner, project } = await setup()
    const file = await putTestFile(project.id)
    const bucket = await prisma.bucket.findUniqueOrThrow({ where: { id: file.bucketId } })
    await rawS3Client().send(new DeleteObjectCommand({ Bucket: bucket.bucketName, Key: file.objectKey }))
    const token = await tokenOf(owner)
    const response = await api('DELETE', `/api/v1/files/${file.id}`, { token })
    assert.equal(response.status, 204, response.text)
    assert.equal(await prisma.file.count({ where: { id: file.id } }), 0)
  })

  test("bulk delete: the caller's files go, others' ids are reported not found and stay untouched", async () => {
    const { owner, project, other } = await setup()
    const mine = [await putTestFile(project.id), await putTestFile(project.id)]
    const theirs = await putTestFile(other.project.id)
    const key = await createTestApiKey(owner.actor, project.id, ['files:delete'])
    const { result: response, rows } = await withAuditDelta(() =>
      api('POST', '/api/v1/files/bulk-delete', {
        token: key.key,
        body: { ids: [mine[0]!.id, theirs.id, 'no-such-file', mine[1]!.id, mine[0]!.id] },
      }),
    )
    assert.equal(response?.status, 200, response?.text)
    assert.deepEqual(response?.json, { deleted: [mine[0]!.id, mine[1]!.id], notFound: [theirs.id, 'no-such-file'] })
    assert.deepEqual(
      rows.map((row) => row.action),
      ['file.delete', 'file.delete'],
    )
    for (const file of mine) {
      assert.equal(await objectExists(file), false)
      assert.equal(await prisma.file.count({ where: { id: file.id } }), 0)
    }
    assert.ok(await objectExists(theirs))
    assert.equal(await prisma.file.count({ where: { id: theirs.id } }), 1)
  })

  test('bulk delete across projects for a user; any file the user may see but not delete refuses everything', async () => {
    const { owner, team, project, viewer } = await setup()
    const second = await createProjectIn(owner.actor, team.id)
    const a = await putTestFile(project.id)
    const b = await putTestFile(second.id)
    await assertAppError(deleteFiles(viewer.actor, [a.id, b.id]), 'FORBIDDEN')
    assert.ok((await objectExists(a)) && (await objectExists(b)), 'nothing deleted')
    assert.deepEqual(await deleteFiles(owner.actor, [a.id, b.id]), { deleted: [a.id, b.id], notFound: [] })
    const tooMany = await api('POST', '/api/v1/files/bulk-delete', {
      token: await tokenOf(owner),
      body: { ids: Array.from({ length: 101 }, (_, i) => `f${i}`) },
    })
    assertProblem(tooMany, 400)
    assertProblem(await api('POST', '/api/v1/files/bulk-delete', { token: await tokenOf(owner), body: { ids: [] } }), 400)
  })
})

describe('isolation and permissions over REST', () => {
  test("project B's key (every permission) and a stranger's token get 404 on every file endpoint of project A", async () => {
    const { project, other } = await setup()
    const file = await putTestFile(project.id)
    const otherKey = (await createTestApiKey(other.owner.actor, other.project.id, [...PERMISSIONS])).key
    const strangerToken = await tokenOf(other.owner)
    for (const token of [otherKey, strangerToken]) {
      assertProblem(await api('GET', `/api/v1/files?projectId=${project.id}`, { token }), 404)
      assertProblem(await api('GET', `/api/v1/files/${file.id}`, { token }), 404)
      assertProblem(await api('GET', `/api/v1/files/${file.id}/download`, { token }), 404)
      assertProblem(await api('GET', `/api/v1/files/${file.id}/download?redirect=false`, { token }), 404)
      assertProblem(await api('DELETE', `/api/v1/files/${file.id}`, { token }), 404)
      assertProblem(await api('GET', `/api/v1/carcosa/stats?projectId=${project.id}`, { token }), 404)
      assertProblem(await api('GET', `/api/v1/carcosa/files/${file.id}`, { token }), 404)
      assertProblem(await api('POST', '/api/v1/files/bulk-delete', { token, body: { ids: [file.id] } }), 404)
    }
    const own = await api('GET', '/api/v1/files', { token: otherKey })
    assert.deepEqual(own.json, { items: [], nextCursor: null })
    assert.ok(await objectExists(file))
    assert.equal(await prisma.file.count({ where: { id: file.id } }), 1)
  })

  test('API keys need files:read to read and files:delete to delete', async () => {
    const { owner, project } = await setup()
    const file = await putTestFile(project.id)
    const reader = (await createTestApiKey(owner.actor, project.id, ['files:read'])).key
    const deleter = (await createTestApiKey(owner.actor, project.id, ['files:delete'])).key
    const listed = await api('GET', '/api/v1/files', { token: reader })
    assert.deepEqual(
      listed.json.items.map((f: { id: string }) => f.id),
      [file.id],
    )
    assert.deepEqual(Object.keys(listed.json.items[0]).sort(), [
      'contentType',
      'createdAt',
      'id',
      'isPublic',
      'metadata',
      'name',
      'path',
      'projectId',
      'size',
      'tenantId',
      'updatedAt',
    ])
    assertProblem(await api('DELETE', `/api/v1/files/${file.id}`, { token: reader }), 403)
    assertProblem(await api('POST', '/api/v1/files/bulk-delete', { token: reader, body: { ids: [file.id] } }), 403)
    assertProblem(await api('GET', `/api/v1/files/${file.id}`, { token: deleter }), 403)
    assertProblem(await api('GET', '/api/v1/carcosa/stats', { token: deleter }), 403)
    assert.equal((await api('DELETE', `/api/v1/files/${file.id}`, { token: deleter })).status, 204)
  })
})

describe('storage stats', () => {
  test('bytes and counts per project and per tenant add up, from the service and /api/v1/carcosa/stats', async () => {
    const { owner, project, other, tenant } = await setup()
    const acme = await tenant('acme')
    const beta = await tenant('beta')
    await tenant('empty')
    await putTestFile(project.id, { body: 'x'.repeat(100), tenantId: acme.id })
    await putTestFile(project.id, { body: 'x'.repeat(250), tenantId: acme.id })
    await putTestFile(project.id, { body: 'x'.repeat(1000), tenantId: beta.id })
    await putTestFile(project.id, { body: 'x'.repeat(7) })
    await putTestFile(other.project.id, { body: 'x'.repeat(5000) })

    const stats = await storageStats(owner.actor, project.id)
    assert.deepEqual(stats, {
      projectId: project.id,
      bytes: 1357,
      fileCount: 4,
      tenants: [
        { tenantId: beta.id, slug: 'beta', name: 'beta', bytes: 1000, fileCount: 1 },
        { tenantId: acme.id, slug: 'acme', name: 'acme', bytes: 350, fileCount: 2 },
      ],
      withoutTenant: { bytes: 7, fileCount: 1 },
    })
    assert.deepEqual(await storageTotals(owner.actor, project.id), { bytes: 1357, fileCount: 4 })
    assert.deepEqual(await storageTotals(owner.actor, project.id, { tenantId: acme.id }), { bytes: 350, fileCount: 2 })

    const key = (await createTestApiKey(owner.actor, project.id, ['files:read'])).key
    const response = await api('GET', '/api/v1/carcosa/stats', { token: key })
    assert.equal(response.status, 200)
    assert.deepEqual(response.json, stats)
    const empty = await storageStats(other.owner.actor, (await createWorkspace({ owner: other.owner })).project.id)
    assert.deepEqual([empty.bytes, empty.fileCount, empty.tenants, empty.withoutTenant], [0, 0, [], { bytes: 0, fileCount: 0 }])
  })
})

describe('thumbnails', () => {
  test('raster images get a small WebP; SVG, other types and decompression bombs get none', async () => {
    const { owner, project, other } = await setup()
    const png = await putTestFile(project.id, { name: 'big.png', contentType: 'image/png', body: await PNG() })
    const thumbnail = await fileThumbnail(owner.actor, png.id)
    assert.ok(thumbnail)
    const meta = await sharp(thumbnail).metadata()
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 160, 120])

    const svg = await putTestFile(project.id, { name: 'x.svg', contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' })
    assert.equal(await fileThumbnail(owner.actor, svg.id), null)
    const text = await putTestFile(project.id, { contentType: 'text/plain' })
    assert.equal(await fileThumbnail(owner.actor, text.id), null)

    // A valid PNG header claiming 50000 x 50000 pixels.
    const header = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer()
    header.writeUInt32BE(50000, 16)
    header.writeUInt32BE(50000, 20)
    const bomb = await putTestFile(project.id, { name: 'bomb.png', contentType: 'image/png', body: header })
    assert.equal(await fileThumbnail(owner.actor, bomb.id), null)

    await assertAppError(fileThumbnail(other.owner.actor, png.id), 'NOT_FOUND')
  })
})
