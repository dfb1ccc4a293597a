import '../support/test-database'
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import { createTenant, deleteTenant } from '~/services/tenants/tenants.server'
import { createTenantSchema } from '~/services/tenants/schemas'
import { startJobRunner, type JobRunner } from '~/services/jobs/runner.server'
import { nextDelaySeconds } from '~/services/webhooks/deliver.server'
import { createWebhookSchema } from '~/services/webhooks/schemas'
import {
  createWebhook,
  deleteWebhook,
  getDelivery,
  getWebhook,
  listDeliveries,
  listWebhooks,
  replayDelivery,
  replayFailedDeliveries,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
} from '~/services/webhooks/webhooks.server'
import { pageQuerySchema } from '~/services/pagination'
import { prisma } from '~/utils/db.server'
import { subscribe, type RealtimeMessage } from '~/utils/realtime-hub.server'
import { api, assertProblem } from '../support/api-client'
import { addMember, addToTeam, assertAppError, createTestApiKey, createWorkspace } from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { startWebhookReceiver, waitFor } from '../support/webhook-receiver'
import { testDatabaseUrl } from '../support/test-database'

// Read when the configuration is first parsed: short retries for the test.
process.env.WEBHOOK_RETRY_DELAYS_SECONDS = '1,1'
process.env.WEBHOOK_TIMEOUT_SECONDS = '2'

const page = pageQuerySchema.parse({})
let runner: JobRunner

before(async () => {
  runner = await startJobRunner({ databaseUrl: testDatabaseUrl })
})
after(async () => {
  await runner.stop()
})

async function endpointFor(receiverUrl: string, eventTypes: string[] = []) {
  const workspace = await createWorkspace()
  const input = { ...createWebhookSchema.parse({ url: receiverUrl, eventTypes, description: 'test receiver' }), projectId: workspace.project.id }
  const { webhook, secret } = await createWebhook(workspace.owner.actor, input)
  return { ...workspace, webhook, secret }
}

const tenantInput = (projectId: string, slug: string) => ({ ...createTenantSchema.parse({ slug, name: slug }), projectId })

describe('outbox', () => {
  test('an event is recorded with its change, and none for a change that rolled back', async () => {
    const { owner, project } = await createWorkspace()
    const tenant = await createTenant(owner.actor, tenantInput(project.id, 'acme'))
    const events = await prisma.event.findMany({ where: { projectId: project.id } })
    assert.deepEqual(
      events.map((event) => event.type),
      ['tenant.created'],
    )
    assert.deepEqual((events[0]!.data as { tenant: { id: string } }).tenant.id, tenant.id)

    // Deleting a tenant that still has a file is refused inside its transaction: no event escapes.
    await putTestFile(project.id, { tenantId: tenant.id })
    await assertAppError(deleteTenant(owner.actor, tenant.id), 'CONFLICT')
    assert.equal(await prisma.event.count({ where: { projectId: project.id, type: 'tenant.deleted' } }), 0)
  })

  test("the relay publishes each event to its project's live channel as {type, timestamp, data}", async () => {
    const { owner, project } = await createWorkspace()
    const heard: RealtimeMessage[] = []
    const subscription = subscribe(`project:${project.id}`, ({ message }) => heard.push(message))
    after(() => subscription.unsubscribe())
    await subscription.ready
    const tenant = await createTenant(owner.actor, tenantInput(project.id, 'live'))
    const [message] = await waitFor('the live message', () => (heard.length ? heard : null))
    assert.equal(message!.type, 'tenant.created')
    assert.ok(!Number.isNaN(Date.parse(message!.timestamp as string)))
    assert.equal((message!.data as { tenant: { id: string } }).tenant.id, tenant.id)
    assert.ok(await prisma.event.findFirst({ where: { projectId: project.id, dispatchedAt: { not: null } } }), 'the event is stamped dispatched')
  })
})

