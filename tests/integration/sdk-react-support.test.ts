/**
 * What @carcosa/react needs from the SDK's route handler, against a real Carcosa (child process,
 * s3rver bucket) and an Express app here: a realtime token offered with each upload call (and the
 * phases it shows), image URLs signed for browsers only as `images.authorize` allows, reused for
 * half their life, and shared with server rendering (signImages).
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import type http from 'node:http'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import sharp from 'sharp'
import { WebSocket } from 'ws'
import { CarcosaApi } from '@carcosa/sdk'
import { genUploader, type UploadPhase } from '@carcosa/sdk/client'
import { createCarcosa, createRouteHandler, type FileRouter } from '@carcosa/sdk/express'
import { planImage, variantKey } from '@carcosa/react'
import { signImages } from '@carcosa/react/server'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { startCarcosa } from '../support/carcosa-server'
import { attachS3Bucket } from '../support/storage-factories'

const f = createCarcosa()
const router = {
  photos: f({ image: { maxFileSize: '1MB', maxFileCount: 2 } }).onUploadComplete(({ file }) => ({ path: file.path })),
} satisfies FileRouter
type AppRouter = typeof router

let appUrl: string
let api: CarcosaApi
let appServer: http.Server
let photoPath: string
const SIGNED = /\/api\/v1\/transform\/[^/]+\/.+\?.*exp=\d+.*&sig=[\w-]{43}$/

before(async () => {
  const workspace = await createWorkspace()
  await attachS3Bucket(workspace.project.id)
  const apiKey = (await createTestApiKey(workspace.owner.actor, workspace.project.id, ['files:read', 'files:write', 'transforms:execute'])).key
  const carcosaUrl = await startCarcosa()
  api = new CarcosaApi({ apiKey, baseUrl: carcosaUrl })
  const app = express()
  // Images are shown to requests carrying x-viewer: ok, and only paths under photos the app knows.
  app.use(
    '/api/uploads',
    createRouteHandler({
      router,
      config: {
        api,
        images: { authorize: ({ req, paths }) => (req as express.Request).headers['x-viewer'] === 'ok' && paths.every((p) => p === photoPath) },
      },
    }),
  )
  app.use('/api/plain', createRouteHandler({ router, config: { api, realtime: false } }))
  appServer = await new Promise<http.Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
  appUrl = `http://127.0.0.1:${(appServer.address() as { port: number }).port}`
})

after(() => {
  appServer.closeAllConnections()
  appServer.close()
})

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .png()
    .toBuffer()

async function startUpload(base: string) {
  const bytes = await png(8, 8)
  const response = await fetch(`${base}?slug=photos&actionType=upload`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ files: [{ name: 'p.png', size: bytes.length, type: 'image/png' }] }),
  })
  assert.equal(response.status, 200)
  return (await response.json()) as { uploads: Array<{ uploadId: string }>; realtime?: { url: string; token: string; expiresAt: string } }
}

describe('realtime phases', () => {
  test('the handler offers a token for the uploads of each call (unless turned off)', async () => {
    const offered = await startUpload(`${appUrl}/api/uploads`)
    assert.ok(offered.realtime)
    assert.match(offered.realtime.url, /^ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/realtime$/)
    assert.match(offered.realtime.token, /^crt_/)
    assert.equal((await startUpload(`${appUrl}/api/plain`)).realtime, undefined)
  })

  test('an uploader with a WebSocket sees the server phases of its files', async () => {
    // Node 20 has no global WebSocket; browsers do. The SDK takes whichever the runtime offers.
    const global = globalThis as { WebSocket?: unknown }
    const before = global.WebSocket
    global.WebSocket = WebSocket
    try {
      const phases: Array<{ name: string; phase: UploadPhase }> = []
      const begun: string[] = []
      const [file] = await genUploader<AppRouter>({ url: `${appUrl}/api/uploads`, resumeStore: null }).uploadFiles('photos', {
        files: [new File([await png(16, 16)], 'live.png', { type: 'image/png' })],
        onUploadBegin: ({ uploadId }) => begun.push(uploadId),
        onUploadPhase: ({ name, phase }) => phases.push({ name, phase }),
      })
      assert.ok(file)
      assert.equal(begun.length, 1)
      assert.deepEqual(phases[0], { name: 'live.png', phase: 'verifying' })
      photoPath = file.path
    } finally {
      global.WebSocket = before
    }
  })
})

describe('image signing for browsers', () => {
  const sign = (base: string, images: unknown, viewer = 'ok') =>
    fetch(`${base}?actionType=sign-images`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-viewer': viewer },
      body: JSON.stringify({ images }),
    })

  test('signed only as authorize allows: off without images, 403 for another viewer or path, 400 for what it does not sign', async () => {
    assert.ok(photoPath, 'the upload above stored a photo')
    const off = await sign(`${appUrl}/api/plain`, [{ path: photoPath, params: { w: 10 } }])
    assert.equal(off.status, 404)
    assert.equal((await sign(`${appUrl}/api/uploads`, [{ path: photoPath, params: { w: 10 } }], 'no')).status, 403)
    assert.equal((await sign(`${appUrl}/api/uploads`, [{ path: 'someone/else.png', params: { w: 10 } }])).status, 403)
    const unknown = await sign(`${appUrl}/api/uploads`, [{ path: photoPath, params: { w: 10, rotate: 90 } }])
    assert.equal(unknown.status, 400)
    assert.match(((await unknown.json()) as { detail: string }).detail, /params\.rotate is not a transform parameter this route signs/)
    const tooMany = await sign(
      `${appUrl}/api/uploads`,
      Array.from({ length: 65 }, () => ({ path: photoPath, params: {} })),
    )
    assert.equal(tooMany.status, 400)
    const badValue = await sign(`${appUrl}/api/uploads`, [{ path: photoPath, params: { w: 0 } }])
    assert.equal(badValue.status, 400, 'Carcosa refuses the value, and the handler passes its 400 on')
  })

  test('URLs come signed, load, and the same ones come back while they are young; server rendering shares them', async () => {
    const images = [
      { path: photoPath, params: { w: 12, h: 12, fit: 'cover' } },
      { path: photoPath, params: { w: 24, h: 24, fit: 'cover' } },
    ]
    const first = await sign(`${appUrl}/api/uploads`, images)
    assert.equal(first.status, 200)
    const { urls } = (await first.json()) as { urls: string[] }
    assert.equal(urls.length, 2)
    for (const url of urls) assert.match(url, SIGNED)
    const image = await fetch(urls[1]!)
    assert.equal(image.status, 200)
    assert.equal((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width, 24)
    const again = (await (await sign(`${appUrl}/api/uploads`, images)).json()) as { urls: string[] }
    assert.deepEqual(again.urls, urls)

    // signImages with the same CarcosaApi names the same URLs for the same variants, and inlines the blur placeholder.
    const descriptor = { src: photoPath, width: 12, height: 12, fit: 'cover' as const, placeholder: 'blur' as const }
    const signed = await signImages([descriptor], { api })
    const plan = planImage(descriptor)
    assert.equal(signed[variantKey(plan.variants[0]!)], urls[0])
    assert.match(signed[variantKey(plan.variants[1]!)]!, SIGNED)
    assert.match(signed[variantKey(plan.blur!)]!, /^data:image\/webp;base64,/)
  })

  test('GET ?actionType=image redirects to a signed URL (for next/image loaders), under the same authorization', async () => {
    const query = new URLSearchParams({ actionType: 'image', path: photoPath, w: '12', h: '12', fit: 'cover' })
    const redirect = await fetch(`${appUrl}/api/uploads?${query}`, { headers: { 'x-viewer': 'ok' }, redirect: 'manual' })
    assert.equal(redirect.status, 302)
    assert.match(redirect.headers.get('location')!, SIGNED)
    assert.match(redirect.headers.get('cache-control')!, /^private, max-age=\d+$/)
    const refused = await fetch(`${appUrl}/api/uploads?${query}`, { headers: { 'x-viewer': 'no' }, redirect: 'manual' })
    assert.equal(refused.status, 403)
  })
})
