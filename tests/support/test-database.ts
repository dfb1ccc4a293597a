/**
 * Import this first in an integration test file: it clones a fresh database from the migrated
 * template that `npm test` prepares, and points DATABASE_URL at it before the app's modules load.
 */
import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import pg from 'pg'

const adminUrl = process.env.TEST_DATABASE_ADMIN_URL
const template = process.env.TEST_DATABASE_TEMPLATE
if (!adminUrl || !template) {
  throw new Error('Run integration tests through `npm test`: it starts the test database (TEST_DATABASE_ADMIN_URL is unset)')
}

const name = `test_${randomBytes(6).toString('hex')}`
const admin = new pg.Client({ connectionString: adminUrl })
await admin.connect()
// Two files cloning at once would both connect to the template; CREATE DATABASE needs it idle.
await admin.query('SELECT pg_advisory_lock(4242)')
try {
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`)
} finally {
  await admin.query('SELECT pg_advisory_unlock(4242)')
  await admin.end()
}

const url = new URL(adminUrl)
url.pathname = `/${name}`
process.env.DATABASE_URL = url.toString()
process.env.SESSION_SECRET ??= 'test-session-secret-that-is-long-enough-0123456789'
process.env.CREDENTIALS_ENCRYPTION_KEY ??= 'base64:Y2FyY29zYS10ZXN0LWNyZWRlbnRpYWxzLWtleS0zMmI='
process.env.NODE_ENV ??= 'test'

export const testDatabaseUrl = url.toString()

// The pool and the invalidation bus would otherwise keep the file's process alive.
after(async () => {
  const { closeInvalidationBus } = await import('../../app/utils/invalidation-bus.server')
  const { disconnectDatabase } = await import('../../app/utils/db.server')
  await closeInvalidationBus()
  await disconnectDatabase()
})
