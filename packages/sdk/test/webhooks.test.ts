/** verifyWebhook against the reference Standard Webhooks implementation (standardwebhooks on npm). */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { signWebhook, uploadCallbackSecret, verifyWebhook } from '@carcosa/sdk/webhooks'

const secret = `whsec_${randomBytes(32).toString('base64')}`
const body = JSON.stringify({ type: 'upload.completed', data: { uploadId: 'u1' } })

function referenceHeaders(at: Date, id = 'msg_1') {
  const signature = new Webhook(secret).sign(id, at, body)
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature }
}

describe('verifyWebhook', () => {
  test('accepts what the reference implementation signs, from a Request or raw parts', async () => {
    const headers = referenceHeaders(new Date())
    const fromRequest = await verifyWebhook(new Request('http://app.test/hook', { method: 'POST', headers, body }), secret)
    assert.deepEqual(fromRequest.payload, JSON.parse(body))
    const fromParts = await verifyWebhook({ body, headers }, secret)
    assert.equal(fromParts.id, 'msg_1')
  })

  test('the reference implementation accepts what signWebhook signs', async () => {
    const at = new Date()
    const signature = await signWebhook(secret, 'msg_2', at, body)
    const verified = new Webhook(secret).verify(body, {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    })
    assert.deepEqual(verified, JSON.parse(body))
  })

  test('refuses a tampered body, another secret, a missing header and an old or future timestamp', async () => {
    const headers = referenceHeaders(new Date())
    await assert.rejects(verifyWebhook({ body: body.replace('u1', 'u2'), headers }, secret), { code: 'INVALID_WEBHOOK', status: 401 })
    await assert.rejects(verifyWebhook({ body, headers }, `whsec_${randomBytes(32).toString('base64')}`), /No webhook-signature matches/)
    await assert.rejects(verifyWebhook({ body, headers: { ...headers, 'webhook-id': undefined } }, secret), /Missing webhook-id/)
    const old = referenceHeaders(new Date(Date.now() - 10 * 60_000))
    await assert.rejects(verifyWebhook({ body, headers: old }, secret), /more than 300 seconds/)
    const future = referenceHeaders(new Date(Date.now() + 10 * 60_000))
    await assert.rejects(verifyWebhook({ body, headers: future }, secret), /more than 300 seconds/)
    // A wider tolerance accepts the old one.
    await verifyWebhook({ body, headers: old }, secret, { toleranceSeconds: 15 * 60 })
  })

  test('the upload callback secret is derived from the API key and usable as a Standard Webhooks secret', async () => {
    const a = await uploadCallbackSecret('ck_example_key')
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/)
    assert.equal(await uploadCallbackSecret('ck_example_key'), a)
    assert.notEqual(await uploadCallbackSecret('ck_other_key'), a)
    const at = new Date()
    const signature = new Webhook(a).sign('msg_3', at, body)
    await verifyWebhook(
      { body, headers: { 'webhook-id': 'msg_3', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature } },
      a,
    )
  })
})
