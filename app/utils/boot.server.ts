import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ConfigError, SECRET_VARIABLES, parseConfig, type Config } from './config.server'
import { applyMigrations } from './migrate.server'

export interface Runtime {
  config: Config
  databaseUrl: string
  /** Which database this is, for people: the embedded cluster's directory or DATABASE_URL's host and name. */
  database: string
  /** Names of the migrations this start applied (empty when the database was up to date). */
  appliedMigrations: string[]
  /** Stops what prepareRuntime started (the embedded database, if any). */
  stop(): Promise<void>
}

type Log = (message: string) => void

interface RuntimeOptions {
  /**
   * False for tools (db:seed, db:migrate): with no embedded cluster in DATA_DIR they stop with a
   * message instead of creating a second database that no server uses.
   */
  createDatabase?: boolean
}

/**
 * Everything that must happen before the app can serve: development secrets, configuration,
 * the database (embedded unless DATABASE_URL is set) and migrations. Sets process.env so the app
 * modules read the same values.
 */
export async function prepareRuntime(log: { info: Log; warn: Log }, options: RuntimeOptions = {}): Promise<Runtime> {
  const isProduction = process.env.NODE_ENV === 'production'
  const dataDir = path.resolve(process.env.DATA_DIR || '.carcosa')
  if (!process.env.DATABASE_URL && options.createDatabase === false) await requireEmbeddedCluster(dataDir)

  if (isProduction) {
    const missing = SECRET_VARIABLES.filter((name) => !process.env[name])
    if (missing.length > 0) {
      throw new ConfigError(missing.map((name) => `${name} is required in production (generated development secrets are never used there)`))
    }
  }

  const missingSecrets = SECRET_VARIABLES.filter((name) => !process.env[name])
  const useEmbedded = !process.env.DATABASE_URL
  const wanted = [...missingSecrets, ...(useEmbedded ? ['EMBEDDED_POSTGRES_PASSWORD'] : [])]
  const stored = wanted.length > 0 ? await loadStoredSecrets(dataDir, wanted) : {}
  for (const name of missingSecrets) process.env[name] = stored[name]
  if (missingSecrets.length > 0) {
    log.warn(
      `using generated development secrets (${missingSecrets.join(', ')}) from ${path.join(dataDir, 'secrets.json')}; ` +
        'set them in the environment before deploying',
    )
  }

  const config = parseConfig(process.env)

  let stopDatabase = async () => {}
  let database = config.DATABASE_URL ? `DATABASE_URL ${describeDatabaseUrl(config.DATABASE_URL)}` : ''
  if (!config.DATABASE_URL) {
    const { startEmbeddedPostgres } = await import('./embedded-postgres.server')
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.DATA_DIR, 'postgres'),
      password: stored.EMBEDDED_POSTGRES_PASSWORD as string,
      database: 'carcosa',
      create: options.createDatabase,
      log: log.info,
    })
    process.env.DATABASE_URL = embedded.url
    stopDatabase = embedded.stop
    database =
      `the embedded PostgreSQL in ${embedded.directory}` +
      (embedded.sharedWith ? ` (already running, pid ${embedded.sharedWith})` : ` (DATA_DIR ${config.DATA_DIR})`)
    log.info(`embedded PostgreSQL running in ${embedded.directory}`)
  }
  const databaseUrl = process.env.DATABASE_URL as string

  let appliedMigrations: string[]
  try {
    appliedMigrations = await applyMigrations(databaseUrl, { log: log.info })
  } catch (error) {
    await stopDatabase()
    throw error
  }
  return { config: { ...config, DATABASE_URL: databaseUrl }, databaseUrl, database, appliedMigrations, stop: stopDatabase }
}

/** host:port/database, without credentials. */
export function describeDatabaseUrl(url: string) {
  try {
    const parsed = new URL(url)
    return `${parsed.host}${parsed.pathname}`
  } catch {
    return '(not a valid URL)'
  }
}

async function requireEmbeddedCluster(dataDir: string) {
  const { embeddedClusterDirectory } = await import('./embedded-postgres.server')
  const clusterDir = await embeddedClusterDirectory(path.join(dataDir, 'postgres'))
  const found = await fs.access(path.join(clusterDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  )
  if (!found) {
    throw new Error(
      `no embedded database in DATA_DIR ${dataDir} (${clusterDir}): set DATA_DIR to the server's data directory ` +
        'or DATABASE_URL to its database, or start Carcosa once there (npm start)',
    )
  }
}

function generateSecret(name: string): string {
  // The credentials key is a libsodium key, written the way operators write theirs.
  if (name === 'CREDENTIALS_ENCRYPTION_KEY') return `base64:${randomBytes(32).toString('base64')}`
  return randomBytes(32).toString('base64url')
}

/**
 * Secrets Carcosa keeps for itself in DATA_DIR/secrets.json (mode 0600): generated development
 * secrets and the embedded database's password. Creates whichever of `names` the file lacks.
 */
async function loadStoredSecrets(dataDir: string, names: string[]): Promise<Record<string, string>> {
  const file = path.join(dataDir, 'secrets.json')
  const stored = JSON.parse(await fs.readFile(file, 'utf8').catch(() => '{}')) as Record<string, string>
  const lacking = names.filter((name) => !stored[name])
  if (lacking.length > 0) {
    for (const name of lacking) stored[name] = generateSecret(name)
    await fs.mkdir(dataDir, { recursive: true })
    await fs.writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 })
  }
  return stored
}
