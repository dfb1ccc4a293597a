import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EXPIRY_PARAM, PARAM_NAMES, SIGNATURE_PARAM } from '~/services/transforms/params'
import { transformQueryDocumentation } from './transform-endpoint.server'

test('the documented transform query names exactly the parameters the parser reads', () => {
  assert.deepEqual(Object.keys(transformQueryDocumentation.shape).sort(), [...PARAM_NAMES, EXPIRY_PARAM, SIGNATURE_PARAM].sort())
})
