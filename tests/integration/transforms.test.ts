/**
 * Image transforms end to end: the endpoint through the real app (in process), real PostgreSQL and
 * s3rver. Outputs are read back with sharp; signatures are minted by the service and tampered
 * with; caching is observed through the variant objects in the bucket and the render counter.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import { describe, test } from 'node:test'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import sharp from 'sharp'
import { deleteFile } from '~/services/files/files.server'
import { updateProjectSettings } from '~/services/settings/settings.server'
import { projectSettingsSchema } from '~/services/settings/schemas'
import { cacheStats, clearMemoryCache, VARIANT_PREFIX } from '~/services/transforms/cache.server'
import { createTransformLimiter, TransformsBusy } from '~/services/transforms/limiter.server'
import { renderVariant, SourceRefused } from '~/services/transforms/pipeline.server'
import { createPreset } from '~/services/transforms/presets.server'
import { getTransformSettings, updateTransformSettings } from '~/services/transforms/settings.server'
import { signTransformUrl } from '~/services/transforms/sign-url.server'
import { activeSecrets, signedQuery, transformUrl } from '~/services/transforms/signing.server'
import { prisma } from '~/utils/db.server'
import { api, assertProblem, type ApiResponse } from '../support/api-client'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { attachLocalBucket, attachS3Bucket } from '../support/storage-factories'
import { rawS3Client } from '../support/s3'

const BASE = 'http://carcosa.test'

/** 400×300: the top-left quadrant red, the rest blue, so crops, flips and flops can be told apart. */
async function quadrantJpeg(format: 'jpeg' | 'png' = 'jpeg') {
  const red = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer()
  const image = sharp({ create: { width: 400, height: 300, channels: 3, background: '#0000ff' } }).composite([{ input: red, left: 0, top: 0 }])
  return format === 'jpeg' ? image.jpeg({ quality: 95 }).toBuffer() : image.png().toBuffer()
}

/** A project with a key allowed to execute transforms and one JPEG at `photos/cat.jpg`. */
async function setup(options: { path?: string; local?: boolean } = {}) {
  const workspace = await createWorkspace()
  const local = options.local ? await attachLocalBucket(workspace.project.id) : null
  if (!local) await attachS3Bucket(workspace.project.id)
  const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['transforms:execute'])
  const path = options.path ?? 'photos/cat.jpg'
  const file = await putTestFile(workspace.project.id, { name: 'cat.jpg', path, contentType: 'image/jpeg', body: await quadrantJpeg() })
  return { ...workspace, key, file, path, localDirectory: local?.directory }
}

const endpoint = (projectId: string, path: string, query = '') => transformUrl(BASE, projectId, path, query)

async function image(response: ApiResponse) {
  assert.equal(response.status, 200, `expected an image, got ${response.status}: ${response.text.slice(0, 300)}`)
  return { metadata: await sharp(response.bytes).metadata(), bytes: response.bytes }
}

async function pixel(bytes: Buffer, x: number, y: number) {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const offset = (y * info.width + x) * info.channels
  return [data[offset]!, data[offset + 1]!, data[offset + 2]!]
}

const isRed = ([r, g, b]: number[]) => r! > 180 && g! < 80 && b! < 80
const isBlue = ([r, g, b]: number[]) => b! > 180 && r! < 80 && g! < 80

async function variantKeys(bucketName: string, fileId: string) {
  const listed = await rawS3Client().send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: `${VARIANT_PREFIX}${fileId}/` }))
  return (listed.Contents ?? []).map((object) => object.Key!)
}

const bucketNameOf = async (bucketId: string) => (await prisma.bucket.findUniqueOrThrow({ where: { id: bucketId } })).bucketName

