/** The router's types reach the hooks and components: test/types/typed-components.tsx must compile, its deliberate mistakes must not. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

test('typed hooks and components: correct uses compile and every @ts-expect-error line is an error', () => {
  const tsc = path.resolve(PACKAGE, '..', '..', 'node_modules', '.bin', 'tsc')
  const result = spawnSync(tsc, ['-p', path.join(PACKAGE, 'test', 'types', 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(result.status, 0, `tsc failed:\n${result.stdout}${result.stderr}`)
})
