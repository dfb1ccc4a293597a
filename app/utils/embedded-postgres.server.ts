import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { AS_ROOT, locatePostgres, ROOT_POSTGRES_DIR, type PostgresInstall } from './postgres-install.server'

export interface EmbeddedDatabase {
  url: string
  /** The cluster's directory: `dataDir`, unless root had to keep it elsewhere (see clusterDirectory). */
  directory: string
  /** The pid of the postmaster when another process started it and this one only connected. */
  sharedWith: number | null
  stop(): Promise<void>
}

interface Options {
  dataDir: string
  password: string
  database: string
  port?: number
  /** False for tools (seed, migrate): refuse instead of creating a cluster nobody else would use. */
  create?: boolean
  log?: (message: string) => void
}

/** Starts (initialising on first use) a PostgreSQL cluster under `dataDir` on 127.0.0.1. */
export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedDatabase> {
  const databaseDir = await embeddedClusterDirectory(options.dataDir, options.log)
  const initialised = await exists(path.join(databaseDir, 'PG_VERSION'))
  if (!initialised && options.create === false) throw new Error(`no embedded database in ${databaseDir}`)

  const running = await runningPostmaster(databaseDir)
  if (running && !running.orphaned) {
    // Another Carcosa process (say, the server while `npm run db:seed` runs) owns this cluster:
    // share it and leave its lifecycle to that process.
    options.log?.(`using the embedded PostgreSQL already running in ${databaseDir} (pid ${running.pid})`)
    const url = databaseUrl(options.password, running.port, options.database)
    await createDatabaseIfMissing(url, options.database)
    return { url, directory: databaseDir, sharedWith: running.pid, stop: async () => {} }
  }

  const install = await locatePostgres(options.log)
  if (!initialised) {
    options.log?.(`initialising embedded PostgreSQL in ${databaseDir}`)
    await initialiseCluster(install, databaseDir, options.password)
  }
  if (running) await stopOrphanedPostmaster(running.pid, options.log)
  const port = options.port ?? (await findFreePort())
  const postmaster = await startPostmaster(install, databaseDir, port)

  const url = databaseUrl(options.password, port, options.database)
  try {
    await createDatabaseIfMissing(url, options.database)
  } catch (error) {
    await postmaster.stop()
    throw error
  }
  return { url, directory: databaseDir, sharedWith: null, stop: postmaster.stop }
}

/**
 * The cluster's directory for `dataDir`. As root, postgres runs as the `postgres` system user, which
 * must be able to enter every directory above its cluster. A data directory inside a private one (a
 * clone in /root, a 0700 temporary directory) would fail initdb with "Permission denied", so the
 * cluster then lives under /var/lib/carcosa, in a directory named after the wanted path so that
 * every start finds it again.
 */
export async function embeddedClusterDirectory(dataDir: string, log?: (message: string) => void) {
  const wanted = path.resolve(dataDir)
  const blocking = AS_ROOT ? await privateAncestor(path.dirname(wanted)) : null
  if (!blocking) return wanted
  const fallback = path.join(ROOT_POSTGRES_DIR, createHash('sha256').update(wanted).digest('hex').slice(0, 16))
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

/**
 * initdb into a staging directory beside the cluster's, renamed into place once complete: a failed
 * initialisation leaves no directory behind. The password reaches initdb through a file that only
 * the cluster's owner can read, in a directory of its own, removed right after.
 */
export async function initialiseCluster(install: Pick<PostgresInstall, 'initdb' | 'runAs'>, databaseDir: string, password: string) {
  const parent = path.dirname(databaseDir)
  await fs.mkdir(parent, { recursive: true })
  // An empty directory (say, left by an older version's failed start) is replaced; anything else is not ours.
  const present = await fs.readdir(databaseDir).catch(() => null)
  if (present && present.length > 0)
    throw new Error(`${databaseDir} is not empty but holds no PostgreSQL cluster: move it away, or set DATA_DIR`)
  if (parent.startsWith(`${ROOT_POSTGRES_DIR}/`) || parent === ROOT_POSTGRES_DIR) await fs.chmod(parent, 0o755)
  const staging = `${databaseDir}.${randomBytes(4).toString('hex')}.init`
  const secretDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-initdb-'))
  try {
    const passwordFile = path.join(secretDir, 'password')
    await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
    await fs.mkdir(staging, { mode: 0o700 })
    if (install.runAs) {
      for (const owned of [secretDir, passwordFile, staging]) await fs.chown(owned, install.runAs.uid, install.runAs.gid)
    }
    await runToCompletion(
      install.initdb,
      [
        `--pgdata=${staging}`,
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // C: the same ordering everywhere and no dependency on the machine's installed locales.
        '--locale=C',
      ],
      install.runAs,
    )
    await fs.rename(staging, databaseDir)
  } finally {
    await fs.rm(secretDir, { recursive: true, force: true })
    await fs.rm(staging, { recursive: true, force: true })
  }
}

function runToCompletion(program: string, args: string[], runAs: PostgresInstall['runAs']): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...runAs, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
    child.on('error', (error) => reject(new Error(`${path.basename(program)} could not run: ${error.message}`)))
    child.on('close', (code, signal) => {
      if (code === 0) return resolve()
      const reason = lastError(stderr) || (signal ? `killed by ${signal}` : `exit code ${code}`)
      reject(new Error(`${path.basename(program)} failed: ${reason}`))
    })
  })
}

/** PostgreSQL's own explanation: its last "error:"/"FATAL:" line, else its last line. */
function lastError(stderr: string) {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return [...lines].reverse().find((line) => /\b(error|FATAL|PANIC):/i.test(line)) ?? lines.at(-1) ?? ''
}

const READY = 'database system is ready to accept connections'
const STOP_TIMEOUT_MS = 30_000

/**
 * Runs the postmaster on 127.0.0.1 only (no Unix socket to collide with a system PostgreSQL), in a
 * process group of its own: a Ctrl-C meant for Carcosa does not reach it, Carcosa stops it after its
 * requests are done. If Carcosa exits without stopping it (a crash, a second signal), it is told
 * to shut down as Carcosa exits; only SIGKILL leaves it behind, and the next start stops it.
 */
async function startPostmaster(install: PostgresInstall, databaseDir: string, port: number) {
  const child = spawn(
    install.postgres,
    ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...install.runAs, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  )
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const stopOnExit = () => signalQuietly(child, 'SIGINT')
  process.on('exit', stopOnExit)
  void exited.then(() => process.off('exit', stopOnExit))

  await new Promise<void>((resolve, reject) => {
    let stderr = ''
    let ready = false
    child.stderr?.on('data', (chunk: Buffer) => {
      // Read on for the postmaster's whole life (a full pipe would block its logging), keep nothing after it is ready.
      if (ready) return
      stderr = (stderr + chunk.toString()).slice(-8000)
      if (stderr.includes(READY)) {
        ready = true
        resolve()
      }
    })
    child.on('error', (error) => reject(new Error(`postgres could not run: ${error.message}`)))
    void exited.then(() => reject(new Error(`embedded PostgreSQL did not start: ${lastError(stderr) || 'it exited'}`)))
  })

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      signalQuietly(child, 'SIGINT') // fast shutdown: open transactions are rolled back, data is safe
      const timer = setTimeout(() => signalQuietly(child, 'SIGQUIT'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    })())
  return { stop }
}

function signalQuietly(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    child.kill(signal)
  } catch {
    // Already gone.
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
const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  )
