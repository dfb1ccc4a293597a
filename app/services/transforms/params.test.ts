import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { canonicalQuery, paramsFromObject, parseTransformQuery, TransformParamsError } from './params'

const parse = (query: string) => parseTransformQuery(new URLSearchParams(query))
const errorsOf = (query: string) => {
  try {
    parse(query)
  } catch (error) {
    if (error instanceof TransformParamsError) return error.errors
    throw error
  }
  assert.fail(`${query} should be refused`)
}

describe('transform parameters', () => {
  test('parse every parameter to its typed value; aliases map to one name', () => {
    assert.deepEqual(
      parse(
        'w=300&height=200&fit=contain&fm=webp&q=80&dpr=1.5&gravity=attention&blur=2&sharpen=1.25&rotate=90&flip=true&flop=0&background=%23FFF&preset=thumb',
      ).params,
      {
        w: 300,
        h: 200,
        fit: 'contain',
        format: 'webp',
        quality: 80,
        dpr: 1.5,
        position: 'attention',
        blur: 2,
        sharpen: 1.25,
        rotate: 90,
        flip: true,
        flop: false,
        background: 'ffffff',
        preset: 'thumb',
      },
    )
  })

  test('one spelling per value: signs, leading zeros, trailing zeros and exponents are refused', () => {
    for (const bad of ['w=+10', 'w=010', 'w=1e2', 'w=10.0', 'dpr=1.50', 'dpr=2.', 'quality= 80', 'flip=yes', 'rotate=45', 'background=red']) {
      assert.ok(Object.keys(errorsOf(bad)).length === 1, bad)
    }
  })

  test('bounds and combinations are checked, each error under its parameter', () => {
    assert.deepEqual(Object.keys(errorsOf('w=0&h=4097&quality=0&dpr=5&blur=0.1&unknown=1')).sort(), [
      'blur',
      'dpr',
      'h',
      'quality',
      'unknown',
      'w',
    ])
    assert.match(errorsOf('w=2049&dpr=2').w![0]!, /at most 4096/)
    assert.ok(errorsOf('fit=cover').fit)
    assert.ok(errorsOf('w=1&w=2').w)
    assert.ok(errorsOf('w=1&width=2').width)
  })

  test('the signature must come once, last, with an expiry', () => {
    const sig = 'A'.repeat(43)
    assert.deepEqual(parse(`w=1&exp=2000000000&sig=${sig}`), { params: { w: 1 }, signature: sig, expires: 2000000000 })
    assert.ok(errorsOf(`sig=${sig}&w=1&exp=2000000000`).sig)
    assert.ok(errorsOf(`w=1&exp=2000000000&sig=${sig}&sig=${sig}`).sig)
    assert.ok(errorsOf(`w=1&sig=${sig}`).exp)
    assert.ok(errorsOf('w=1&exp=2000000000').exp)
    assert.ok(errorsOf('w=1&exp=2000000000&sig=short').sig)
  })

  test('the canonical query is sorted, leaves out false flags, and is the same for equivalent URLs', () => {
    const a = canonicalQuery(parse('w=10&format=webp&flip=false&background=FFF').params, 5)
    assert.equal(a, 'background=ffffff&exp=5&format=webp&w=10')
  })

  test('objects (presets, the sign API) go through the same parsers', () => {
    assert.deepEqual(paramsFromObject({ w: 300, flip: true, format: 'png' }, { allowPreset: false }), { w: 300, flip: true, format: 'png' })
    assert.throws(() => paramsFromObject({ preset: 'x' }, { allowPreset: false }), TransformParamsError)
    assert.throws(() => paramsFromObject({ sig: 'x' }, { allowPreset: true }), TransformParamsError)
  })
})
