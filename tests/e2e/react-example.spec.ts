/**
 * The example application (examples/react-app: Express + React with @carcosa/sdk and @carcosa/react)
 * against the Carcosa these tests run: a project and API key made through the REST API, the example
 * started as its own process, then used in Chromium as a person would.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { APIRequestContext, Page, Route } from '@playwright/test'
import sharp from 'sharp'
import { planImage } from '@carcosa/react'
import { freePort } from '../support/free-port'
import { unique } from './support/onboarding'
import { expect, test } from './support/test'

// The upload components are React in the browser; the example's gallery without JavaScript is checked below, in a second context.
test.skip(
  ({ javaScriptEnabled }) => !javaScriptEnabled,
  'the React components need JavaScript (this test also opens the gallery with JavaScript off)',
)

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A project with local storage and an API key for the example, through Carcosa's REST API. */
async function exampleApiKey(request: APIRequestContext) {
  const id = unique('react')
  const registered = await request.post('/api/v1/auth/register', {
    data: { name: 'Rae React', email: `${id}@example.com`, password: 'correct horse battery' },
  })
  expect(registered.status(), await registered.text()).toBe(201)
  const headers = { Authorization: `Bearer ${(await registered.json()).accessToken}` }
  const create = async (url: string, data: Record<string, unknown>) => {
    const response = await request.post(url, { data, headers })
    expect(response.status(), await response.text()).toBe(201)
    return (await response.json()) as { id: string; key?: string }
  }
  const organization = await create('/api/v1/organizations', { name: `React ${id}` })
  const team = await create('/api/v1/teams', { name: 'Web', organizationId: organization.id })
  const project = await create('/api/v1/projects', { name: 'Example', teamId: team.id })
  const key = await create('/api/v1/api-keys', {
    projectId: project.id,
    name: 'example app',
    permissions: ['files:read', 'files:write', 'transforms:execute', 'tenants:manage'],
  })
  return { projectId: project.id, apiKey: key.key! }
}

/** Starts examples/react-app as its own process (as `npm start` there would); stopped with its process group. */
async function startExample(carcosaUrl: string, apiKey: string) {
  const port = await freePort()
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join('examples', 'react-app', 'server.tsx')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CARCOSA_URL: carcosaUrl, CARCOSA_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk))
  const url = `http://127.0.0.1:${port}`
  const stop = () => {
    try {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  await expect
    .poll(
      async () => {
        if (child.exitCode !== null) throw new Error(`The example exited:\n${output}`)
        return fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      },
      { timeout: 60_000 },
    )
    .toBe(true)
  return { url, stop, output: () => output }
}

const png = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer()
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')

/** Every state a file row takes, in order, recorded in the page (server phases can pass quickly on loopback). */
async function recordFileStates(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = []
    ;(window as unknown as { fileStates: string[] }).fileStates = seen
    new MutationObserver(() => {
      for (const row of document.querySelectorAll('[data-carcosa-element="file"]')) {
        const state = row.getAttribute('data-state')
        if (state && seen.at(-1) !== state) seen.push(state)
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true })
  })
}
const fileStates = (page: Page) => page.evaluate(() => (window as unknown as { fileStates: string[] }).fileStates)

const SIGNED = /\/api\/v1\/transform\/[^/?]+\/[^?]+\?[^ ]*exp=\d+[^ ]*&sig=[\w-]{43}$/

