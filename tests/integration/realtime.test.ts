/**
 * Live progress over WebSocket: real `ws` clients against the realtime endpoint on a real HTTP
 * server on loopback, with the app's own hub (the build's API calls publish into it). The host's
 * wiring in server.ts and two instances on one Redis are in realtime-server.test.ts.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { createRealtimeServer, limitsFromConfig, type RealtimeLimits } from '~/api/realtime/realtime-server.server'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { createSession } from '~/services/accounts/sessions.server'
import { verifyRealtimeToken } from '~/services/realtime/realtime-tokens.server'
import { initUpload } from '~/services/uploads/init-upload.server'
import { initUploadSchema } from '~/services/uploads/schemas'
import { prisma } from '~/utils/db.server'
import { getRealtimeHub } from '~/utils/realtime-hub.server'
import { commitSessionCookie } from '~/services/accounts/session-cookie.server'
import { api } from '../support/api-client'
import { createTestApiKey, createWorkspace, testMeta, type TestUser } from '../support/factories'
import { connectRealtime, refusedUpgrade, type TestRealtimeClient } from '../support/realtime-client'
import { attachS3Bucket } from '../support/storage-factories'

interface Endpoint {
  url: string
  origin: string
  connections: () => number
  close: () => Promise<void>
}

const endpoints: Endpoint[] = []
const clients: TestRealtimeClient[] = []

/** The realtime endpoint on its own HTTP server (port chosen by the system), with `limits` over the configured ones. */
async function startEndpoint(limits: Partial<RealtimeLimits> = {}): Promise<Endpoint> {
  const realtime = createRealtimeServer({ limits: { ...limitsFromConfig(), ...limits } })
  const server = http.createServer((_req, res) => res.writeHead(404).end())
  server.on('upgrade', (req, socket, head) => realtime.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const endpoint = {
    url: `ws://127.0.0.1:${port}/api/v1/realtime`,
    origin: `http://127.0.0.1:${port}`,
    connections: () => realtime.connectionCount(),
    close: async () => {
      await realtime.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  endpoints.push(endpoint)
  return endpoint
}

async function connect(url: string, headers: Record<string, string> = {}) {
  const client = await connectRealtime(url, headers)
  clients.push(client)
  return client
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

let endpoint: Endpoint
let owner: TestUser
let ownerToken: string
let projectA: string
let keyA: string
let projectB: string
let keyB: string
let uploadB: string

before(async () => {
  endpoint = await startEndpoint()
  const a = await createWorkspace()
  const b = await createWorkspace()
  owner = a.owner
  projectA = a.project.id
  projectB = b.project.id
  ownerToken = (await issueTokens(owner.user.id, testMeta())).accessToken
  keyA = (await createTestApiKey(owner.actor, projectA, ['files:read', 'files:write'])).key
  keyB = (await createTestApiKey(b.owner.actor, projectB, ['files:read', 'files:write'])).key
  await attachS3Bucket(projectA)
  await attachS3Bucket(projectB)
  uploadB = (
    await initUpload(b.owner.actor, initUploadSchema.parse({ projectId: projectB, fileName: 'b.txt', contentType: 'text/plain', size: 3 }))
  ).uploadId
})

after(async () => {
  for (const client of clients) client.ws.terminate()
  for (const each of endpoints) await each.close()
})

/** Publishes on `hidden` then on `visible`; resolves once the client has the visible one, to check the hidden one never came. */
async function assertHearsOnly(client: TestRealtimeClient, visible: string, hidden: string) {
  const marker = `marker-${Math.random().toString(36).slice(2)}`
  getRealtimeHub().publish(hidden, { type: 'test.hidden', marker })
  getRealtimeHub().publish(visible, { type: 'test.visible', marker })
  const got = await client.next((frame) => frame.marker === marker)
  assert.deepEqual([got.type, got.channel], ['test.visible', visible])
  assert.equal(client.messages.filter((frame) => frame.marker === marker).length, 1, `nothing published on ${hidden} arrived`)
}

describe('credentials and channels', () => {
  test("an API key hears its own project; another project's channel is refused exactly like a missing one", async () => {
    const client = await connect(endpoint.url, bearer(keyA))
    assert.deepEqual(await client.subscribe(`project:${projectA}`), { type: 'subscribed', channel: `project:${projectA}` })
    const other = await client.subscribe(`project:${projectB}`)
    const missing = await client.subscribe('project:doesnotexist')
    const otherUpload = await client.subscribe(`upload:${uploadB}`)
    const nonsense = await client.subscribe('tenant:whatever')
    assert.equal(other.type, 'refused')
    for (const refusal of [missing, otherUpload, nonsense]) assert.deepEqual({ ...refusal, channel: other.channel }, other)
    assert.equal(other.code, 'not_found')
    await assertHearsOnly(client, `project:${projectA}`, `project:${projectB}`)
  })

  test("a user access token hears the user's projects only", async () => {
    const client = await connect(endpoint.url, bearer(ownerToken))
    assert.equal((await client.subscribe(`project:${projectA}`)).type, 'subscribed')
    assert.equal((await client.subscribe(`project:${projectB}`)).type, 'refused')
    assert.equal((await client.subscribe(`upload:${uploadB}`)).type, 'refused')
    await assertHearsOnly(client, `project:${projectA}`, `project:${projectB}`)
  })

  test('a realtime token minted with an API key reaches only its scope', async () => {
    const uploadA = (
      await initUpload(owner.actor, initUploadSchema.parse({ projectId: projectA, fileName: 'a.txt', contentType: 'text/plain', size: 3 }))
    ).uploadId
    const scoped = await api('POST', '/api/v1/realtime/tokens', { token: keyA, body: { uploadIds: [uploadA] } })
    assert.equal(scoped.status, 201, scoped.text)
    assert.deepEqual([scoped.json.projectId, scoped.json.uploadIds], [projectA, [uploadA]])
    const uploadsOnly = await connect(`${endpoint.url}?token=${encodeURIComponent(scoped.json.token)}`)
    assert.equal((await uploadsOnly.subscribe(`upload:${uploadA}`)).type, 'subscribed')
    assert.equal((await uploadsOnly.subscribe(`project:${projectA}`)).type, 'refused', 'an upload-scoped token does not reach the project')
    assert.equal((await uploadsOnly.subscribe(`upload:${uploadB}`)).type, 'refused')
    await assertHearsOnly(uploadsOnly, `upload:${uploadA}`, `project:${projectA}`)

    const wide = await api('POST', '/api/v1/realtime/tokens', { token: keyA, body: {} })
    assert.equal(wide.status, 201, wide.text)
    assert.equal(wide.json.uploadIds, null)
    const projectWide = await connect(endpoint.url, bearer(wide.json.token))
    assert.equal((await projectWide.subscribe(`project:${projectA}`)).type, 'subscribed')
    assert.equal((await projectWide.subscribe(`project:${projectB}`)).type, 'refused')

    // Expired or altered tokens open nothing.
    assert.ok(verifyRealtimeToken(wide.json.token))
    assert.equal(verifyRealtimeToken(wide.json.token, new Date(wide.json.expiresAt).getTime() + 1), null)
    const [body, signature] = (wide.json.token as string).split('.')
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!.slice(4), 'base64url').toString()), p: projectB })).toString(
      'base64url',
    )
    for (const token of [`crt_${forged}.${signature}`, `${body}.${'A'.repeat(43)}`, 'crt_nonsense']) {
      const refused = await refusedUpgrade(`${endpoint.url}?token=${encodeURIComponent(token)}`)
      assert.equal(refused.status, 401)
      assert.match(refused.body.detail, /realtime token is invalid or expired/)
    }
  })

  test("minting a token for another project's upload is 404, and a key without files permissions is 403", async () => {
    const foreign = await api('POST', '/api/v1/realtime/tokens', { token: keyA, body: { uploadIds: [uploadB] } })
    assert.equal(foreign.status, 404)
    const otherProject = await api('POST', '/api/v1/realtime/tokens', { token: keyA, body: { projectId: projectB } })
    assert.equal(otherProject.status, 404)
    const weak = (await createTestApiKey(owner.actor, projectA, ['projects:read'])).key
    const refused = await api('POST', '/api/v1/realtime/tokens', { token: weak, body: {} })
    assert.equal(refused.status, 403)
    const invalid = await api('POST', '/api/v1/realtime/tokens', { token: keyA, body: { uploadIds: [] } })
    assert.equal(invalid.status, 400)
    assert.deepEqual(Object.keys(invalid.json.errors), ['uploadIds'])
  })

  test("the dashboard's session cookie works from Carcosa's own pages only", async () => {
    const { token } = await createSession(owner.user.id, testMeta())
    const cookie = (await commitSessionCookie(token)).split(';')[0]!
    const client = await connect(endpoint.url, { Cookie: cookie, Origin: endpoint.origin })
    assert.equal((await client.subscribe(`project:${projectA}`)).type, 'subscribed')
    assert.equal((await client.subscribe(`project:${projectB}`)).type, 'refused')
    for (const headers of [{ Cookie: cookie, Origin: 'https://evil.example' }, { Cookie: cookie }] as Record<string, string>[]) {
      assert.equal((await refusedUpgrade(endpoint.url, headers)).status, 403)
    }
    assert.equal((await refusedUpgrade(endpoint.url, { Cookie: 'carcosa_session=forged', Origin: endpoint.origin })).status, 401)
  })

  test('no credentials or bad ones are refused before the handshake, with a problem body', async () => {
    const none = await refusedUpgrade(endpoint.url)
    assert.equal(none.status, 401)
    assert.deepEqual([none.body.status, none.body.title], [401, 'Authentication required'])
    for (const token of [`ck_${'A'.repeat(43)}`, `cat_${'A'.repeat(43)}`, 'nonsense']) {
      assert.equal((await refusedUpgrade(endpoint.url, bearer(token))).status, 401)
    }
    const elsewhere = await refusedUpgrade(endpoint.url.replace('/api/v1/realtime', '/api/v1/other'), bearer(keyA))
    assert.equal(elsewhere.status, 404)
  })
})

