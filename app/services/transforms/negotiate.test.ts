import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chooseFormat } from './negotiate'

test('an explicit format wins and does not vary; auto prefers AVIF, then WebP, then the source format', () => {
  assert.deepEqual(chooseFormat('png', 'image/avif', 'image/jpeg'), { format: 'png', negotiated: false })
  assert.deepEqual(chooseFormat('auto', 'image/avif,image/webp,*/*', 'image/jpeg'), { format: 'avif', negotiated: true })
  assert.deepEqual(chooseFormat(undefined, 'image/webp,*/*;q=0.8', 'image/jpeg'), { format: 'webp', negotiated: true })
  assert.deepEqual(chooseFormat(undefined, 'image/avif;q=0, image/webp;q=0.5', 'image/png'), { format: 'webp', negotiated: true })
  assert.deepEqual(chooseFormat(undefined, '*/*', 'image/jpeg'), { format: 'jpeg', negotiated: true })
  assert.deepEqual(chooseFormat(undefined, null, 'image/png'), { format: 'png', negotiated: true })
  assert.deepEqual(chooseFormat(undefined, 'image/jpeg', 'image/webp'), { format: 'png', negotiated: true })
})