describe('output of each parameter (read back with sharp)', () => {
  test('sizes, fits, dpr, rotation and formats give the dimensions, format and content type asked for', async () => {
    const { project, key, path } = await setup()
    const cases: [string, { width: number; height: number; format: string; type: string }][] = [
      ['w=200', { width: 200, height: 150, format: 'jpeg', type: 'image/jpeg' }],
      ['h=60', { width: 80, height: 60, format: 'jpeg', type: 'image/jpeg' }],
      ['w=100&h=100&fit=cover&format=png', { width: 100, height: 100, format: 'png', type: 'image/png' }],
      ['w=100&h=100&fit=contain&format=webp', { width: 100, height: 100, format: 'webp', type: 'image/webp' }],
      ['w=100&h=100&fit=fill&format=jpeg', { width: 100, height: 100, format: 'jpeg', type: 'image/jpeg' }],
      ['w=100&h=100&fit=inside&format=png', { width: 100, height: 75, format: 'png', type: 'image/png' }],
      ['w=100&h=100&fit=outside&format=png', { width: 133, height: 100, format: 'png', type: 'image/png' }],
      ['w=100&dpr=2&format=png', { width: 200, height: 150, format: 'png', type: 'image/png' }],
      ['w=100&dpr=1.5&format=png', { width: 150, height: 113, format: 'png', type: 'image/png' }],
      ['rotate=90&format=png', { width: 300, height: 400, format: 'png', type: 'image/png' }],
      ['w=120&format=avif', { width: 120, height: 90, format: 'heif', type: 'image/avif' }],
      ['w=64&h=64&position=attention&format=webp', { width: 64, height: 64, format: 'webp', type: 'image/webp' }],
      ['w=64&h=64&gravity=entropy&format=webp', { width: 64, height: 64, format: 'webp', type: 'image/webp' }],
      ['w=100&blur=3&format=png', { width: 100, height: 75, format: 'png', type: 'image/png' }],
      ['w=100&sharpen=2&format=png', { width: 100, height: 75, format: 'png', type: 'image/png' }],
    ]
    for (const [query, expected] of cases) {
      const response = await api('GET', endpoint(project.id, path, query), { token: key })
      const { metadata } = await image(response)
      assert.deepEqual([metadata.width, metadata.height, metadata.format], [expected.width, expected.height, expected.format], query)
      assert.equal(response.headers.get('Content-Type'), expected.type, query)
      assert.equal(response.headers.get('X-Content-Type-Options'), 'nosniff')
    }
  })

  test('position picks the crop; flip and flop mirror; background fills contain; quality changes the size', async () => {
    const { project, key, path } = await setup()
    const get = async (query: string) => (await image(await api('GET', endpoint(project.id, path, query), { token: key }))).bytes
    // The red quadrant is top left: a square crop from the left keeps red at its corner, from the right does not.
    // (Scaled to 133×100 first; red covers x < 66 of that.)
    assert.ok(isRed(await pixel(await get('w=100&h=100&position=left&format=png'), 50, 5)))
    assert.ok(isBlue(await pixel(await get('w=100&h=100&position=right&format=png'), 50, 5)))
    assert.ok(isRed(await pixel(await get('w=100&h=50&position=top&format=png'), 5, 5)))
    assert.ok(isBlue(await pixel(await get('w=100&h=50&position=bottom&format=png'), 5, 45)))
    // flip mirrors top to bottom, flop left to right.
    assert.ok(isRed(await pixel(await get('w=200&flip=true&format=png'), 10, 140)))
    assert.ok(isBlue(await pixel(await get('w=200&flip=true&format=png'), 10, 10)))
    assert.ok(isRed(await pixel(await get('w=200&flop=1&format=png'), 190, 10)))
    // contain letterboxes a 4:3 image in a square: the band is the background colour.
    const contained = await get('w=100&h=100&fit=contain&background=00ff00&format=png')
    const [r, g, b] = await pixel(contained, 50, 2)
    assert.ok(g! > 200 && r! < 50 && b! < 50, `green band, got ${[r, g, b]}`)
    const low = await get('w=300&quality=10&format=jpeg')
    const high = await get('w=300&quality=95&format=jpeg')
    assert.ok(low.length < high.length, `quality 10 (${low.length} B) is smaller than 95 (${high.length} B)`)
  })

  test('unknown, repeated, malformed and out-of-range parameters get a 400 naming each', async () => {
    const { project, key, path } = await setup()
    const response = await api('GET', endpoint(project.id, path, 'w=0&fit=squash&colour=red&quality=101&h=5000&format=gif&dpr=1.50'), {
      token: key,
    })
    assertProblem(response, 400)
    assert.deepEqual(Object.keys(response.json.errors).sort(), ['colour', 'dpr', 'fit', 'format', 'h', 'quality', 'w'])
    assert.match(response.json.errors.fit[0], /cover, contain, fill, inside, outside/)
    assert.match(response.json.errors.colour[0], /not a transform parameter/)
    const repeated = await api('GET', endpoint(project.id, path, 'w=10&width=20'), { token: key })
    assertProblem(repeated, 400)
    assert.match(repeated.json.errors.width[0], /more than once/)
    const tooWide = await api('GET', endpoint(project.id, path, 'w=3000&dpr=2'), { token: key })
    assertProblem(tooWide, 400)
    assert.match(tooWide.json.errors.w[0], /at most 4096/)
  })
})