describe('protocol', () => {
  test('malformed messages get an error message and the connection stays open', async () => {
    const client = await connect(endpoint.url, bearer(keyA))
    const errors = () => client.messages.filter((frame) => frame.type === 'error')
    client.send('not json')
    client.send({ type: 'dance' })
    client.send({ type: 'subscribe' })
    client.send({ type: 'subscribe', channel: 42 })
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    client.send('[]')
    await until(() => errors().length === 6, 'six error messages')
    for (const error of errors()) assert.equal(error.code, 'invalid_message')
    assert.match(errors()[1]!.detail, /type must be subscribe, unsubscribe or ping/)
    assert.match(errors()[2]!.detail, /channel/)
    client.send({ type: 'ping' })
    await client.next((frame) => frame.type === 'pong')
    assert.equal((await client.subscribe(`project:${projectA}`)).type, 'subscribed')
  })

  test('unsubscribing stops the channel', async () => {
    const client = await connect(endpoint.url, bearer(keyA))
    await client.subscribe(`project:${projectA}`)
    client.send({ type: 'unsubscribe', channel: `project:${projectA}` })
    await client.next((frame) => frame.type === 'unsubscribed')
    const marker = `after-${Date.now()}`
    getRealtimeHub().publish(`project:${projectA}`, { type: 'test.after', marker })
    client.send({ type: 'ping' })
    await client.next((frame) => frame.type === 'pong')
    assert.equal(client.messages.filter((frame) => frame.marker === marker).length, 0)
  })

  test('a message over 4 KiB closes the connection (1009)', async () => {
    const client = await connect(endpoint.url, bearer(keyA))
    client.send({ type: 'subscribe', channel: 'x'.repeat(5000) })
    assert.equal(await client.closed, 1009)
  })
})

