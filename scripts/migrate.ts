/**
 * `npm run db:migrate`: applies the committed migrations in prisma/migrations that the database has
 * not seen, then exits. With DATABASE_URL set it migrates that database; without it, the embedded
 * database in DATA_DIR (default ./.carcosa), started the same way `npm start` starts it (or shared with
 * the server running on it), and never a new one. Fly runs this as the release command, before new
 * machines take traffic.
 */
import { describeDatabaseUrl, prepareRuntime } from '../app/utils/boot.server'
import { ConfigError } from '../app/utils/config.server'
import { prepareJobStore } from '../app/services/jobs/job-store.server'
import { applyMigrations, readMigrations } from '../app/utils/migrate.server'

const log = { info: (message: string) => console.log(message), warn: (message: string) => console.warn(`warning: ${message}`) }

async function main() {
  const known = await readMigrations()
  let applied: string[]
  if (process.env.DATABASE_URL) {
    // Migrating needs the database only: no session secret, no data directory.
    console.log(`db:migrate: DATABASE_URL ${describeDatabaseUrl(process.env.DATABASE_URL)}`)
    applied = await applyMigrations(process.env.DATABASE_URL, { log: log.info })
    await prepareJobStore(process.env.DATABASE_URL)
  } else {
    // Never a new cluster: one nobody else uses would be a second, silent database.
    const runtime = await prepareRuntime(log, { createDatabase: false })
    console.log(`db:migrate: ${runtime.database}`)
    applied = runtime.appliedMigrations
    await prepareJobStore(runtime.databaseUrl).finally(() => runtime.stop())
  }
  console.log(
    applied.length > 0
      ? `db:migrate: applied ${applied.length} migration${applied.length === 1 ? '' : 's'}; ${known.length} in total`
      : `db:migrate: the database is up to date (${known.length} migration${known.length === 1 ? '' : 's'})`,
  )
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.problems.join('; ')
  // A refused connection to a host with several addresses is an AggregateError with no message.
  if (error instanceof AggregateError && !error.message) return error.errors.map(describe).join('; ')
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name
  return String(error)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`db:migrate failed: ${describe(error)}`)
    process.exit(1)
  },
)
