import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCsrfExempt, isSameOriginRequest } from './csrf.server'

const APP = ['http://carcosa.test:3000']

test('a state-changing request must name the app origin, scheme and port included', () => {
  assert.equal(isSameOriginRequest('POST', APP, 'http://carcosa.test:3000'), true)
  assert.equal(isSameOriginRequest('POST', APP, 'https://carcosa.test:3000'), false, 'another scheme is another origin')
  assert.equal(isSameOriginRequest('POST', APP, 'http://carcosa.test:3001'), false)
  assert.equal(isSameOriginRequest('POST', APP, 'http://evil.example'), false)
  assert.equal(
    isSameOriginRequest('POST', APP, undefined, 'http://carcosa.test:3000/orgs/a/settings'),
    true,
    'the Referer when Origin is missing',
  )
  assert.equal(isSameOriginRequest('POST', APP, 'null', 'https://carcosa.test:3000/x'), false)
  assert.equal(isSameOriginRequest('POST', APP), false, 'neither header')
  assert.equal(isSameOriginRequest('POST', APP, 'not a url'), false)
  assert.equal(isSameOriginRequest('GET', APP, 'http://evil.example'), true, 'safe methods pass')
  assert.equal(isSameOriginRequest('POST', [...APP, 'https://media.example.com'], 'https://media.example.com'), true, "APP_URL's origin")
})

test('the /api/ exemption is decided on the path as the router normalizes it', () => {
  assert.equal(isCsrfExempt('/api/v1/projects'), true)
  assert.equal(isCsrfExempt('/storage/local/b1/key?op=put'), true)
  for (const sneaky of [
    '/api/../orgs/acme/settings',
    '/api/%2e%2e/orgs/acme/settings',
    '/api/v1/../../orgs/acme/settings',
    '/storage/local/../../orgs/acme',
  ]) {
    assert.equal(isCsrfExempt(sneaky), false, sneaky)
  }
  assert.equal(isCsrfExempt('/orgs/acme/settings'), false)
  assert.equal(isCsrfExempt('/apix/thing'), false)
})
