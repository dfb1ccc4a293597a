/**
 * @carcosa/sdk as an application uses it: a real Carcosa (server.ts in a child process, s3rver
 * bucket) and a real Express app in this process mounting the SDK's route handler. Uploads go from
 * Node through the handler (the middleware decides) straight to the bucket, and onUploadComplete
 * runs on the Express side, from the client's report or from Carcosa's signed webhook when the
 * client went away. s3rver ignores signatures: nothing here proves presigning.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import sharp from 'sharp'
import { z } from 'zod'
import { CarcosaApi, CarcosaClient, CarcosaError } from '@carcosa/sdk'
import { genUploader, memoryResumeStore, type UploadProgressEvent } from '@carcosa/sdk/client'
import { createCarcosa, createRouteHandler, tenantFromHeader, type FileRouter } from '@carcosa/sdk/express'
import { prisma } from '~/utils/db.server'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { startCarcosa } from '../support/carcosa-server'
import { attachS3Bucket } from '../support/storage-factories'
import { waitFor } from '../support/webhook-receiver'

const MIB = 1024 * 1024
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

/** Every onUploadComplete run, by upload id: exactly-once is counted here. */
const completions: Array<{ slug: string; uploadId: string; metadata: unknown; fileKey: string }> = []
const uploadErrors: Array<{ fileKey: string; code: string }> = []
const runsOf = (uploadId: string) => completions.filter((c) => c.uploadId === uploadId).length

const f = createCarcosa()
const router = {
  avatar: f({ image: { maxFileSize: '256KB', maxFileCount: 2 } })
    .input(z.object({ albumId: z.string().min(1) }))
    .middleware(async ({ req, input, files }) => {
      if (req.headers['x-user'] !== 'ada') throw new CarcosaError({ code: 'FORBIDDEN', message: 'Sign in to upload avatars' })
      return { userId: 'ada', albumId: input.albumId, fileCount: files.length }
    })
    .onUploadError(({ error, fileKey }) => void uploadErrors.push({ fileKey, code: error.code }))
    .onUploadComplete(async ({ metadata, file }) => {
      completions.push({ slug: 'avatar', uploadId: file.uploadId, metadata, fileKey: file.key })
      // Slow enough that duplicate reports overlap with it.
      await new Promise((resolve) => setTimeout(resolve, 300))
      return { uploadedBy: metadata.userId, album: metadata.albumId }
    }),
  archive: f({ blob: { maxFileSize: '64MB' } }).onUploadComplete(({ file }) => {
    completions.push({ slug: 'archive', uploadId: file.uploadId, metadata: {}, fileKey: file.key })
    return { size: file.size }
  }),
  tenantDocs: f({ 'text/plain': { maxFileSize: '1MB' }, tenant: ({ req }) => tenantFromHeader(req as express.Request) }).onUploadComplete(
    ({ file }) => ({ tenantId: file.tenantId }),
  ),
} satisfies FileRouter
type AppRouter = typeof router

let carcosaUrl: string
let appUrl: string
let apiKey: string
let projectId: string
let api: CarcosaApi
let appServer: http.Server

before(async () => {
  const workspace = await createWorkspace()
  projectId = workspace.project.id
  await attachS3Bucket(projectId)
  apiKey = (
    await createTestApiKey(workspace.owner.actor, projectId, [
      'files:read',
      'files:write',
      'files:delete',
      'projects:read',
      'tenants:manage',
      'transforms:read',
      'transforms:write',
      'transforms:execute',
    ])
  ).key
  // Uploads whose client goes away are reconciled a second after init (the webhook tests below).
  carcosaUrl = await startCarcosa({ UPLOAD_RECONCILE_AFTER_SECONDS: '1' })
  api = new CarcosaApi({ apiKey, baseUrl: carcosaUrl })

  const app = express()
  app.use('/api/uploads', createRouteHandler({ router, config: { apiKey, baseUrl: carcosaUrl } }))
  appServer = await new Promise<http.Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
  appUrl = `http://127.0.0.1:${(appServer.address() as { port: number }).port}`
})

