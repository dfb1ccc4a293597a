/**
 * Where sign-in and registration send the browser: a path of this app, never another origin, and
 * never a 500 for a redirectTo a browser could not put in a Location header.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { api } from '../support/api-client'
import { createTestUser, uniqueEmail, uniqueIp } from '../support/factories'

const form = (fields: Record<string, string>) => ({
  body: new URLSearchParams(fields).toString(),
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  ip: uniqueIp(),
})

const ESCAPES = ['/\t/evil.example', '/\n/evil.example', '/\\evil.example', '//evil.example', 'https://evil.example/x', '/\r\n/evil.example']

test('sign-in follows same-origin redirectTo paths and refuses every way out to another origin', async () => {
  const { user, password } = await createTestUser()
  const kept = await api('POST', '/login', form({ email: user.email, password, redirectTo: '/account?tab=sessions' }))
  assert.equal(kept.status, 302)
  assert.equal(kept.headers.get('Location'), '/account?tab=sessions')
  for (const redirectTo of ESCAPES) {
    const response = await api('POST', '/login', form({ email: user.email, password, redirectTo }))
    assert.equal(response.status, 302, `${JSON.stringify(redirectTo)}: ${response.status}`)
    assert.equal(response.headers.get('Location'), '/', JSON.stringify(redirectTo))
  }
})

test('registration refuses redirects to another origin and falls back to onboarding', async () => {
  for (const redirectTo of ESCAPES.slice(0, 2)) {
    const response = await api(
      'POST',
      '/register',
      form({ name: 'New person', email: uniqueEmail('redirect'), password: 'a long enough password 123', redirectTo }),
    )
    assert.equal(response.status, 302, response.text.slice(0, 300))
    assert.equal(response.headers.get('Location'), '/onboarding', JSON.stringify(redirectTo))
  }
})