describe('webhook delivery', () => {
  test('deliveries carry Standard Webhooks headers that the standardwebhooks package verifies', async () => {
    const receiver = await startWebhookReceiver()
    after(() => receiver.close())
    const { owner, project, webhook, secret } = await endpointFor(receiver.url, ['tenant.created', 'tenant.updated'])
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/)

    const tenant = await createTenant(owner.actor, tenantInput(project.id, 'globex'))
    const request = await waitFor('the delivery', () => receiver.received[0])

    const verified = new Webhook(secret).verify(request.body, request.headers) as {
      type: string
      timestamp: string
      data: { projectId: string; tenant: { id: string } }
    }
    assert.equal(verified.type, 'tenant.created')
    assert.equal(verified.data.projectId, project.id)
    assert.equal(verified.data.tenant.id, tenant.id)
    assert.ok(!Number.isNaN(Date.parse(verified.timestamp)))
    assert.match(request.headers['webhook-id']!, /^msg_/)
    assert.match(request.headers['webhook-timestamp']!, /^\d+$/)
    assert.equal(request.headers['content-type'], 'application/json')

    const log = await waitFor('the log entry', async () => {
      const { items } = await listDeliveries(owner.actor, webhook.id, page)
      return items[0]?.status === 'SUCCEEDED' ? items : null
    })
    assert.equal(log[0]!.id, request.headers['webhook-id'])
    assert.equal(log[0]!.attempts[0]!.statusCode, 200)
    assert.equal(log[0]!.attempts[0]!.responseBody, 'ok')
    // The filter: a new API key is not a subscribed type.
    await createTestApiKey(owner.actor, project.id, ['files:read'])
    await createTenant(owner.actor, tenantInput(project.id, 'initech'))
    await waitFor('the second tenant event', () => receiver.received[1])
    assert.deepEqual(
      receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type),
      ['tenant.created', 'tenant.created'],
    )
  })

  test('a failing endpoint is retried on the schedule with the same webhook-id, logged, and replayed', async () => {
    const receiver = await startWebhookReceiver(() => ({ status: 500, body: 'x'.repeat(3000) }))
    after(() => receiver.close())
    const { owner, project, webhook } = await endpointFor(receiver.url)
    const since = new Date(Date.now() - 1000)
    await createTenant(owner.actor, tenantInput(project.id, 'umbrella'))

    // One attempt and two retries (WEBHOOK_RETRY_DELAYS_SECONDS=1,1), then it fails.
    const [failed] = await waitFor('the delivery to fail', async () => {
      const { items } = await listDeliveries(owner.actor, webhook.id, page, { status: 'FAILED' })
      return items.length ? items : null
    })
    assert.equal(receiver.received.length, 3)
    assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1)
    assert.equal(failed!.attemptCount, 3)
    assert.deepEqual(
      failed!.attempts.map((a) => a.statusCode),
      [500, 500, 500],
    )
    assert.equal(failed!.attempts[0]!.responseBody.length, 1024)
    assert.ok(receiver.received[1]!.receivedAt - receiver.received[0]!.receivedAt >= 900)
    const stored = await getWebhook(owner.actor, webhook.id)
    assert.ok(stored.failingSince, 'the endpoint is marked failing')
    assert.equal(stored.enabled, true)

    receiver.setReply(() => ({ status: 204 }))
    assert.deepEqual(await replayFailedDeliveries(owner.actor, webhook.id, since), { replayed: 1 })
    await waitFor('the replay to succeed', async () => (await getDelivery(owner.actor, failed!.id)).status === 'SUCCEEDED')
    assert.equal(receiver.received.at(-1)!.headers['webhook-id'], failed!.id)
    assert.equal((await getWebhook(owner.actor, webhook.id)).failingSince, null)

    // One delivery replayed on its own; a pending one cannot be.
    await replayDelivery(owner.actor, failed!.id)
    await waitFor(
      'the second replay',
      async () => (await getDelivery(owner.actor, failed!.id)).status === 'SUCCEEDED' && receiver.received.length === 5,
    )
  })

  test('a slow endpoint holds at most WEBHOOK_ENDPOINT_CONCURRENCY attempts at once; another endpoint of the project gets every event', async () => {
    // The slow receiver answers each request after a while (within the 2 s timeout) and counts how many it holds at once.
    let open = 0
    let mostOpen = 0
    const slowReceived: string[] = []
    const slow = http.createServer((req, res) => {
      open++
      mostOpen = Math.max(mostOpen, open)
      req.resume()
      req.on('end', () => {
        slowReceived.push(String(req.headers['webhook-id']))
        setTimeout(() => {
          open--
          res.writeHead(200).end('slow')
        }, 1_200)
      })
    })
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
    after(() => new Promise<void>((resolve) => slow.close(() => resolve())))
    const fast = await startWebhookReceiver()
    after(() => fast.close())
    const { owner, project } = await endpointFor(`http://127.0.0.1:${(slow.address() as { port: number }).port}/hooks`, ['tenant.created'])
    await createWebhook(owner.actor, { ...createWebhookSchema.parse({ url: fast.url, eventTypes: ['tenant.created'] }), projectId: project.id })

    const events = 12
    for (let i = 0; i < events; i++) await createTenant(owner.actor, tenantInput(project.id, `busy-${i}`))
    await waitFor('every event at the fast endpoint', () => fast.received.length >= events, 60_000)
    await waitFor('every event at the slow endpoint', () => slowReceived.length >= events, 60_000)
    const { WEBHOOK_ENDPOINT_CONCURRENCY } = (await import('~/utils/config.server')).getConfig()
    assert.ok(mostOpen <= WEBHOOK_ENDPOINT_CONCURRENCY, `the slow endpoint held ${mostOpen} attempts at once`)
    assert.equal(new Set(fast.received.map((r) => r.headers['webhook-id'])).size, events)
  })

  test('410 Gone disables the endpoint and says so', async () => {
    const receiver = await startWebhookReceiver(() => ({ status: 410 }))
    after(() => receiver.close())
    const { owner, webhook } = await endpointFor(receiver.url)
    await sendTestEvent(owner.actor, webhook.id)
    const disabled = await waitFor('the endpoint to be disabled', async () => {
      const current = await getWebhook(owner.actor, webhook.id)
      return current.enabled ? null : current
    })
    assert.match(disabled.disabledReason!, /410 Gone/)
    assert.equal(receiver.received.length, 1)
    await assertAppError(sendTestEvent(owner.actor, webhook.id), 'CONFLICT')
    // Enabling it again clears the reason.
    const enabled = await updateWebhook(owner.actor, webhook.id, { enabled: true })
    assert.equal(enabled.disabledReason, null)
  })

  test('Retry-After on 429 and 503 is honoured, never shorter than the schedule', () => {
    const outcome = (statusCode: number, retryAfterSeconds: number | null) => ({
      statusCode,
      retryAfterSeconds,
      latencyMs: 1,
      responseBody: '',
      error: null,
    })
    const delays = [5, 300]
    assert.equal(nextDelaySeconds(1, outcome(429, 120), delays), 120)
    assert.equal(nextDelaySeconds(1, outcome(503, 2), delays), 5)
    assert.equal(nextDelaySeconds(1, outcome(500, 120), delays), 5)
    assert.equal(nextDelaySeconds(2, outcome(500, null), delays), 300)
    assert.equal(nextDelaySeconds(3, outcome(500, null), delays), null)
  })

  test('during a rotation both secrets sign, and each verifies on its own', async () => {
    const receiver = await startWebhookReceiver()
    after(() => receiver.close())
    const { owner, webhook, secret: oldSecret } = await endpointFor(receiver.url)
    const { secret: newSecret, webhook: rotated } = await rotateWebhookSecret(owner.actor, webhook.id)
    assert.notEqual(newSecret, oldSecret)
    assert.ok(rotated.previousSecretExpiresAt && rotated.previousSecretExpiresAt > new Date())
    await sendTestEvent(owner.actor, webhook.id)
    const request = await waitFor('the test event', () => receiver.received[0])
    assert.equal(request.headers['webhook-signature']!.split(' ').length, 2)
    for (const secret of [oldSecret, newSecret]) {
      assert.equal((new Webhook(secret).verify(request.body, request.headers) as { type: string }).type, 'webhook.test')
    }
    assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(request.body, request.headers))
  })
})