after(() => {
  appServer.closeAllConnections()
  appServer.close()
})

const uploader = () => genUploader<AppRouter>({ url: `${appUrl}/api/uploads`, resumeStore: null })
const asUser = { 'x-user': 'ada' }

async function png(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 20, b: 20 } } })
    .png()
    .toBuffer()
}

describe('route handler', () => {
  test('GET answers each route with its limits', async () => {
    const config = await uploader().routeConfig()
    assert.deepEqual(
      config.find((route) => route.slug === 'avatar'),
      { slug: 'avatar', config: { image: { maxFileSize: 256 * 1024, maxFileCount: 2, minFileCount: 1 } } },
    )
    assert.deepEqual(config.map((route) => route.slug).sort(), ['archive', 'avatar', 'tenantDocs'])
  })

  test('a small upload from Node: progress, the file in Carcosa, serverData, and onUploadComplete once', async () => {
    const bytes = await png(64, 64)
    const events: UploadProgressEvent[] = []
    const begun: string[] = []
    const [result] = await uploader().uploadFiles('avatar', {
      files: [new File([bytes], 'me.png', { type: 'image/png' })],
      input: { albumId: 'holidays' },
      headers: asUser,
      onUploadBegin: ({ name }) => begun.push(name),
      onUploadProgress: (event) => events.push(event),
    })
    assert.ok(result)
    assert.deepEqual(result.serverData, { uploadedBy: 'ada', album: 'holidays' })
    assert.deepEqual([result.name, result.size, result.type], ['me.png', bytes.length, 'image/png'])
    assert.deepEqual(begun, ['me.png'])
    assert.ok(events.length > 0)
    assert.deepEqual([events.at(-1)!.progress, events.at(-1)!.totalProgress, events.at(-1)!.loaded], [100, 100, bytes.length])

    const stored = await api.getFile(result.key)
    assert.deepEqual([stored.name, stored.size, stored.contentType, stored.path], ['me.png', bytes.length, 'image/png', result.path])
    const download = await fetch(result.url)
    assert.equal(sha(new Uint8Array(await download.arrayBuffer())), sha(bytes))

    const run = completions.filter((c) => c.fileKey === result.key)
    assert.equal(run.length, 1)
    assert.deepEqual(run[0]!.metadata, { userId: 'ada', albumId: 'holidays', fileCount: 1 })
  })

  test('a multipart upload from Node: parallel parts, progress per file and in total, bytes intact', async () => {
    const bytes = randomBytes(20 * MIB)
    const events: UploadProgressEvent[] = []
    const [result] = await uploader().uploadFiles('archive', {
      files: [new File([bytes], 'backup.bin', { type: 'application/octet-stream' })],
      onUploadProgress: (event) => events.push(event),
    })
    assert.ok(result)
    assert.deepEqual(result.serverData, { size: 20 * MIB })
    const upload = await prisma.upload.findFirstOrThrow({ where: { fileId: result.key } })
    assert.equal(upload.method, 'MULTIPART')
    const totals = events.map((e) => e.totalLoaded)
    assert.ok(events.length > 3, 'several progress events')
    assert.equal(events.at(-1)!.progress, 100)
    assert.ok(
      totals.some((t) => t > 0 && t < bytes.length),
      'progress between the start and the end',
    )
    const download = await fetch(result.url)
    assert.equal(sha(new Uint8Array(await download.arrayBuffer())), sha(bytes))
    assert.equal(runsOf(upload.id), 1)
  })

  test('a refusing middleware: 403 with its message, nothing started in Carcosa', async () => {
    const before = await prisma.upload.count({ where: { projectId } })
    await assert.rejects(
      uploader().uploadFiles('avatar', { files: [new File([await png(8, 8)], 'x.png', { type: 'image/png' })], input: { albumId: 'a' } }),
      (error: unknown) => {
        assert.ok(error instanceof CarcosaError)
        assert.deepEqual([error.status, error.code, error.message], [403, 'FORBIDDEN', 'Sign in to upload avatars'])
        return true
      },
    )
    assert.equal(await prisma.upload.count({ where: { projectId } }), before)
  })

  test('a file over the route limit: 413 from the handler, and Carcosa enforces the route too', async () => {
    const big = new File([randomBytes(300 * 1024)], 'big.png', { type: 'image/png' })
    await assert.rejects(uploader().uploadFiles('avatar', { files: [big], input: { albumId: 'a' }, headers: asUser }), (error: CarcosaError) => {
      assert.deepEqual([error.status, error.code], [413, 'TOO_LARGE'])
      assert.match(error.message, /big\.png is 300 KiB; this route accepts image files up to 256 KiB/)
      return true
    })
    // The same limit, straight at Carcosa: refused at init, whatever a client claims elsewhere.
    await assert.rejects(
      api.initUpload({
        fileName: 'big.png',
        contentType: 'image/png',
        size: 300 * 1024,
        route: { slug: 'avatar', maxFileSize: 256 * 1024, allowedTypes: ['image/*'] },
      }),
      (error: CarcosaError) => error.status === 413 && /route avatar accepts at most 262144 bytes/.test(error.message),
    )
    await assert.rejects(
      api.initUpload({ fileName: 'a.txt', contentType: 'text/plain', size: 10, route: { slug: 'avatar', allowedTypes: ['image/*'] } }),
      (error: CarcosaError) => error.status === 415,
    )
  })

  test('wrong input, a wrong type and an unknown route are refused with problem+json', async () => {
    const file = new File([await png(8, 8)], 'x.png', { type: 'image/png' })
    await assert.rejects(uploader().uploadFiles('avatar', { files: [file], input: { albumId: '' }, headers: asUser }), (error: CarcosaError) => {
      assert.equal(error.status, 400)
      assert.ok(error.fieldErrors?.albumId)
      return true
    })
    const text = new File(['hello'], 'x.txt', { type: 'text/plain' })
    await assert.rejects(
      uploader().uploadFiles('avatar', { files: [text], input: { albumId: 'a' }, headers: asUser }),
      (error: CarcosaError) => error.status === 415,
    )
    const raw = await fetch(`${appUrl}/api/uploads?slug=nope&actionType=upload`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    })
    assert.equal(raw.status, 404)
    assert.match(raw.headers.get('content-type') ?? '', /application\/problem\+json/)
  })

  test('completion reported twice at once runs onUploadComplete once; both get the same serverData', async () => {
    const bytes = await png(32, 32)
    const start = await fetch(`${appUrl}/api/uploads?slug=avatar&actionType=upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...asUser },
      body: JSON.stringify({ files: [{ name: 'twice.png', size: bytes.length, type: 'image/png' }], input: { albumId: 'dup' } }),
    })
    assert.equal(start.status, 200)
    const [upload] = (
      (await start.json()) as { uploads: Array<{ uploadId: string; token: string; url: string; headers: Record<string, string> }> }
    ).uploads
    assert.ok(upload)
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes })
    assert.equal(put.status, 200)
    const complete = () =>
      fetch(`${appUrl}/api/uploads?slug=avatar&actionType=complete`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ uploadId: upload.uploadId, token: upload.token }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { serverData: unknown } }))
    const [first, second] = await Promise.all([complete(), complete()])
    assert.deepEqual([first.status, second.status], [200, 200])
    assert.deepEqual(first.body.serverData, { uploadedBy: 'ada', album: 'dup' })
    assert.deepEqual(second.body.serverData, first.body.serverData)
    const third = await complete()
    assert.deepEqual(third.body.serverData, first.body.serverData)
    assert.equal(runsOf(upload.uploadId), 1)

    // A forged token reaches nothing.
    const forged = await fetch(`${appUrl}/api/uploads?slug=avatar&actionType=complete`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ uploadId: upload.uploadId, token: 'forged' }),
    })
    assert.equal(forged.status, 404)
  })

  test('a multipart upload interrupted by its signal resumes from saved state without resending landed parts', async () => {
    const bytes = randomBytes(25 * MIB)
    const file = new File([bytes], 'resume.bin', { type: 'application/octet-stream' })
    const store = memoryResumeStore()
    const client = genUploader<AppRouter>({ url: `${appUrl}/api/uploads`, resumeStore: store, concurrency: 1 })
    const controller = new AbortController()
    await assert.rejects(
      client.uploadFiles('archive', {
        files: [file],
        signal: controller.signal,
        // Abort once the first 8 MiB part has landed.
        onUploadProgress: (event) => {
          if (event.loaded >= 8 * MIB + 1) controller.abort()
        },
      }),
      (error: CarcosaError) => error.code === 'ABORTED',
    )
    const saved = await store.get(`carcosa-upload:${appUrl}/api/uploads:archive:resume.bin:${bytes.length}:${file.lastModified}`)
    assert.ok(saved && saved.parts.length >= 1, 'the landed part is saved')
    const firstEvents: UploadProgressEvent[] = []
    const [result] = await client.uploadFiles('archive', { files: [file], onUploadProgress: (event) => firstEvents.push(event) })
    assert.ok(result)
    assert.ok(firstEvents[0]!.loaded >= 8 * MIB, 'resumed with the saved parts counted')
    const upload = await prisma.upload.findFirstOrThrow({ where: { fileId: result.key } })
    assert.equal(upload.id, saved.upload.uploadId, 'the same upload continued')
    const download = await fetch(result.url)
    assert.equal(sha(new Uint8Array(await download.arrayBuffer())), sha(bytes))
  })

  test("a route's tenant function places the file in that tenant", async () => {
    const tenant = await api.tenants.create({ slug: `acme-${randomBytes(3).toString('hex')}`, name: 'Acme' })
    const [result] = await uploader().uploadFiles('tenantDocs', {
      files: [new File(['tenant file'], 'note.txt', { type: 'text/plain' })],
      headers: { 'x-tenant-id': tenant.slug },
    })
    assert.deepEqual([result!.tenantId, result!.serverData], [tenant.id, { tenantId: tenant.id }])
    assert.ok(result!.path.startsWith(`${tenant.slug}/`))
  })
})

/** Starts an avatar upload through the handler and PUTs its bytes, then goes away without reporting completion. */
async function putAndVanish(name: string, bytes: Buffer, type: string, albumId: string, declaredSize = bytes.length) {
  const start = await fetch(`${appUrl}/api/uploads?slug=avatar&actionType=upload`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...asUser },
    body: JSON.stringify({ files: [{ name, size: declaredSize, type }], input: { albumId } }),
  })
  assert.equal(start.status, 200)
  const [upload] = (
    (await start.json()) as { uploads: Array<{ uploadId: string; token: string; url: string; headers: Record<string, string> }> }
  ).uploads
  assert.ok(upload)
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: new Uint8Array(bytes) })
  assert.equal(put.status, 200)
  return upload
}

describe('reconciliation of uploads whose client went away', () => {
  test('bytes landed, completion never reported: Carcosa verifies them and its webhook runs onUploadComplete once', async () => {
    const upload = await putAndVanish('lost.png', await png(24, 24), 'image/png', 'lost')
    await waitFor('onUploadComplete from the webhook', () => runsOf(upload.uploadId) === 1)
    const row = await waitFor('the callback settled', async () => {
      const found = await prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } })
      return found.callbackDoneAt ? found : null
    })
    assert.equal(row.status, 'COMPLETED')
    assert.ok(row.fileId)
    assert.deepEqual(completions.find((c) => c.uploadId === upload.uploadId)?.metadata, { userId: 'ada', albumId: 'lost', fileCount: 1 })

    // The client comes back late: it gets the stored serverData, and the callback does not run again.
    const late = await fetch(`${appUrl}/api/uploads?slug=avatar&actionType=complete`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ uploadId: upload.uploadId, token: upload.token }),
    })
    assert.equal(late.status, 200)
    assert.deepEqual(((await late.json()) as { serverData: unknown }).serverData, { uploadedBy: 'ada', album: 'lost' })
    assert.equal(runsOf(upload.uploadId), 1)
  })

  test('bytes that are not what was declared are refused by reconciliation and never reach onUploadComplete', async () => {
    const upload = await putAndVanish('fake.png', Buffer.from('this is not a png at all'), 'image/png', 'fake')
    const row = await waitFor('the upload refused', async () => {
      const found = await prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } })
      return found.status === 'FAILED' ? found : null
    })
    assert.match(row.failureReason ?? '', /png|type|content/i)
    assert.equal(row.fileId, null)
    assert.equal(row.callbackDoneAt, null)
    assert.equal(runsOf(upload.uploadId), 0)
  })

  test('bytes larger than declared are refused by reconciliation and never reach onUploadComplete', async () => {
    const bytes = await png(40, 40)
    const upload = await putAndVanish('big.png', bytes, 'image/png', 'big', bytes.length - 10)
    const row = await waitFor('the upload refused', async () => {
      const found = await prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } })
      return found.status === 'FAILED' ? found : null
    })
    assert.match(row.failureReason ?? '', /size|bytes/i)
    assert.equal(row.fileId, null)
    assert.equal(row.callbackDoneAt, null)
    assert.equal(runsOf(upload.uploadId), 0)
  })

  test('an upload whose bytes never landed is left to expiry', async () => {
    const start = await fetch(`${appUrl}/api/uploads?slug=avatar&actionType=upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...asUser },
      body: JSON.stringify({ files: [{ name: 'never.png', size: 100, type: 'image/png' }], input: { albumId: 'never' } }),
    })
    const [upload] = ((await start.json()) as { uploads: Array<{ uploadId: string }> }).uploads
    assert.ok(upload)
    // The reconcile job (due after a second) ran and finished without touching the upload.
    await waitFor('the reconcile job done', async () => {
      const [job] = await prisma.$queryRaw<
        Array<{ state: string }>
      >`SELECT state::text FROM pgboss.job WHERE name = 'upload-reconcile' AND data->>'uploadId' = ${upload.uploadId}`
      return job?.state === 'completed'
    })
    const row = await prisma.upload.findUniqueOrThrow({ where: { id: upload.uploadId } })
    assert.equal(row.status, 'PENDING')
    assert.equal(runsOf(upload.uploadId), 0)
  })
})

