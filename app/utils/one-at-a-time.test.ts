import assert from 'node:assert/strict'
import { test } from 'node:test'
import { oneAtATime } from './one-at-a-time'

test('calls with one key run one after another, others side by side, and a failure does not stop the next', async () => {
  const run = oneAtATime()
  const order: string[] = []
  const step =
    (name: string, ms: number, fail = false) =>
    async () => {
      order.push(`${name} start`)
      await new Promise((resolve) => setTimeout(resolve, ms))
      order.push(`${name} end`)
      if (fail) throw new Error(name)
      return name
    }
  const results = await Promise.allSettled([run('a', step('a1', 20, true)), run('a', step('a2', 1)), run('b', step('b1', 5))])
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a1', 'a2', 'b1'],
  )
  assert.ok(order.indexOf('a2 start') > order.indexOf('a1 end'), 'the second call of a key waits for the first')
  assert.ok(order.indexOf('b1 start') < order.indexOf('a1 end'), 'another key does not wait')
})
