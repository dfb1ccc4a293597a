/** Which URLs CarcosaImage asks for: srcset widths and descriptors, aspect ratios, placeholders. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_DEVICE_SIZES, imageWidths, planImage, srcSetOf, variantKey } from './image-variants.js'

describe('srcset widths', () => {
  test('a fixed width gets 1x and 2x at exact multiples, with the height kept in proportion', () => {
    const plan = planImage({ src: 'a/cat.jpg', width: 300, height: 200, fit: 'cover' })
    assert.deepEqual(
      plan.variants.map((v) => [v.params.w, v.params.h, v.descriptor]),
      [
        [300, 200, '1x'],
        [600, 400, '2x'],
      ],
    )
    assert.equal(plan.srcIndex, 0)
    assert.equal(plan.sizes, undefined)
    assert.equal(srcSetOf(plan, ['u1', 'u2']), 'u1 1x, u2 2x')
  })

  test('sizes with vw keeps the breakpoints the smallest share of the viewport could use', () => {
    const { widths, kind } = imageWidths({ width: 320, sizes: '(min-width: 960px) 320px, 50vw' })
    assert.equal(kind, 'w')
    // 50% of the smallest device width (640) is 320: nothing narrower is ever chosen.
    assert.deepEqual(widths, [384, ...DEFAULT_DEVICE_SIZES])
    const plan = planImage({ src: 'p.png', width: 320, height: 240, sizes: '50vw' })
    assert.equal(plan.srcIndex, plan.variants.length - 1)
    assert.deepEqual(plan.variants[0]!.params, { w: 384, h: 288 })
    assert.equal(plan.variants[0]!.descriptor, '384w')
  })

  test('sizes without vw uses every width; fill without sizes spans the viewport', () => {
    assert.equal(imageWidths({ sizes: '320px' }).widths[0], 16)
    const plan = planImage({ src: 'p.png', fill: true })
    assert.equal(plan.sizes, '100vw')
    assert.deepEqual(
      plan.variants.map((v) => v.params.w),
      DEFAULT_DEVICE_SIZES,
    )
    assert.ok(
      plan.variants.every((v) => v.params.h === undefined),
      'fill keeps the source aspect ratio',
    )
  })

  test('custom breakpoints are used, and nothing beyond what Carcosa renders (4096 px)', () => {
    assert.deepEqual(imageWidths({ fill: true }, { deviceSizes: [500, 1000, 5000] }).widths, [500, 1000])
    assert.deepEqual(imageWidths({ width: 3000 }).widths, [3000, 4096])
  })

  test('quality, format and fit go to every variant; format auto is left to Carcosa', () => {
    const plan = planImage({ src: 'p.png', width: 100, quality: 70, format: 'webp', fit: 'contain' })
    assert.deepEqual(plan.variants[0]!.params, { quality: 70, format: 'webp', fit: 'contain', w: 100 })
    assert.equal(planImage({ src: 'p.png', width: 100, format: 'auto' }).variants[0]!.params.format, undefined)
  })

  test('the blur placeholder is a tiny variant in the same aspect ratio', () => {
    const plan = planImage({ src: 'p.png', width: 320, height: 240, placeholder: 'blur' })
    assert.deepEqual(plan.blur?.params, { w: 16, h: 12, format: 'webp', quality: 40 })
    assert.equal(planImage({ src: 'p.png', width: 320 }).blur, undefined)
  })

  test('a missing size or a bad quality is refused with a message', () => {
    assert.throws(() => planImage({ src: 'p.png' }), /give width \(and height\), or fill/)
    assert.throws(() => planImage({ src: 'p.png', width: 10, quality: 0 }), /quality must be a whole number from 1 to 100/)
    assert.throws(() => planImage({ src: '', width: 10 }), /needs src/)
  })
})

test('variant keys name the path and sorted parameters, whatever their order', () => {
  assert.equal(variantKey({ path: 'a/b.png', params: { w: 10, format: 'webp', h: 5 } }), 'a/b.png?format=webp&h=5&w=10')
  assert.equal(
    variantKey({ path: 'a/b.png', params: { h: 5, w: 10, format: 'webp' } }),
    variantKey({ path: 'a/b.png', params: { w: 10, format: 'webp', h: 5 } }),
  )
})
