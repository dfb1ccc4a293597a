import assert from 'node:assert/strict'
import { test } from 'node:test'
import { safeRedirectPath } from './request.server'

const APP = 'http://carcosa.test:3000/login'

test('redirectTo keeps same-origin paths, parsed as a browser would', () => {
  assert.equal(safeRedirectPath('/orgs/acme?tab=files#top', APP), '/orgs/acme?tab=files#top')
  assert.equal(safeRedirectPath('/a/../b', APP), '/b')
  assert.equal(safeRedirectPath('http://carcosa.test:3000/orgs', APP), '/orgs')
})

test('redirectTo refuses anything that leaves the origin, however it is spelt', () => {
  const attacks = [
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    ' //evil.example',
    'https://evil.example/',
    'http://carcosa.test:3001/',
    'javascript:alert(1)',
    'data:text/html,hi',
    '/%09/evil.example'.replace('%09', '\t'),
  ]
  for (const to of attacks) assert.equal(safeRedirectPath(to, APP), '/', JSON.stringify(to))
  assert.equal(safeRedirectPath(null, APP, '/onboarding'), '/onboarding')
  assert.equal(safeRedirectPath('', APP, '/onboarding'), '/onboarding')
})

test('a newline inside a same-origin path never reaches the Location header', () => {
  const path = safeRedirectPath('/orgs/\nacme', APP)
  assert.doesNotMatch(path, /[\r\n\t]/)
})