describe('webhook endpoints', () => {
  test('the delivery log pages newest first by (createdAt, id), ties included', async () => {
    const receiver = await startWebhookReceiver()
    after(() => receiver.close())
    const { owner, webhook } = await endpointFor(receiver.url)
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute))
    // Two pairs share a timestamp, so only the id tells them apart.
    const stamps = [at(1), at(2), at(2), at(3), at(3)]
    await prisma.webhookDelivery.createMany({
      data: stamps.map((createdAt, index) => ({
        id: `delivery-${index}`,
        endpointId: webhook.id,
        eventId: `event-${index}`,
        eventType: 'test',
        payload: '{}',
        status: 'SUCCEEDED',
        createdAt,
      })),
    })
    const expected = ['delivery-4', 'delivery-3', 'delivery-2', 'delivery-1', 'delivery-0']
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const result = await listDeliveries(owner.actor, webhook.id, pageQuerySchema.parse({ limit: 2, cursor }))
      seen.push(...result.items.map((delivery) => delivery.id))
      cursor = result.nextCursor ?? undefined
    } while (cursor)
    assert.deepEqual(seen, expected)
    const afterGone = await listDeliveries(owner.actor, webhook.id, pageQuerySchema.parse({ limit: 2, cursor: 'no-such-delivery' }))
    assert.deepEqual(afterGone, { items: [], nextCursor: null })
  })

  test("another project's endpoints and deliveries are not found; a viewer cannot manage them", async () => {
    const receiver = await startWebhookReceiver()
    after(() => receiver.close())
    const { owner, organization, team, webhook } = await endpointFor(receiver.url)
    const delivery = await sendTestEvent(owner.actor, webhook.id)
    const other = await createWorkspace()
    await assertAppError(getWebhook(other.owner.actor, webhook.id), 'NOT_FOUND')
    await assertAppError(updateWebhook(other.owner.actor, webhook.id, { enabled: false }), 'NOT_FOUND')
    await assertAppError(deleteWebhook(other.owner.actor, webhook.id), 'NOT_FOUND')
    await assertAppError(listDeliveries(other.owner.actor, webhook.id, page), 'NOT_FOUND')
    await assertAppError(getDelivery(other.owner.actor, delivery.id), 'NOT_FOUND')
    await assertAppError(replayDelivery(other.owner.actor, delivery.id), 'NOT_FOUND')
    assert.equal((await listWebhooks(other.owner.actor, other.project.id, page)).items.length, 0)

    const viewer = await addMember(organization.id, owner.actor, 'MEMBER')
    await addToTeam(owner.actor, team.id, viewer, 'VIEWER')
    assert.equal((await getWebhook(viewer.actor, webhook.id)).id, webhook.id)
    await assertAppError(updateWebhook(viewer.actor, webhook.id, { enabled: false }), 'FORBIDDEN')
    await assertAppError(rotateWebhookSecret(viewer.actor, webhook.id), 'FORBIDDEN')
    await assertAppError(replayDelivery(viewer.actor, delivery.id), 'FORBIDDEN')
  })

  test('URLs are checked when saved: bad schemes, credentials and forbidden addresses are refused with the field named', async () => {
    const { owner, project } = await createWorkspace()
    for (const url of [
      'ftp://example.com/x',
      'http://user:pw@example.com/x',
      'http://169.254.169.254/latest',
      'http://[::ffff:169.254.169.254]/',
      'not a url',
    ]) {
      const error = await assertAppError(
        createWebhook(owner.actor, { ...createWebhookSchema.parse({ url }), projectId: project.id }),
        'VALIDATION',
      )
      assert.ok(error.details.fieldErrors?.url?.length, url)
    }
    assert.equal(await prisma.webhookEndpoint.count({ where: { projectId: project.id } }), 0)
  })
})

