import { expect, test } from './support/test'

test('pages carry a per-request CSP nonce, security headers and an immutable stylesheet', async ({ request }) => {
  const first = await request.get('/login')
  const second = await request.get('/login')
  expect(first.status()).toBe(200)
  const csp = first.headers()['content-security-policy'] ?? ''
  const nonce = csp.match(/'nonce-([^']+)'/)?.[1]
  expect(nonce).toBeTruthy()
  expect(second.headers()['content-security-policy']).not.toContain(nonce as string)
  expect(csp).toContain("frame-ancestors 'none'")
  expect(first.headers()['x-content-type-options']).toBe('nosniff')
  expect(first.headers()['x-frame-options']).toBe('DENY')
  expect(first.headers()['x-request-id']).toBeTruthy()

  const html = await first.text()
  // Every script the page runs carries the nonce of its own response.
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])
  expect(scripts.length).toBeGreaterThan(0)
  for (const script of scripts) expect(script).toContain(`nonce="${nonce}"`)

  const stylesheet = html.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1]
  expect(stylesheet).toMatch(/^\/build\/.+\.css$/)
  const css = await request.get(stylesheet as string)
  expect(css.status()).toBe(200)
  expect(css.headers()['cache-control']).toContain('immutable')
})

test('a state-changing dashboard request from another site is refused', async ({ request }) => {
  const response = await request.post('/register', {
    form: { name: 'Mallory', email: `mallory-${Date.now()}@example.com`, password: 'password1234' },
    headers: { Origin: 'https://evil.example' },
    maxRedirects: 0,
  })
  expect(response.status()).toBe(403)
  expect(await response.text()).toContain('Cross-site request refused')
})

test('an unknown page answers 404 and the health check 200', async ({ request }) => {
  expect((await request.get('/no/such/page')).status()).toBe(404)
  const health = await request.get('/api/v1/health')
  expect(health.status()).toBe(200)
  expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok' })
})