test('the example app: avatar by button, documents and photos by drop zone, refusals before upload, serverData, and signed responsive images', async ({
  page,
  request,
  browser,
  baseURL,
}) => {
  const { projectId, apiKey } = await exampleApiKey(request)
  const example = await startExample(baseURL!, apiKey)
  const uploadCalls: string[] = []
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (url.pathname === '/api/uploads' && url.searchParams.get('actionType') === 'upload') uploadCalls.push(url.searchParams.get('slug')!)
  })
  const socketFrames: string[] = []
  page.on('websocket', (socket) => socket.on('framereceived', (frame) => socketFrames.push(String(frame.payload))))

  try {
    await test.step('a visitor signs in (the example’s own session, which the routes’ middleware checks)', async () => {
      await page.goto(example.url)
      await expect(page.getByRole('heading', { level: 1, name: 'Uploads and images with Carcosa' })).toBeVisible()
      await page.getByLabel('Your name').fill('Ada')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await expect(page.getByText('Signed in as Ada')).toBeVisible()
    })

    const gallery = page.getByRole('region', { name: 'Gallery' })
    const photosInput = gallery.getByLabel('Add photos: choose them or drag and drop')

    await test.step('the drop zone says what the route allows and refuses a wrong type and a file too large before uploading', async () => {
      await expect(gallery.getByText('Up to 6 images, 4 MB each')).toBeVisible()
      await expect(photosInput).toHaveAttribute('accept', 'image/*')
      await photosInput.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') })
      const alert = gallery.getByRole('alert')
      await expect(alert).toHaveText('notes.txt is text/plain; this route accepts image')
      await expect(photosInput).toHaveAttribute('aria-invalid', 'true')
      await expect(photosInput).toHaveAttribute('aria-describedby', new RegExp(`${await alert.getAttribute('id')}$`))
      await photosInput.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(5 * 1024 * 1024, 1) })
      await expect(alert).toHaveText('huge.png is 5 MiB; this route accepts image files up to 4 MiB')
      expect(uploadCalls).toEqual([])
    })

    await test.step('two photos picked in the drop zone upload with progress and server phases, and their serverData shows', async () => {
      await recordFileStates(page)
      await photosInput.setInputFiles([
        { name: 'harbour.png', mimeType: 'image/png', buffer: await png(800, 600, '#2563eb') },
        { name: 'field.png', mimeType: 'image/png', buffer: await png(640, 480, '#16a34a') },
      ])
      await expect(gallery.getByLabel('Last shared')).toHaveText('Shared: harbour.png, shared by Ada; field.png, shared by Ada')
      await expect(gallery.getByRole('status')).toHaveText('Uploaded harbour.png, field.png')
      await expect(gallery.getByRole('progressbar', { name: 'harbour.png: 100%' })).toBeVisible()
      const states = await fileStates(page)
      expect(states[0]).toBe('uploading')
      expect(states.at(-1)).toBe('done')
      // The handler offered a realtime token: Carcosa's own phases reached the page over its WebSocket, and the rows showed them.
      expect(socketFrames.filter((frame) => frame.includes('"upload.verifying"'))).toHaveLength(2)
      expect(states.some((state) => state === 'verifying' || state === 'processing')).toBe(true)
      expect(uploadCalls).toEqual(['photos'])
    })

    const expectedWidths = planImage({
      src: 'x.png',
      width: 320,
      height: 240,
      sizes: '(min-width: 960px) 320px, (min-width: 640px) 50vw, 100vw',
    }).variants.map((v) => v.descriptor)

    /** The gallery image's srcset: every URL a signed transform of that file, the widths the breakpoints give. */
    async function expectResponsive(target: Page, name: string) {
      const img = target.getByRole('img', { name })
      await expect(img).toHaveAttribute('sizes', '(min-width: 960px) 320px, (min-width: 640px) 50vw, 100vw')
      await expect(img).toHaveAttribute('srcset', /sig=/)
      await expect(img).toHaveAttribute('loading', 'lazy')
      await expect(img).toHaveAttribute('decoding', 'async')
      const srcset = (await img.getAttribute('srcset'))!
      const candidates = srcset.split(', ').map((candidate) => candidate.split(' '))
      expect(candidates.map(([, descriptor]) => descriptor)).toEqual(expectedWidths)
      for (const [url, descriptor] of candidates) {
        expect(url).toMatch(SIGNED)
        const params = new URL(url!).searchParams
        expect(new URL(url!).pathname).toContain(`/api/v1/transform/${projectId}/`)
        expect(new URL(url!).pathname).toMatch(new RegExp(`${name}$`))
        expect(params.get('w')).toBe(descriptor!.replace('w', ''))
        expect(Number(params.get('h'))).toBe(Math.round((Number(params.get('w')) * 240) / 320))
      }
      return { img, candidates }
    }

    await test.step('the new photos render as responsive images whose URLs the handler signed, and they load', async () => {
      const { img, candidates } = await expectResponsive(page, 'harbour.png')
      await expect.poll(() => img.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth > 0)).toBe(true)
      const chosen = await img.evaluate((element: HTMLImageElement) => element.currentSrc)
      expect(candidates.map(([url]) => url)).toContain(chosen)
      const smallest = await page.request.get(candidates[0]![0]!)
      expect(smallest.status()).toBe(200)
      expect(smallest.headers()['content-type']).toMatch(/^image\//)
      // A URL with its signature altered is refused by Carcosa.
      const tampered = await page.request.get(candidates[0]![0]!.replace(/w=\d+/, 'w=999'))
      expect(tampered.status()).toBe(403)
    })

    await test.step('an upload under way is cancelled: the row says so, the live region announces it, no photo is added', async () => {
      // The bytes' PUT is held (not timed): the upload is certainly under way when Cancel is pressed.
      const held: Route[] = []
      await page.route(/\/storage\/local\//, (route) => (route.request().method() === 'PUT' ? void held.push(route) : route.fallback()))
      await photosInput.setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: await png(400, 300, '#ea580c') })
      await expect.poll(() => held.length).toBe(1)
      await gallery.getByRole('button', { name: 'Cancel upload' }).click()
      await expect(gallery.locator('[data-carcosa-element="file"]')).toHaveAttribute('data-state', 'cancelled')
      await expect(gallery.getByRole('status')).toHaveText('Upload cancelled')
      await expect(gallery.getByRole('button', { name: 'Cancel upload' })).toHaveCount(0)
      await held[0]!.abort().catch(() => {})
      await page.unroute(/\/storage\/local\//)
      await expect(gallery.getByRole('img', { name: 'sunset.png' })).toHaveCount(0)
      expect(uploadCalls).toEqual(['photos', 'photos'])
    })

    await test.step('the avatar uploads by button; its image is 1x/2x, eager and high priority', async () => {
      const avatarSection = page.getByRole('region', { name: 'Avatar' })
      await expect(avatarSection.getByText('One image up to 2 MB')).toBeVisible()
      await avatarSection
        .getByLabel('Choose an avatar')
        .setInputFiles({ name: 'ada.png', mimeType: 'image/png', buffer: await png(300, 300, '#f59e0b') })
      const avatar = avatarSection.getByRole('img', { name: 'Avatar of Ada' })
      await expect(avatar).toHaveAttribute('srcset', /^\S+ 1x, \S+ 2x$/)
      await expect(avatar).toHaveAttribute('loading', 'eager')
      await expect(avatar).toHaveAttribute('fetchpriority', 'high')
      await expect.poll(() => avatar.evaluate((element: HTMLImageElement) => element.naturalWidth)).toBeGreaterThan(0)
    })

    await test.step('a PDF dropped on the manual drop zone goes to the visitor’s tenant', async () => {
      const documents = page.getByRole('region', { name: 'Documents' })
      const zone = documents.locator('[data-carcosa-element="upload-dropzone"]')
      const dataTransfer = await page.evaluateHandle((text) => {
        const transfer = new DataTransfer()
        transfer.items.add(new File([text], 'lease.pdf', { type: 'application/pdf' }))
        return transfer
      }, PDF.toString('latin1'))
      await zone.dispatchEvent('dragenter', { dataTransfer })
      await expect(zone).toHaveAttribute('data-state', 'drag-over')
      await zone.dispatchEvent('drop', { dataTransfer })
      await expect(zone).toHaveAttribute('data-state', 'ready')
      await expect(documents.getByRole('list', { name: 'Chosen files' })).toContainText('lease.pdf')
      await documents.getByRole('button', { name: 'Upload lease.pdf' }).click()
      await expect(documents.getByRole('list', { name: 'Your documents' })).toContainText(/lease\.pdf \(tenant \w+\)/)
    })

    await test.step('after a reload the server signed the same srcset (signImages), and it renders without JavaScript too', async () => {
      await page.reload()
      await expectResponsive(page, 'field.png')
      const context = await browser.newContext({ javaScriptEnabled: false })
      try {
        const scriptless = await context.newPage()
        const loaded: string[] = []
        scriptless.on('response', (r) => r.url().includes('/api/v1/transform/') && r.status() === 200 && loaded.push(r.url()))
        await scriptless.goto(example.url, { waitUntil: 'load' })
        const { candidates } = await expectResponsive(scriptless, 'harbour.png')
        // The placeholder is inlined by the server (no request), and the browser loaded one of the signed candidates.
        await expect(scriptless.getByRole('img', { name: 'harbour.png' })).toHaveAttribute(
          'style',
          /background-image:url\("data:image\/webp;base64,/,
        )
        expect(loaded.some((url) => candidates.some(([candidate]) => candidate === url))).toBe(true)
      } finally {
        await context.close()
      }
    })
  } finally {
    example.stop()
  }
})