describe('webhooks over REST', () => {
  test('a key with projects:write manages endpoints, one with projects:read reads them; the event types are documented in OpenAPI', async () => {
    const { owner, project } = await createWorkspace()
    const writer = await createTestApiKey(owner.actor, project.id, ['projects:write', 'projects:read'])
    const reader = await createTestApiKey(owner.actor, project.id, ['projects:read'])
    const created = await api('POST', '/api/v1/webhooks', {
      token: writer.key,
      body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['file.uploaded'] },
    })
    assert.equal(created.status, 201, created.text)
    assert.match(created.json.secret, /^whsec_/)
    assertProblem(await api('POST', '/api/v1/webhooks', { token: reader.key, body: { url: 'http://127.0.0.1:9/hooks' } }), 403)
    const listed = await api('GET', '/api/v1/webhooks', { token: reader.key })
    assert.deepEqual(
      listed.json.items.map((w: { id: string }) => w.id),
      [created.json.id],
    )
    assert.equal(JSON.stringify(listed.json).includes(created.json.secret), false, 'the secret is shown once')
    const invalid = await api('POST', '/api/v1/webhooks', {
      token: writer.key,
      body: { url: 'http://127.0.0.1:9/x', eventTypes: ['file.exploded'] },
    })
    assertProblem(invalid, 400)
    assert.ok(invalid.json.errors['eventTypes.0'] ?? invalid.json.errors.eventTypes, JSON.stringify(invalid.json.errors))

    const document = await api('GET', '/api/v1/openapi.json')
    for (const type of [
      'file.uploaded',
      'file.deleted',
      'upload.failed',
      'upload.expired',
      'tenant.created',
      'tenant.updated',
      'tenant.deleted',
      'api_key.created',
      'api_key.revoked',
      'bucket.updated',
    ]) {
      const body = document.json.webhooks[type]?.post?.requestBody?.content?.['application/json']?.schema
      assert.ok(body, `${type} is documented`)
      assert.deepEqual(body.required, ['type', 'timestamp', 'data'])
    }
  })
})
