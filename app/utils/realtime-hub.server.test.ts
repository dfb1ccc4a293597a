import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { createRealtimeHub, REALTIME_MAX_MESSAGE_BYTES, type RealtimeDelivery, type RealtimeHub } from './realtime-hub.server'

function collector() {
  const received: RealtimeDelivery[] = []
  const listener = (delivery: RealtimeDelivery) => void received.push(delivery)
  /** Resolves once `count` deliveries arrived (rejects after `ms`). */
  const waitFor = (count: number, ms = 3_000) =>
    new Promise<RealtimeDelivery[]>((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        if (received.length >= count) return resolve(received)
        if (Date.now() - started > ms) return reject(new Error(`got ${received.length} of ${count} deliveries`))
        setTimeout(check, 5)
      }
      check()
    })
  return { received, listener, waitFor }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100))

describe('realtime hub in one process', () => {
  test('fans a message out to every subscriber of its channel only, with a frame naming the channel', async () => {
    const hub = createRealtimeHub()
    const first = collector()
    const second = collector()
    const other = collector()
    hub.subscribe('project:p1', first.listener)
    hub.subscribe('project:p1', second.listener)
    hub.subscribe('project:p2', other.listener)
    hub.publish('project:p1', { type: 'file.uploaded', data: { id: 'f1' } })
    assert.equal(first.received.length, 1)
    assert.equal(second.received.length, 1)
    assert.equal(other.received.length, 0)
    assert.deepEqual(JSON.parse(first.received[0]!.frame), { type: 'file.uploaded', data: { id: 'f1' }, channel: 'project:p1' })
    assert.equal(first.received[0]!.frame, second.received[0]!.frame)
    // Encoded once for every receiver: the same bytes, not a copy each.
    assert.equal(first.received[0]!.frameBytes, second.received[0]!.frameBytes)
    assert.equal(first.received[0]!.frameBytes.toString('utf8'), first.received[0]!.frame)
    await hub.close()
  })

  test('unsubscribing stops deliveries and forgets a channel without subscribers', async () => {
    const hub = createRealtimeHub()
    const kept = collector()
    const dropped = collector()
    hub.subscribe('upload:u1', kept.listener)
    const subscription = hub.subscribe('upload:u1', dropped.listener)
    await subscription.ready
    subscription.unsubscribe()
    subscription.unsubscribe() // twice is harmless
    hub.publish('upload:u1', { type: 'upload.progress', bytes: 1, total: 2 })
    assert.equal(kept.received.length, 1)
    assert.equal(dropped.received.length, 0)
    assert.equal(hub.channelCount(), 1)
    const last = hub.subscribe('upload:u2', kept.listener)
    assert.equal(hub.channelCount(), 2)
    last.unsubscribe()
    assert.equal(hub.channelCount(), 1)
    await hub.close()
  })

  test('a failing listener does not keep the message from the others', async () => {
    const hub = createRealtimeHub()
    const healthy = collector()
    hub.subscribe('project:p1', () => {
      throw new Error('listener bug')
    })
    hub.subscribe('project:p1', healthy.listener)
    assert.doesNotThrow(() => hub.publish('project:p1', { type: 'x.y' }))
    assert.equal(healthy.received.length, 1)
    await hub.close()
  })

  test('refuses bad channels and messages without throwing at the publisher', async () => {
    const hub = createRealtimeHub()
    const seen = collector()
    hub.subscribe('project:p1', seen.listener)
    hub.publish('project:p1', { type: '' })
    hub.publish('project:p1', { type: 'big', blob: 'x'.repeat(REALTIME_MAX_MESSAGE_BYTES) })
    hub.publish('project:p1', {
      type: 'cyclic',
      self: (() => {
        const o: Record<string, unknown> = {}
        o.o = o
        return o
      })(),
    })
    hub.publish('Project:../p1', { type: 'x.y' })
    hub.publish('project:p1', null as never)
    assert.equal(seen.received.length, 0)
    assert.throws(() => hub.subscribe('project:', seen.listener), RangeError)
    assert.throws(() => hub.subscribe('project:a b', seen.listener), RangeError)
    await hub.close()
  })

  test('after close nothing is delivered', async () => {
    const hub = createRealtimeHub()
    const seen = collector()
    hub.subscribe('project:p1', seen.listener)
    await hub.close()
    hub.publish('project:p1', { type: 'x.y' })
    assert.equal(seen.received.length, 0)
  })
})

