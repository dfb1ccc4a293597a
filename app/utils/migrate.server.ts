import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'

// Any constant shared by every Carcosa instance: only one applies migrations at a time.
const MIGRATION_LOCK_ID = 7_277_216_300

const BOOKKEEPING_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

export const MIGRATIONS_DIR = path.resolve('prisma', 'migrations')

interface Migration {
  name: string
  sql: string
  checksum: string
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true })
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
  return Promise.all(
    names.map(async (name) => {
      const sql = await fs.readFile(path.join(dir, name, 'migration.sql'), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    }),
  )
}

/**
 * Applies committed migrations that the database has not seen, each in its own transaction, under
 * an advisory lock, keeping Prisma's `_prisma_migrations` bookkeeping so `prisma migrate status`
 * agrees. Returns the names applied.
 */
export async function applyMigrations(databaseUrl: string, options: { dir?: string; log?: (message: string) => void } = {}): Promise<string[]> {
  const migrations = await readMigrations(options.dir)
  const client = new pg.Client({ connectionString: databaseUrl })
  // A terminated connection fails the awaited query; its 'error' event must not end the process.
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID])
    await client.query(BOOKKEEPING_TABLE)
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    )
    const failed = rows.find((row) => row.finished_at === null)
    if (failed) {
      throw new Error(
        `migration ${failed.migration_name} failed earlier and was not rolled back; resolve it (prisma migrate resolve) before starting`,
      )
    }
    const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]))
    const done: string[] = []
    for (const migration of migrations) {
      const checksum = applied.get(migration.name)
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          options.log?.(`migration ${migration.name} was changed after it was applied (checksum differs)`)
        }
        continue
      }
      await client.query('BEGIN')
      try {
        await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())', [
          randomUUID(),
          migration.checksum,
          migration.name,
        ])
        await client.query(migration.sql)
        await client.query(
          'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE migration_name = $1 AND finished_at IS NULL',
          [migration.name],
        )
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error })
      }
      options.log?.(`applied migration ${migration.name}`)
      done.push(migration.name)
    }
    return done
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {})
    await client.end()
  }
}