describe('format negotiation', () => {
  test('auto and no format follow Accept (AVIF, then WebP, then the source format) and answer Vary: Accept', async () => {
    const { project, key, path } = await setup()
    const cases: [string, string, string][] = [
      ['format=auto&w=50', 'image/avif,image/webp,*/*', 'image/avif'],
      ['w=50', 'image/webp,*/*;q=0.8', 'image/webp'],
      ['w=50', 'image/avif;q=0,image/webp', 'image/webp'],
      ['w=50', '*/*', 'image/jpeg'],
      ['format=auto&w=50', '', 'image/jpeg'],
    ]
    for (const [query, accept, type] of cases) {
      const response = await api('GET', endpoint(project.id, path, query), { token: key, headers: accept ? { Accept: accept } : {} })
      const { metadata } = await image(response)
      assert.equal(response.headers.get('Content-Type'), type, `${query} with Accept ${accept}`)
      assert.equal({ 'image/avif': 'heif', 'image/webp': 'webp', 'image/jpeg': 'jpeg' }[type], metadata.format)
      assert.equal(response.headers.get('Vary'), 'Accept')
    }
    const fixed = await api('GET', endpoint(project.id, path, 'w=50&format=png'), { token: key, headers: { Accept: 'image/avif' } })
    assert.equal(fixed.headers.get('Content-Type'), 'image/png')
    assert.equal(fixed.headers.get('Vary'), null, 'an explicit format does not depend on Accept')
  })

  test('a PNG source without AVIF or WebP in Accept stays PNG', async () => {
    const workspace = await createWorkspace()
    const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['transforms:execute'])
    await attachS3Bucket(workspace.project.id)
    await putTestFile(workspace.project.id, { path: 'logo.png', contentType: 'image/png', body: await quadrantJpeg('png') })
    const response = await api('GET', endpoint(workspace.project.id, 'logo.png', 'w=40'), { token: key, headers: { Accept: 'image/jpeg,*/*' } })
    assert.equal((await image(response)).metadata.format, 'png')
    assert.equal(response.headers.get('Content-Type'), 'image/png')
  })
})

