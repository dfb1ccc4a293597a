/**
 * The example application: Express serving a server-rendered React page (hydrated in the browser),
 * the SDK's route handler at /api/uploads, and a sign-in of its own. Needs CARCOSA_URL and
 * CARCOSA_API_KEY (files:read, files:write, transforms:execute, tenants:manage); PORT (default 3300).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { build } from 'esbuild'
import { renderToString } from 'react-dom/server'
import { CarcosaApi, CarcosaError } from '@carcosa/sdk'
import { createRouteHandler } from '@carcosa/sdk/express'
import { signImages } from '@carcosa/react/server'
import { avatarImage, galleryImage, Page, type PageData } from './app/page'
import { router } from './app/router'
import { sessionCookie, tenantSlugOf, userFrom } from './app/session'
import { store } from './app/store'

const here = path.dirname(fileURLToPath(import.meta.url))
const api = new CarcosaApi() // CARCOSA_API_KEY, CARCOSA_URL

// The browser bundle, built once at start (the example has no build step of its own).
const bundle = await build({
  entryPoints: [path.join(here, 'app', 'client.tsx')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  minify: true,
  write: false,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
})
const clientScript = bundle.outputFiles[0]!.text

const STYLES = `
body { font-family: system-ui, sans-serif; margin: 0; color: #1e293b; background: #f8fafc; }
.bar { display: flex; justify-content: space-between; align-items: center; padding: 0.75rem 1.5rem; background: #0f172a; color: #f8fafc; }
.bar input { margin: 0 0.5rem; }
.brand { font-weight: 700; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
section { margin-block: 2rem; }
button, .carcosa-button { display: inline-block; padding: 0.5rem 0.9rem; border-radius: 0.4rem; border: 1px solid #1d4ed8; background: #1d4ed8; color: #fff; cursor: pointer; font: inherit; }
.carcosa-button:focus-within { outline: 3px solid #f59e0b; outline-offset: 2px; }
.carcosa-button[data-state="disabled"], .carcosa-button[data-state="loading"] { background: #64748b; border-color: #64748b; }
[data-carcosa-element="upload-dropzone"] { border: 2px dashed #64748b; border-radius: 0.6rem; padding: 1.25rem; background: #fff; }
[data-carcosa-element="upload-dropzone"][data-state="drag-over"] { border-color: #1d4ed8; background: #eff6ff; }
.carcosa-error { color: #b91c1c; font-weight: 600; }
.carcosa-file-list { list-style: none; padding: 0; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 1rem; list-style: none; padding: 0; }
.gallery img { width: 100%; height: auto; border-radius: 0.4rem; }
.avatar { border-radius: 50%; }
figure { margin: 0; }
`

function html(data: PageData) {
  const json = JSON.stringify(data).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Carcosa example</title><style>${STYLES}</style></head>
<body><div id="root">${renderToString(<Page {...data} />)}</div>
<script id="page-data" type="application/json">${json}</script>
<script type="module" src="/assets/app.js"></script></body>
</html>`
}

const app = express()
app.disable('x-powered-by')

// The SDK's handler first: its webhook's signature covers the raw body.
app.use(
  '/api/uploads',
  createRouteHandler({
    router,
    config: {
      api,
      // CarcosaImage signs in the browser through here: only what this visitor may see.
      images: {
        authorize: ({ req, paths }) => {
          const visible = store.visiblePaths(userFrom((req as express.Request).headers.cookie))
          return paths.every((p) => visible.has(p))
        },
      },
    },
  }),
)

app.get('/healthz', (_req, res) => void res.send('ok'))
app.get('/assets/app.js', (_req, res) => void res.type('text/javascript').send(clientScript))

app.post('/sign-in', express.urlencoded({ extended: false, limit: '2kb' }), async (req, res, next) => {
  const name = String(req.body?.name ?? '')
    .trim()
    .slice(0, 40)
  if (!name) return void res.redirect(303, '/')
  try {
    // Each user's documents go to a tenant of their own (made on first sign-in).
    await api.tenants.create({ slug: tenantSlugOf(name), name }).catch((error: unknown) => {
      if (!(error instanceof CarcosaError && error.status === 409)) throw error
    })
    res.setHeader('Set-Cookie', sessionCookie(name))
    res.redirect(303, '/')
  } catch (error) {
    next(error)
  }
})

app.post('/sign-out', (_req, res) => {
  res.setHeader('Set-Cookie', sessionCookie(null))
  res.redirect(303, '/')
})

app.get('/', async (req, res, next) => {
  try {
    const user = userFrom(req.headers.cookie)
    const avatar = user ? store.avatarOf(user) : null
    const photos = store.photos()
    // Signed here, on the server: the page renders its srcsets without a request from the browser.
    const signed = await signImages([...(avatar ? [avatarImage(avatar)] : []), ...photos.map((p) => galleryImage(p.path))], { api })
    res.type('html').send(html({ user, avatar, photos, documents: user ? store.documentsOf(user) : [], signed }))
  } catch (error) {
    next(error)
  }
})

const port = Number(process.env.PORT ?? 3300)
const host = process.env.HOST ?? '127.0.0.1'
app.listen(port, host, () => console.log(`Example on http://${host}:${port} (Carcosa at ${api.connection.baseUrl})`))
