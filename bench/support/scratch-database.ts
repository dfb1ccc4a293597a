import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * A throwaway embedded PostgreSQL in a temporary directory, migrated, with the environment the app's
 * modules need pointing at it. Import app modules only after this resolves (they read the
 * environment once). `stop` shuts it down and removes the directory.
 */
export async function startScratchDatabase(label: string) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `carcosa-bench-${label}-`))
  const { startEmbeddedPostgres } = await import('../../app/utils/embedded-postgres.server')
  const database = await startEmbeddedPostgres({ dataDir, password: 'bench', database: `carcosa_bench_${label.replace(/\W/g, '_')}` })
  Object.assign(process.env, {
    DATABASE_URL: database.url,
    SESSION_SECRET: 'bench-session-secret-that-is-long-enough-0123',
    CREDENTIALS_ENCRYPTION_KEY: 'base64:Y2FyY29zYS10ZXN0LWNyZWRlbnRpYWxzLWtleS0zMmI=',
    LOG_LEVEL: 'warn',
  })
  const { applyMigrations } = await import('../../app/utils/migrate.server')
  await applyMigrations(database.url)
  return {
    url: database.url,
    async stop() {
      const { disconnectDatabase } = await import('../../app/utils/db.server')
      await disconnectDatabase().catch(() => {})
      await database.stop()
      await fs.rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** Percentiles of a list of milliseconds. */
export function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
  return { p50: at(50), p99: at(99), max: sorted[sorted.length - 1] ?? 0, n: sorted.length }
}

export const ms = (value: number) => `${value.toFixed(2)} ms`