describe('signed URLs', () => {
  async function signedSetup() {
    const context = await setup()
    const signed = await signTransformUrl(
      context.owner.actor,
      context.project.id,
      { path: context.path, params: { w: 80, format: 'webp' }, expiresIn: 600 },
      BASE,
    )
    return { ...context, url: signed.url, expiresAt: signed.expiresAt }
  }

  test('a valid signature is served with long, immutable caching bounded by the expiry', async () => {
    const { url } = await signedSetup()
    const response = await api('GET', url)
    assert.equal((await image(response)).metadata.width, 80)
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('Cache-Control') ?? '')?.[1])
    assert.match(response.headers.get('Cache-Control') ?? '', /^public, max-age=\d+, immutable$/)
    assert.ok(maxAge > 500 && maxAge <= 600, `max-age ${maxAge} within the 600 s signature`)
  })

  test('every tampered part is refused: parameter, path, project, expiry, signature; and without one, 401', async () => {
    const { url, project, path } = await signedSetup()
    const other = await createWorkspace()
    const tampered = [
      url.replace('w=80', 'w=81'),
      url.replace('format=webp', 'format=png'),
      url.replace('&w=80', '&w=80&h=10').replace(/&sig=/, '&sig='),
      url.replace('photos/cat.jpg', 'photos/cat2.jpg'),
      url.replace(/exp=(\d+)/, (_m, exp: string) => `exp=${Number(exp) + 1}`),
      url.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`),
      url.replace(project.id, other.project.id),
    ]
    for (const candidate of tampered) {
      assert.notEqual(candidate, url)
      const response = await api('GET', candidate)
      assertProblem(response, 403)
    }
    const unsigned = await api('GET', endpoint(project.id, path, 'w=80&format=webp'))
    assertProblem(unsigned, 401)
  })

  test('the signature must come once and last: moved elsewhere or duplicated, it is refused', async () => {
    const { url, project, path } = await signedSetup()
    const query = new URL(url).search.slice(1)
    const sig = /sig=([^&]+)/.exec(query)![1]!
    const withoutSig = query.replace(/&sig=[^&]+/, '')
    const moved = [
      endpoint(project.id, path, `sig=${sig}&${withoutSig}`),
      endpoint(project.id, path, `${withoutSig}&sig=${sig}&sig=${sig}`),
      endpoint(project.id, `sig=${sig}/${path}`, withoutSig),
      endpoint(project.id, path, `${withoutSig}&x-sig=${sig}`),
    ]
    const statuses = []
    for (const candidate of moved) statuses.push((await api('GET', candidate)).status)
    assert.deepEqual(statuses, [400, 400, 400, 400])
    const inPath = await api('GET', `${BASE}/api/v1/transform/${project.id}/sig=${sig}/${path}?${withoutSig.replace(/&?exp=\d+/, '')}`)
    assertProblem(inPath, 401)
  })

  test('an expired signature is refused', async () => {
    const { project, path, owner } = await signedSetup()
    void owner
    const [secret] = await activeSecrets(project.id)
    const expired = transformUrl(
      BASE,
      project.id,
      path,
      signedQuery(secret!.secret, project.id, path, { w: 80 }, Math.floor(Date.now() / 1000) - 5),
    )
    const response = await api('GET', expired)
    assertProblem(response, 403)
    assert.match(response.json.detail, /expired/)
  })

  test('rotation: the previous secret keeps working, the one before it is revoked', async () => {
    const { url, project, owner } = await signedSetup()
    const token = (await createTestApiKey(owner.actor, project.id, ['admin'])).key
    const rotate = () => api('POST', `/api/v1/projects/${project.id}/transform-secrets/rotate`, { token })
    assert.equal((await rotate()).status, 200)
    assert.equal((await api('GET', url)).status, 200, 'signed with the previous secret: still valid')
    const fresh = await signTransformUrl(owner.actor, project.id, { path: 'photos/cat.jpg', params: { w: 81 }, expiresIn: 600 }, BASE)
    assert.equal((await api('GET', fresh.url)).status, 200, 'signed with the new secret')
    assert.equal((await rotate()).status, 200)
    assertProblem(await api('GET', url), 403)
    assert.equal((await api('GET', fresh.url)).status, 200)
    assert.equal(await prisma.transformSigningSecret.count({ where: { projectId: project.id, revokedAt: null } }), 2)
  })
})

describe('signing many URLs at once (POST /api/v1/transforms/sign/batch)', () => {
  test('answers each URL in the order asked; each works; a bad item names itself and nothing is signed', async () => {
    const { key, project, path, owner } = await setup()
    const widths = [40, 80, 120]
    const signed = await api('POST', '/api/v1/transforms/sign/batch', {
      token: key,
      body: { items: widths.map((w) => ({ path, params: { w, format: 'webp' }, expiresIn: 600 })) },
    })
    assert.equal(signed.status, 200, signed.text)
    assert.equal(signed.json.items.length, 3)
    for (const [index, w] of widths.entries()) {
      assert.equal((await image(await api('GET', signed.json.items[index].url))).metadata.width, w)
    }
    await createPreset(owner.actor, project.id, { name: 'thumb', params: { w: 30 } })
    const badPreset = await api('POST', '/api/v1/transforms/sign/batch', {
      token: key,
      body: {
        items: [
          { path, params: { preset: 'thumb' } },
          { path, params: { preset: 'nope' } },
        ],
      },
    })
    assertProblem(badPreset, 400)
    assert.deepEqual(Object.keys(badPreset.json.errors), ['items.1.params.preset'])
    const tooMany = await api('POST', '/api/v1/transforms/sign/batch', {
      token: key,
      body: { items: Array.from({ length: 101 }, () => ({ path })) },
    })
    assertProblem(tooMany, 400)
    assert.deepEqual(Object.keys(tooMany.json.errors), ['items'])
    const badPath = await api('POST', '/api/v1/transforms/sign/batch', { token: key, body: { items: [{ path }, { path: '../x.jpg' }] } })
    assertProblem(badPath, 400)
    assert.deepEqual(Object.keys(badPath.json.errors), ['items.1.path'])
  })

  test("needs transforms:execute, and a key signs only its own project's URLs", async () => {
    const { project, path, owner } = await setup()
    const other = await setup()
    const readOnly = (await createTestApiKey(owner.actor, project.id, ['transforms:read'])).key
    assertProblem(await api('POST', '/api/v1/transforms/sign/batch', { token: readOnly, body: { items: [{ path }] } }), 403)
    assertProblem(
      await api('POST', '/api/v1/transforms/sign/batch', { token: other.key, body: { projectId: project.id, items: [{ path }] } }),
      404,
    )
  })
})

describe('access', () => {
  test('a key of another project gets 404, a key without transforms:execute 403, a user token of the team 200', async () => {
    const { project, path, owner } = await setup()
    const other = await createWorkspace()
    const foreign = await createTestApiKey(other.owner.actor, other.project.id, ['admin'])
    assertProblem(await api('GET', endpoint(project.id, path, 'w=10'), { token: foreign.key }), 404)
    const reader = await createTestApiKey(owner.actor, project.id, ['files:read', 'transforms:read'])
    const refused = await api('GET', endpoint(project.id, path, 'w=10'), { token: reader.key })
    assertProblem(refused, 403)
    assert.match(refused.json.detail, /transforms:execute/)
    assertProblem(await api('GET', endpoint(project.id, path, 'w=10'), { token: 'ck_nonsense' }), 401)
    const login = await api('POST', '/api/v1/auth/login', { body: { email: owner.user.email, password: owner.password } })
    const byUser = await api('GET', endpoint(project.id, path, 'w=10'), { token: login.json.accessToken })
    assert.equal((await image(byUser)).metadata.width, 10)
    assert.match(byUser.headers.get('Cache-Control') ?? '', /^private/)
  })

  test('public mode: unsigned URLs of public files only; the setting is kept when other settings are saved', async () => {
    const { project, path, owner } = await setup()
    await prisma.file.updateMany({ where: { projectId: project.id, path }, data: { isPublic: true } })
    const privateFile = await putTestFile(project.id, { path: 'private.jpg', contentType: 'image/jpeg', body: await quadrantJpeg() })
    assertProblem(await api('GET', endpoint(project.id, path, 'w=30')), 401)
    await updateTransformSettings(owner.actor, project.id, { access: 'public', presetsOnly: false, allowAnimated: false })
    const response = await api('GET', endpoint(project.id, path, 'w=30'))
    assert.equal((await image(response)).metadata.width, 30)
    assert.equal(response.headers.get('Cache-Control'), 'public, max-age=3600')
    assertProblem(await api('GET', endpoint(project.id, privateFile.path, 'w=30')), 401)
    assertProblem(await api('GET', endpoint(project.id, 'missing.jpg', 'w=30')), 401)
    await updateProjectSettings(owner.actor, project.id, projectSettingsSchema.parse({ description: 'Other settings' }))
    assert.equal((await getTransformSettings(owner.actor, project.id)).access, 'public')
  })
})

describe('presets', () => {
  test('a preset gives its parameters, the URL may add to them, and presetsOnly refuses anything else', async () => {
    const { project, path, owner, key } = await setup()
    await createPreset(owner.actor, project.id, { name: 'thumbnail', params: { w: 50, h: 50, fit: 'cover', format: 'png' } })
    const viaPreset = await image(await api('GET', endpoint(project.id, path, 'preset=thumbnail'), { token: key }))
    assert.deepEqual([viaPreset.metadata.width, viaPreset.metadata.height, viaPreset.metadata.format], [50, 50, 'png'])
    const widened = await image(await api('GET', endpoint(project.id, path, 'preset=thumbnail&w=80'), { token: key }))
    assert.deepEqual([widened.metadata.width, widened.metadata.height], [80, 50])
    const unknown = await api('GET', endpoint(project.id, path, 'preset=nope'), { token: key })
    assertProblem(unknown, 400)
    assert.ok(unknown.json.errors.preset)

    await updateTransformSettings(owner.actor, project.id, { access: 'signed', presetsOnly: true, allowAnimated: false })
    assertProblem(await api('GET', endpoint(project.id, path, 'w=80'), { token: key }), 400)
    assertProblem(await api('GET', endpoint(project.id, path, 'preset=thumbnail&w=80'), { token: key }), 400)
    assert.equal((await api('GET', endpoint(project.id, path, 'preset=thumbnail'), { token: key })).status, 200)
    const signed = await signTransformUrl(owner.actor, project.id, { path, params: { preset: 'thumbnail' }, expiresIn: 600 }, BASE)
    assert.equal((await api('GET', signed.url)).status, 200)
  })
})

describe('guards', () => {
  test('a decompression bomb (a tiny PNG claiming 50000×50000) is refused with 422', async () => {
    const workspace = await createWorkspace()
    const { key } = await createTestApiKey(workspace.owner.actor, workspace.project.id, ['transforms:execute'])
    await attachS3Bucket(workspace.project.id)
    await putTestFile(workspace.project.id, { path: 'bomb.png', contentType: 'image/png', body: bombPng(50_000, 50_000) })
    const response = await api('GET', endpoint(workspace.project.id, 'bomb.png', 'w=100&format=webp'), { token: key })
    assertProblem(response, 422)
    assert.match(response.json.detail, /pixels/)
  })

  test('non-images get 415 (SVG too), a missing file 404', async () => {
    const { project, key } = await setup()
    await putTestFile(project.id, { path: 'notes.txt', contentType: 'text/plain', body: 'hello' })
    await putTestFile(project.id, { path: 'logo.svg', contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' })
    assertProblem(await api('GET', endpoint(project.id, 'notes.txt', 'w=10'), { token: key }), 415)
    assertProblem(await api('GET', endpoint(project.id, 'logo.svg', 'w=10'), { token: key }), 415)
    assertProblem(await api('GET', endpoint(project.id, 'missing/file.jpg', 'w=10'), { token: key }), 404)
    // A file that says it is a JPEG but is not one: the decoder refuses it.
    await putTestFile(project.id, { path: 'fake.jpg', contentType: 'image/jpeg', body: 'not a jpeg at all' })
    assertProblem(await api('GET', endpoint(project.id, 'fake.jpg', 'w=10'), { token: key }), 415)
  })

  test('animated input keeps one frame unless the project allows animation', async () => {
    const { project, key, owner } = await setup()
    const frame = (colour: string) =>
      sharp({ create: { width: 20, height: 20, channels: 3, background: colour } })
        .png()
        .toBuffer()
    const gif = await sharp([await frame('red'), await frame('blue'), await frame('lime')], { join: { animated: true } })
      .gif()
      .toBuffer()
    await putTestFile(project.id, { path: 'anim.gif', contentType: 'image/gif', body: gif })
    const still = await image(await api('GET', endpoint(project.id, 'anim.gif', 'w=10&format=webp'), { token: key }))
    assert.equal(still.metadata.pages ?? 1, 1)
    await updateTransformSettings(owner.actor, project.id, { access: 'signed', presetsOnly: false, allowAnimated: true })
    const animated = await image(await api('GET', endpoint(project.id, 'anim.gif', 'w=10&format=webp'), { token: key }))
    assert.equal(animated.metadata.pages, 3)
  })

  test('sources over the byte cap are cut off while streaming', async () => {
    const body = await quadrantJpeg()
    await assert.rejects(
      renderVariant(Readable.from([body]), { w: 10 }, 'png', { maxSourceBytes: 1000, maxInputPixels: 50_000_000, allowAnimated: false }),
      (error: unknown) => error instanceof SourceRefused && error.status === 422,
    )
  })

  test('the render limiter runs `concurrency` at once, queues up to its limit and refuses the rest', async () => {
    const limiter = createTransformLimiter({ concurrency: 1, queueLimit: 1, retryAfterSeconds: 2 })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const order: string[] = []
    const first = limiter.run(async () => {
      await gate
      order.push('first')
    })
    const second = limiter.run(async () => {
      order.push('second')
    })
    assert.deepEqual([limiter.active, limiter.waiting], [1, 1])
    await assert.rejects(
      limiter.run(async () => undefined),
      (error: unknown) => error instanceof TransformsBusy && error.retryAfterSeconds === 2,
    )
    release()
    await Promise.all([first, second])
    assert.deepEqual(order, ['first', 'second'])
    assert.deepEqual([limiter.active, limiter.waiting], [0, 0])
  })
})

describe('caching', () => {
  test('a repeat is served from memory, 304 answers a matching If-None-Match, and the bucket keeps the variant', async () => {
    const { project, key, path, file } = await setup()
    const url = endpoint(project.id, path, 'w=90&format=webp')
    const first = await api('GET', url, { token: key })
    await image(first)
    const etag = first.headers.get('ETag')!
    assert.match(etag, /^"[0-9a-f]{40}"$/)
    const renders = cacheStats.renders
    const second = await api('GET', url, { token: key })
    assert.equal(second.status, 200)
    assert.equal(second.headers.get('ETag'), etag)
    assert.ok(second.bytes.equals(first.bytes))
    assert.equal(cacheStats.renders, renders, 'not rendered again')
    const notModified = await api('GET', url, { token: key, headers: { 'If-None-Match': `W/"other", ${etag}` } })
    assert.equal(notModified.status, 304)
    assert.equal(notModified.bytes.length, 0)
    assert.equal(notModified.headers.get('ETag'), etag)
    const keys = await variantKeys(await bucketNameOf(file.bucketId), file.id)
    assert.equal(keys.length, 1)
    assert.match(keys[0]!, /\.webp$/)
  })

  test('after the memory cache is cleared the variant comes from the bucket, not from sharp', async () => {
    const { project, key, path } = await setup()
    const url = endpoint(project.id, path, 'w=70&format=png')
    const first = await api('GET', url, { token: key })
    await image(first)
    clearMemoryCache()
    const renders = cacheStats.renders
    const bucketHits = cacheStats.bucketHits
    const again = await api('GET', url, { token: key })
    assert.ok(again.bytes.equals(first.bytes))
    assert.equal(cacheStats.renders, renders)
    assert.equal(cacheStats.bucketHits, bucketHits + 1)
  })

  test('replacing a file changes the ETag; deleting it deletes its variants', async () => {
    const { project, key, path, file, owner } = await setup()
    const url = endpoint(project.id, path, 'w=60&format=png')
    const before = (await api('GET', url, { token: key })).headers.get('ETag')
    await prisma.file.update({ where: { id: file.id }, data: { etag: '"replaced"' } })
    const after = await api('GET', url, { token: key })
    assert.equal(after.status, 200)
    assert.notEqual(after.headers.get('ETag'), before)
    const bucketName = await bucketNameOf(file.bucketId)
    assert.equal((await variantKeys(bucketName, file.id)).length, 2)
    await deleteFile(owner.actor, file.id)
    assert.deepEqual(await variantKeys(bucketName, file.id), [])
    assertProblem(await api('GET', url, { token: key }), 404)
  })
})

describe('caching in a local-provider bucket', () => {
  test('variants are stored under the reserved prefix and deleted with their file', async () => {
    const { project, key, path, file, owner, localDirectory } = await setup({ local: true })
    const response = await api('GET', endpoint(project.id, path, 'w=40&format=webp'), { token: key })
    await image(response)
    const variants = join(localDirectory!, '.carcosa', 'variants', file.id)
    assert.equal((await readdir(variants)).filter((name) => name.endsWith('.webp')).length, 1)
    clearMemoryCache()
    const renders = cacheStats.renders
    assert.ok((await api('GET', endpoint(project.id, path, 'w=40&format=webp'), { token: key })).bytes.equals(response.bytes))
    assert.equal(cacheStats.renders, renders)
    await deleteFile(owner.actor, file.id)
    await assert.rejects(readdir(variants), { code: 'ENOENT' })
  })
})

/** A PNG of a few dozen bytes whose header claims width × height pixels. */
function bombPng(width: number, height: number) {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(zlib.crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.writeUInt8(8, 8) // bit depth
  header.writeUInt8(2, 9) // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}
