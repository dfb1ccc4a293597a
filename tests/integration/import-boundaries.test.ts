import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ESLint } from 'eslint'

// The project's own eslint.config.js, applied to code placed (virtually) in each room.
const eslint = new ESLint({ cwd: process.cwd() })

async function refusedImports(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('import boundaries', () => {
  test('routes do not import the database client or the generated Prisma client', async () => {
    const route = 'app/routes/orgs.$org.example.tsx'
    for (const source of [
      '~/utils/db.server',
      '../utils/db.server',
      '~/generated/prisma/client',
      '../generated/prisma/enums',
      '@prisma/client',
    ]) {
      const messages = await refusedImports(route, `import { x } from '${source}'\nexport const y = x\n`)
      assert.equal(messages.length, 1, source)
      assert.match(messages[0]!, /call a service/)
    }
    assert.deepEqual(await refusedImports(route, `import { listFiles } from '~/services/files/files.server'\nexport const y = listFiles\n`), [])
  })

  test('app/utils does not import app/services, type-only imports included', async () => {
    for (const code of [`import { signIn } from '~/services/accounts/sign-in.server'`, `import type { Actor } from '../services/actor'`]) {
      const messages = await refusedImports('app/utils/example.server.ts', `${code}\nexport type Y = unknown\nvoid 0\n`)
      assert.equal(messages.length, 1, code)
    }
    assert.deepEqual(
      await refusedImports('app/utils/example.server.ts', `import { getConfig } from './config.server'\nexport const y = getConfig\n`),
      [],
    )
  })

  test('app/storage imports nothing of the app', async () => {
    for (const source of ['~/utils/logger.server', '../utils/db.server', '../services/actor']) {
      assert.equal(
        (await refusedImports('app/storage/example.server.ts', `import { x } from '${source}'\nexport const y = x\n`)).length,
        1,
        source,
      )
    }
    assert.deepEqual(await refusedImports('app/storage/example.server.ts', `import { x } from './storage-adapter'\nexport const y = x\n`), [])
  })

  test('packages never import app/', async () => {
    for (const source of ['~/services/actor', '../../../app/services/actor']) {
      assert.equal(
        (await refusedImports('packages/sdk/src/example.ts', `import { x } from '${source}'\nexport const y = x\n`)).length,
        1,
        source,
      )
    }
  })
})