describe('bounds', () => {
  test('connections and subscriptions per credential are capped', async () => {
    const capped = await startEndpoint({ maxConnectionsPerCredential: 2, maxSubscriptionsPerCredential: 2 })
    const first = await connect(capped.url, bearer(keyA))
    const second = await connect(capped.url, bearer(keyA))
    const third = await refusedUpgrade(capped.url, bearer(keyA))
    assert.equal(third.status, 429)
    assert.match(third.body.detail, /already holds 2 realtime connections/)
    // Another credential has its own count.
    const otherKey = await connect(capped.url, bearer(keyB))
    assert.equal((await otherKey.subscribe(`project:${projectB}`)).type, 'subscribed')

    const uploadA = (
      await initUpload(owner.actor, initUploadSchema.parse({ projectId: projectA, fileName: 'c.txt', contentType: 'text/plain', size: 3 }))
    ).uploadId
    assert.equal((await first.subscribe(`project:${projectA}`)).type, 'subscribed')
    assert.equal((await second.subscribe(`upload:${uploadA}`)).type, 'subscribed')
    const over = await first.subscribe(`upload:${uploadA}`)
    assert.deepEqual([over.type, over.code], ['refused', 'limit'])
    // Closing a connection gives back its connection and subscriptions.
    await second.close()
    await until(() => capped.connections() === 2, 'the closed connection to be forgotten')
    assert.equal((await first.subscribe(`upload:${uploadA}`)).type, 'subscribed')
    await connect(capped.url, bearer(keyA))
  })

  test('an instance refuses connections past its own cap', async () => {
    const small = await startEndpoint({ maxConnections: 1 })
    await connect(small.url, bearer(keyA))
    assert.equal((await refusedUpgrade(small.url, bearer(keyB))).status, 503)
  })

  test('a slow consumer is disconnected instead of buffered without bound', async () => {
    const tight = await startEndpoint({ sendBufferBytes: 64 * 1024 })
    const slow = await connect(tight.url, bearer(keyA))
    const healthy = await connect(tight.url, bearer(keyA))
    await slow.subscribe(`project:${projectA}`)
    await healthy.subscribe(`project:${projectA}`)
    // The slow client stops reading: the kernel's buffers fill, then the server's send queue grows.
    slow.ws.pause()
    const blob = 'x'.repeat(40_000)
    let published = 0
    while (tight.connections() === 2 && published < 2_000) {
      getRealtimeHub().publish(`project:${projectA}`, { type: 'test.bulk', sequence: published++, blob })
      if (published % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await until(() => tight.connections() === 1, 'the slow client to be dropped')
    assert.ok(published < 2_000, 'dropped long before 80 MB were queued')
    slow.ws.resume()
    assert.equal(await slow.closed, 1006, 'cut off without a close handshake')
    // The other subscriber kept up and is still served.
    getRealtimeHub().publish(`project:${projectA}`, { type: 'test.after-slow' })
    await healthy.next((frame) => frame.type === 'test.after-slow', 15_000)
  })

  test('a connection that stops answering pings is closed', async () => {
    const quick = await startEndpoint({ pingIntervalMs: 100 })
    const silent = await connect(quick.url, bearer(keyA))
    const lively = await connect(quick.url, bearer(keyA))
    // A paused client reads nothing, so it never sees the ping nor answers it.
    silent.ws.pause()
    await until(() => quick.connections() === 1, 'the silent connection to be closed')
    silent.ws.resume()
    await silent.closed
    assert.equal(lively.ws.readyState, lively.ws.OPEN, 'a client answering pings stays')
  })
})

describe('upload progress', () => {
  /** A multipart body written in `chunks` slices with pauses, as a slow network would deliver it. */
  function slowForm(fields: Record<string, string>, fileName: string, content: Buffer, chunks: number, pauseMs: number) {
    const boundary = `carcosa-test-${Date.now()}`
    const head = Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('')
    const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`
    const tail = `\r\n--${boundary}--\r\n`
    const slice = Math.ceil(content.length / chunks)
    let index = -1
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (index === -1) controller.enqueue(Buffer.from(head + fileHead))
        else if (index * slice < content.length) {
          await new Promise((resolve) => setTimeout(resolve, pauseMs))
          controller.enqueue(content.subarray(index * slice, (index + 1) * slice))
        } else {
          controller.enqueue(Buffer.from(tail))
          controller.close()
        }
        index++
      },
    })
    return { body, contentType: `multipart/form-data; boundary=${boundary}` }
  }

  /** Waits for the first progress of the upload tagged `reference` on the project channel, then follows the upload's own channel too. */
  async function followUpload(client: TestRealtimeClient, reference: string) {
    const first = await client.next((frame) => frame.type === 'upload.progress' && frame.clientReference === reference, 10_000)
    const uploadId = first.uploadId as string
    assert.equal((await client.subscribe(`upload:${uploadId}`)).type, 'subscribed')
    return uploadId
  }

  test('a streamed upload reports progress, verifying and completion with the file', async () => {
    const client = await connect(endpoint.url, bearer(keyA))
    await client.subscribe(`project:${projectA}`)
    const content = Buffer.alloc(3 * 1024 * 1024, 7)
    const reference = `ref-${Date.now()}`
    const form = slowForm({ size: String(content.length), clientReference: reference }, 'progress.bin', content, 6, 150)
    const sent = api('POST', `/api/v1/files/upload?projectId=${projectA}`, {
      token: keyA,
      body: form.body,
      headers: { 'Content-Type': form.contentType },
    })
    const uploadId = await followUpload(client, reference)
    const response = await sent
    assert.equal(response.status, 201, response.text)
    const completed = await client.next((frame) => frame.type === 'upload.completed' && frame.uploadId === uploadId)
    assert.equal(completed.channel, `upload:${uploadId}`)
    assert.deepEqual([completed.file.id, completed.file.size, completed.file.name], [response.json.file.id, content.length, 'progress.bin'])

    const onProject = client.messages.filter((frame) => frame.uploadId === uploadId && frame.channel === `project:${projectA}`)
    const progress = onProject.filter((frame) => frame.type === 'upload.progress')
    assert.ok(progress.length >= 2, `several progress messages (got ${progress.length})`)
    for (const frame of progress) assert.equal(frame.total, content.length)
    const bytes = progress.map((frame) => frame.bytes as number)
    assert.deepEqual(
      [...bytes].sort((x, y) => x - y),
      bytes,
      'bytes only grow',
    )
    assert.ok(bytes.every((count) => count > 0 && count <= content.length))
    assert.deepEqual(
      onProject.map((frame) => frame.type).filter((type, i, all) => type !== all[i - 1]),
      ['upload.progress', 'upload.verifying'],
      'the project channel sees the upload move; its outcome comes there as a domain event',
    )
    const onUpload = client.messages.filter((frame) => frame.channel === `upload:${uploadId}`).map((frame) => frame.type)
    assert.deepEqual(onUpload.slice(-2), ['upload.verifying', 'upload.completed'], 'verifying, then done, on the upload channel')
  })

  test('a streamed upload that fails reports the reason', async () => {
    const client = await connect(endpoint.url, bearer(keyA))
    await client.subscribe(`project:${projectA}`)
    const reference = `fail-${Date.now()}`
    const form = slowForm({ size: '5000', clientReference: reference }, 'short.bin', Buffer.alloc(1000, 1), 2, 300)
    const sent = api('POST', `/api/v1/files/upload?projectId=${projectA}`, {
      token: keyA,
      body: form.body,
      headers: { 'Content-Type': form.contentType },
    })
    const uploadId = await followUpload(client, reference)
    const response = await sent
    assert.equal(response.status, 400)
    const failed = await client.next((frame) => frame.type === 'upload.failed' && frame.uploadId === uploadId)
    assert.equal(failed.channel, `upload:${uploadId}`)
    assert.match(failed.reason, /length differs from the declared size/)
    const upload = await prisma.upload.findUniqueOrThrow({ where: { id: uploadId } })
    assert.equal(upload.status, 'FAILED')
  })

  test("recording a multipart part reports the upload's bytes so far on its own channel", async () => {
    const started = await initUpload(
      owner.actor,
      initUploadSchema.parse({
        projectId: projectA,
        fileName: 'big.bin',
        contentType: 'application/octet-stream',
        size: 10 * 1024 * 1024,
        multipart: true,
      }),
    )
    const client = await connect(endpoint.url, bearer(keyA))
    assert.equal((await client.subscribe(`upload:${started.uploadId}`)).type, 'subscribed')
    const recorded = await api('PUT', `/api/v1/uploads/${started.uploadId}/parts/1`, {
      token: keyA,
      body: { etag: '"part-1"', size: 8 * 1024 * 1024 },
    })
    assert.equal(recorded.status, 200, recorded.text)
    const progress = await client.next((frame) => frame.type === 'upload.progress')
    assert.deepEqual(
      { uploadId: progress.uploadId, bytes: progress.bytes, total: progress.total, channel: progress.channel },
      { uploadId: started.uploadId, bytes: 8 * 1024 * 1024, total: 10 * 1024 * 1024, channel: `upload:${started.uploadId}` },
    )
  })
})