describe('CarcosaApi', () => {
  test('uploadFiles from a Blob, a stream of known size and a stream of unknown size', async () => {
    const blobBytes = randomBytes(1000)
    const streamBytes = randomBytes(300 * 1024)
    const progress: number[] = []
    const results = await api.uploadFiles(
      [
        new File([blobBytes], 'blob.bin', { type: 'application/octet-stream' }),
        {
          name: 'known.bin',
          stream: Readable.from([streamBytes.subarray(0, 100_000), streamBytes.subarray(100_000)]),
          size: streamBytes.length,
        },
        { name: 'unknown.txt', stream: Readable.from(['line one\n', 'line two\n']), type: 'text/plain' },
      ],
      { onProgress: ({ loaded }) => progress.push(loaded) },
    )
    for (const result of results) assert.equal(result.error, null)
    const [blob, known, unknown] = results.map((r) => r.data!)
    assert.deepEqual([blob!.size, known!.size, unknown!.size, unknown!.contentType], [1000, streamBytes.length, 18, 'text/plain'])
    assert.ok(progress.includes(streamBytes.length))
    const { url } = await api.getDownloadUrl(known!.id)
    assert.equal(sha(new Uint8Array(await (await fetch(url)).arrayBuffer())), sha(streamBytes))
  })

  test('uploadFileFromUrl: Carcosa fetches the file; listFiles pages and iterates; deleteFiles', async () => {
    const source = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/csv' })
      res.end('a,b\n1,2\n')
    })
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve))
    try {
      const fetched = await api.uploadFileFromUrl(`http://127.0.0.1:${(source.address() as { port: number }).port}/exports/data.csv`, {
        metadata: { origin: 'test' },
      })
      assert.deepEqual([fetched.name, fetched.size, fetched.contentType], ['data.csv', 8, 'text/csv'])
    } finally {
      source.closeAllConnections()
      source.close()
    }
    await assert.rejects(
      api.uploadFileFromUrl('ftp://example.com/file'),
      (error: CarcosaError) => error.status === 400 && /http or https/.test(error.message),
    )
    await assert.rejects(
      api.uploadFileFromUrl('http://169.254.169.254/latest/meta-data'),
      (error: CarcosaError) => error.status === 400 && /metadata/.test(error.message),
    )

    const firstPage = await api.listFiles({ limit: 2 })
    assert.equal(firstPage.items.length, 2)
    assert.ok(firstPage.nextCursor)
    const all: string[] = []
    for await (const file of api.iterateFiles({ limit: 2 })) all.push(file.id)
    assert.equal(new Set(all).size, all.length)
    assert.equal(all.length, await prisma.file.count({ where: { projectId } }))

    const [victim] = firstPage.items
    const deleted = await api.deleteFiles([victim!.id, 'no-such-file'])
    assert.deepEqual(deleted, { deleted: [victim!.id], notFound: ['no-such-file'] })
    await assert.rejects(api.getFile(victim!.id), (error: CarcosaError) => error.status === 404 && error.problem?.status === 404)
  })

  test('signImageUrl, presets and the seed-compatible CarcosaClient', async () => {
    const [result] = await uploader().uploadFiles('avatar', {
      files: [new File([await png(40, 30)], 'pic.png', { type: 'image/png' })],
      input: { albumId: 'x' },
      headers: asUser,
    })
    const url = await api.signImageUrl(result!.path, { w: 20, format: 'webp' }, { expiresIn: 120 })
    const image = await fetch(url)
    assert.equal(image.status, 200)
    assert.equal(image.headers.get('content-type'), 'image/webp')
    const preset = await api.presets.create({ name: `thumb-${randomBytes(3).toString('hex')}`, params: { w: 10 } })
    assert.equal((await api.presets.get(preset.id)).name, preset.name)

    const client = new CarcosaClient({ apiKey, baseUrl: carcosaUrl })
    const bytes = Buffer.from('seed client bytes')
    const started = await client.initUpload({ fileName: 'seed.txt', fileSize: bytes.length, contentType: 'text/plain' })
    assert.equal(started.method, 'PUT')
    const put = await fetch(started.uploadUrl!, { method: 'PUT', headers: started.method === 'PUT' ? started.headers : {}, body: bytes })
    assert.equal(put.status, 200)
    const { file } = await client.completeUpload({ uploadId: started.uploadId })
    assert.equal(file.size, bytes.length)
    const tenant = await client.createTenant({ identifier: `seed-${randomBytes(3).toString('hex')}`, name: 'Seed tenant' })
    const uploaded = await client.uploadFile(new File(['in a tenant'], 'tenant.txt', { type: 'text/plain' }), { tenantId: tenant.id })
    assert.equal(uploaded.tenantId, tenant.id)
    await client.deleteFile(uploaded.id)
    assert.ok((await client.listFiles({ limit: 100 })).items.every((item) => item.id !== uploaded.id))
  })
})
