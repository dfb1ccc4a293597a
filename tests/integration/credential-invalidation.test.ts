/**
 * Resolved API keys and access tokens are held in memory for a few seconds per instance; a change
 * made on one instance must reach the others' memory at once (ADR 019). Two real processes on this
 * file's database: PostgreSQL LISTEN/NOTIFY, and Redis pub/sub when TEST_REDIS_URL is set.
 */
import { testDatabaseUrl } from '../support/test-database'
import assert from 'node:assert/strict'
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { after, describe, test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { prisma } from '~/utils/db.server'
import type { PeerRequest } from '../support/credential-peer'
import { createTestApiKey, createWorkspace, testMeta } from '../support/factories'

const PEER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'credential-peer.ts')
// Longer than any test here: only an invalidation can explain a refusal, never the cache's expiry.
const CACHE_SECONDS = '60'
const POLL_LIMIT_MS = 5_000

interface Peer {
  ask(request: PeerRequest): Promise<unknown>
  child: ChildProcess
}

/** A peer's answer to `authenticate`. */
interface AuthAnswer {
  actor: { type: string; permissions?: string[]; overrides?: Record<string, number>; userId?: string } | null
  statements: number
}
const authenticate = (peer: Peer, token: string) => peer.ask({ op: 'authenticate', token }) as Promise<AuthAnswer>

const peers: Peer[] = []
after(async () => {
  for (const peer of peers) {
    if (peer.child.exitCode !== null) continue
    await Promise.race([peer.ask({ op: 'stop' }), new Promise((resolve) => setTimeout(resolve, 5_000))]).catch(() => {})
    peer.child.kill('SIGKILL')
  }
})

async function startPeer(redisUrl: string | undefined): Promise<Peer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: testDatabaseUrl,
    API_CREDENTIAL_CACHE_SECONDS: CACHE_SECONDS,
    LOG_LEVEL: 'error',
  }
  delete env.REDIS_URL
  if (redisUrl) env.REDIS_URL = redisUrl
  const child = fork(PEER, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let started!: () => void
  const ready = new Promise<void>((resolve) => (started = resolve))
  child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    if (message.id === 0) return started()
    const waiting = pending.get(message.id)
    pending.delete(message.id)
    if (message.error !== undefined) waiting?.reject(new Error(message.error))
    else waiting?.resolve(message.result)
  })
  let next = 1
  const peer: Peer = {
    child,
    ask: (request) =>
      new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve, reject })
        child.send({ id, request })
      }),
  }
  peers.push(peer)
  await ready
  assert.equal(await peer.ask({ op: 'ready' }), true, 'the peer listens on the invalidation bus')
  return peer
}

/** Authenticates on `peer` until `done` holds for its answer; returns how long that took. */
async function until(peer: Peer, token: string, done: (answer: AuthAnswer) => boolean): Promise<number> {
  const start = Date.now()
  for (;;) {
    const answer = await authenticate(peer, token)
    if (done(answer)) return Date.now() - start
    if (Date.now() - start > POLL_LIMIT_MS) assert.fail(`still ${JSON.stringify(answer)} after ${POLL_LIMIT_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Authenticates twice on `peer`: the second answer must come from memory (no statement). */
async function heldInMemory(peer: Peer, token: string) {
  const first = await authenticate(peer, token)
  assert.ok(first.actor, 'the credential is valid')
  const second = await authenticate(peer, token)
  assert.deepEqual(second, { ...first, statements: 0 }, 'the second call is answered from memory')
  return second
}

function scenarios(transport: string, redisUrl: string | undefined, skip: string | false) {
  describe(`across two instances (${transport})`, { skip }, () => {
    test(
      'revoking, narrowing a key and changing its project limits on one instance reach the other at once',
      { timeout: 90_000 },
      async (t: TestContext) => {
        const [changer, reader] = await Promise.all([startPeer(redisUrl), startPeer(redisUrl)])
        const { owner, project } = await createWorkspace()
        const { apiKey, key } = await createTestApiKey(owner.actor, project.id, ['files:read', 'files:write'])

        await heldInMemory(reader!, key)
        await changer!.ask({ op: 'update-key', userId: owner.user.id, apiKeyId: apiKey.id, permissions: ['files:read'] })
        const narrowed = await until(reader!, key, (answer) => answer.actor?.permissions?.length === 1)

        await heldInMemory(reader!, key)
        await changer!.ask({ op: 'set-overrides', userId: owner.user.id, projectId: project.id, overrides: { READ: 42 } })
        const limited = await until(reader!, key, (answer) => answer.actor?.overrides?.READ === 42)

        await heldInMemory(reader!, key)
        await changer!.ask({ op: 'revoke', userId: owner.user.id, apiKeyId: apiKey.id })
        const refused = await until(reader!, key, (answer) => answer.actor === null)
        t.diagnostic(`seen by the other instance after: narrowed ${narrowed} ms, limits ${limited} ms, revoked ${refused} ms`)
      },
    )

    test('signing out on one instance refuses the access token on the other at once', { timeout: 90_000 }, async (t: TestContext) => {
      const [changer, reader] = await Promise.all([startPeer(redisUrl), startPeer(redisUrl)])
      const { owner } = await createWorkspace()
      const tokens = await issueTokens(owner.user.id, testMeta())
      await heldInMemory(reader!, tokens.accessToken)
      await changer!.ask({ op: 'logout', userId: owner.user.id, accessToken: tokens.accessToken })
      const refused = await until(reader!, tokens.accessToken, (answer) => answer.actor === null)
      t.diagnostic(`refused by the other instance after ${refused} ms`)
    })
  })
}

scenarios('PostgreSQL LISTEN/NOTIFY', undefined, false)

describe('a database restart', () => {
  test('every connection of the instances dropped: they stay up, listen again and still hear revocations', { timeout: 90_000 }, async () => {
    const [changer, reader] = await Promise.all([startPeer(undefined), startPeer(undefined)])
    const { owner, project } = await createWorkspace()
    const { apiKey, key } = await createTestApiKey(owner.actor, project.id, ['files:read'])
    await heldInMemory(reader!, key)

    const [readerBefore, changerBefore] = [await reader!.ask({ op: 'bus-transitions' }), await changer!.ask({ op: 'bus-transitions' })]
    // What a restart does to clients: every server process of this database ends its connection.
    await prisma.$queryRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
    assert.equal(await reader!.ask({ op: 'reconnected', after: readerBefore as number }), true, 'the reader lost the bus and listens again')
    assert.equal(await changer!.ask({ op: 'reconnected', after: changerBefore as number }), true, 'the changer lost the bus and listens again')
    assert.equal(reader!.child.exitCode, null)

    await heldInMemory(reader!, key)
    await changer!.ask({ op: 'revoke', userId: owner.user.id, apiKeyId: apiKey.id })
    await until(reader!, key, (answer) => answer.actor === null)
  })
})
const redisUrl = process.env.TEST_REDIS_URL
scenarios('Redis pub/sub', redisUrl, redisUrl ? false : 'TEST_REDIS_URL is not set: the Redis transport is not tested')
