/**
 * A committed event survives `kill -9`: Carcosa (server.ts as a child process on the test database)
 * is killed while a delivery is in flight, and the next start delivers it, with the same webhook-id.
 * Needs build/index.js (`npm test` builds first).
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { createWebhookSchema } from '~/services/webhooks/schemas'
import { createWebhook } from '~/services/webhooks/webhooks.server'
import { prisma } from '~/utils/db.server'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { startWebhookReceiver, waitFor } from '../support/webhook-receiver'
import { freePort, startCarcosaProcess } from '../support/carcosa-server'

/** Carcosa as its own process on `port`, in its own process group so `kill -9` reaches all of it. */
const startCarcosa = (port: number) => startCarcosaProcess({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_SECONDS: '60' }, { port })

test('a delivery in flight when Carcosa is killed with SIGKILL is delivered after the restart, with the same webhook-id', async () => {
  // The first request hangs (the process dies meanwhile); later ones are answered.
  const receiver = await startWebhookReceiver((_request, index) => (index === 0 ? { status: 200, delayMs: 120_000 } : { status: 200 }))
  after(() => receiver.close())
  const { owner, project } = await createWorkspace()
  const key = await createTestApiKey(owner.actor, project.id, ['tenants:manage'])
  const { webhook, secret } = await createWebhook(owner.actor, {
    ...createWebhookSchema.parse({ url: receiver.url, eventTypes: ['tenant.created'] }),
    projectId: project.id,
  })

  const port = await freePort()
  const first = await startCarcosa(port)
  const created = await fetch(`http://127.0.0.1:${port}/api/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'survivor', name: 'Survivor' }),
  })
  assert.equal(created.status, 201, await created.text())
  const inFlight = await waitFor('the first attempt to reach the receiver', () => receiver.received[0])

  await first.killHard()
  const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: webhook.id } })
  assert.equal(delivery.status, 'PENDING', 'nothing recorded an outcome before the kill')

  const second = await startCarcosa(port)
  const retried = await waitFor('the delivery after the restart', () => receiver.received[1], 90_000)
  assert.equal(retried.headers['webhook-id'], inFlight.headers['webhook-id'])
  const payload = new Webhook(secret).verify(retried.body, retried.headers) as { type: string; data: { tenant: { slug: string } } }
  assert.deepEqual([payload.type, payload.data.tenant.slug], ['tenant.created', 'survivor'])
  await waitFor(
    'the delivery to be recorded',
    async () => (await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).status === 'SUCCEEDED',
  )
  await second.stop()
})