describe('realtime hub with an unreachable Redis', () => {
  test('still serves its own subscribers, settles ready, and warns', { timeout: 10_000 }, async () => {
    const warnings: string[] = []
    const hub = createRealtimeHub({ redisUrl: 'redis://127.0.0.1:1', log: (message) => warnings.push(message) })
    try {
      const seen = collector()
      const subscription = hub.subscribe('project:p1', seen.listener)
      hub.publish('project:p1', { type: 'file.uploaded' })
      assert.equal(seen.received.length, 1, 'delivered locally at once')
      await subscription.ready // settles (after the connect timeout at most) instead of hanging
      await settle()
      assert.ok(warnings.length >= 1)
      assert.match(warnings.join('\n'), /Redis .*unavailable/)
    } finally {
      await hub.close()
    }
  })
})

const redisUrl = process.env.TEST_REDIS_URL
const skipRedis: string | false = redisUrl ? false : 'TEST_REDIS_URL is not set: Redis realtime hub tests not run'

describe('realtime hub across instances through Redis', { skip: skipRedis }, () => {
  const prefix = `test-${randomBytes(4).toString('hex')}:realtime:`
  const hubs: RealtimeHub[] = []
  const warnings: string[] = []
  let admin: Redis | undefined
  const makeHub = () => {
    const hub = createRealtimeHub({ redisUrl, redisPrefix: prefix, log: (message) => warnings.push(message) })
    hubs.push(hub)
    return hub
  }
  after(async () => {
    await Promise.all(hubs.map((hub) => hub.close()))
    await admin?.quit()
    assert.deepEqual(warnings, [], 'Redis answered throughout')
  })

  test('a message published on one instance reaches subscribers on the others, and each exactly once', async () => {
    const a = makeHub()
    const b = makeHub()
    const onA = collector()
    const onB = collector()
    await Promise.all([a.subscribe('project:shared', onA.listener).ready, b.subscribe('project:shared', onB.listener).ready])
    a.publish('project:shared', { type: 'file.uploaded', data: { id: 'f1' } })
    b.publish('project:shared', { type: 'file.deleted', data: { id: 'f1' } })
    await onA.waitFor(2)
    await onB.waitFor(2)
    await settle()
    assert.deepEqual(onA.received.map((d) => d.message.type).sort(), ['file.deleted', 'file.uploaded'])
    assert.deepEqual(onB.received.map((d) => d.message.type).sort(), ['file.deleted', 'file.uploaded'])
    assert.deepEqual(JSON.parse(onB.received.find((d) => d.message.type === 'file.uploaded')!.frame), {
      type: 'file.uploaded',
      data: { id: 'f1' },
      channel: 'project:shared',
    })
  })

  test('an instance subscribes in Redis only to channels it has subscribers for, and leaves them', async () => {
    admin ??= new Redis(redisUrl!)
    const hub = makeHub()
    const numsub = async (channel: string) => Number(((await admin!.pubsub('NUMSUB', `${prefix}${channel}`)) as [string, number])[1])
    const subscription = hub.subscribe('upload:u-redis', () => {})
    await subscription.ready
    assert.equal(await numsub('upload:u-redis'), 1)
    assert.equal(await numsub('upload:nobody'), 0)
    subscription.unsubscribe()
    for (let i = 0; i < 50 && (await numsub('upload:u-redis')) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(await numsub('upload:u-redis'), 0)
  })

  test('a message from another instance that does not parse is ignored', async () => {
    admin ??= new Redis(redisUrl!)
    const hub = makeHub()
    const seen = collector()
    await hub.subscribe('project:garbage', seen.listener).ready
    const warned = warnings.length
    await admin.publish(`${prefix}project:garbage`, 'not json')
    await admin.publish(`${prefix}project:garbage`, JSON.stringify({ origin: 'elsewhere', message: { type: 'ok.fine' } }))
    await seen.waitFor(1)
    assert.equal(seen.received.length, 1)
    assert.equal(seen.received[0]!.message.type, 'ok.fine')
    // The unreadable one was reported; clear it so the suite's no-warning check covers the rest.
    assert.equal(warnings.length, warned + 1)
    warnings.splice(warned, 1)
  })
})
