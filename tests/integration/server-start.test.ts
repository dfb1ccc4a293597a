/**
 * The host as a newcomer and an operator meet it: `server.ts` started as a child process with a
 * temporary DATA_DIR. Needs build/index.js (`npm test` builds first). Does not use the test
 * database: the server brings its own (embedded) or is pointed at TEST_EXTERNAL_DATABASE_URL.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { freePort } from '../support/carcosa-server'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const READY_TIMEOUT_MS = 90_000
const EXIT_TIMEOUT_MS = 30_000
const RUNNING = /Carcosa is running at (\S+?)["\s]/

// Configuration the child must not inherit from the shell that runs the tests.
const CONFIG_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'APP_URL',
  'DATA_DIR',
  'DATABASE_URL',
  'SESSION_SECRET',
  'LOG_LEVEL',
  'TRUST_PROXY',
  'SESSION_MAX_AGE_DAYS',
  'REMIX_DEV_ORIGIN',
  'CREDENTIALS_ENCRYPTION_KEY',
  'CREDENTIALS_ENCRYPTION_OLD_KEYS',
  'STORAGE_ALLOW_PRIVATE_ENDPOINTS',
  'STORAGE_LOCAL_ENABLED',
]

interface Server {
  child: ChildProcess
  /** stdout and stderr as they arrive. */
  output: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const children = new Set<ChildProcess>()
const tempDirs: string[] = []

after(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue
    // The child leads its own process group: this reaches tsx, node and the postgres they started.
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      // The group is already gone.
    }
  }
  for (const dir of tempDirs) {
    await stopPostmaster(path.join(dir, 'postgres'))
    await fs.rm(dir, { recursive: true, force: true })
  }
})

/**
 * `node --import tsx server.ts` is the Dockerfile's CMD, and the process `npm start` ends up as
 * (scripts/start.ts imports server.ts; npm-start.test.ts covers that path). The signal goes to the
 * process spawned here, as Docker and Fly send it. (Not the `tsx` CLI: it relays a signal only if
 * the child acknowledges it within 30 ms, else kills it with SIGKILL, which a loaded machine misses.)
 */
function startServer(env: Record<string, string>): Server {
  const baseEnv = { ...process.env }
  for (const name of CONFIG_VARIABLES) delete baseEnv[name]
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: { ...baseEnv, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  children.add(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, output: () => output, exited }
}

/** Resolves with the URL the server prints once it listens; rejects if it exits or takes too long. */
async function waitUntilReady(server: Server): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const match = server.output().match(RUNNING)
    if (match?.[1]) return match[1]
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`the server exited before it was ready:\n${server.output()}`)
    }
    await sleep(100)
  }
  throw new Error(`the server was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${server.output()}`)
}

async function waitForExit(server: Server) {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), EXIT_TIMEOUT_MS)))
  const result = await Promise.race([server.exited, timedOut])
  clearTimeout(timer)
  if (!result) throw new Error(`the server did not exit within ${EXIT_TIMEOUT_MS / 1000} s:\n${server.output()}`)
  return result
}

async function stopServer(server: Server, signal: 'SIGTERM' | 'SIGINT' = 'SIGTERM') {
  server.child.kill(signal)
  return waitForExit(server)
}

async function getHealth(baseUrl: string) {
  const response = await fetch(new URL('/api/v1/health', baseUrl), { signal: AbortSignal.timeout(10_000) })
  return { status: response.status, body: (await response.json()) as { status?: string; database?: string } }
}

async function makeDataDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-start-'))
  tempDirs.push(dir)
  // Run as root, the embedded cluster belongs to the postgres user, who must be able to enter here.
  await fs.chmod(dir, 0o755)
  return dir
}

/** The embedded cluster's pid and port, from the postmaster.pid it keeps while running. */
async function postmaster(clusterDir: string) {
  const content = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => null)
  if (!content) return null
  const lines = content.split('\n')
  return { pid: Number(lines[0]), port: Number(lines[3]) }
}

async function embeddedDatabaseUrl(dataDir: string) {
  const running = await postmaster(path.join(dataDir, 'postgres'))
  assert.ok(running, 'the embedded PostgreSQL is running (postmaster.pid exists)')
  const secrets = JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>
  const password = secrets.EMBEDDED_POSTGRES_PASSWORD
  assert.ok(password, 'secrets.json holds the embedded database password')
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${running.port}/carcosa`
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function stopPostmaster(clusterDir: string) {
  const running = await postmaster(clusterDir)
  if (!running || !isAlive(running.pid)) return
  process.kill(running.pid, 'SIGINT')
  for (let waited = 0; waited < 10_000 && isAlive(running.pid); waited += 100) await sleep(100)
}

/** Runs a command-line tool of the repository (db:seed, db:migrate) to completion. */
function runTool(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const baseEnv = { ...process.env }
  for (const name of CONFIG_VARIABLES) delete baseEnv[name]
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [script], {
    cwd: ROOT,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })))
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe('server start', () => {
  test('on embedded defaults: starts, answers health, stops cleanly, and a second start reuses the data', { timeout: 240_000 }, async () => {
    const dataDir = await makeDataDir()
    const clusterDir = path.join(dataDir, 'postgres')

    const port = await freePort()
    const first = startServer({ DATA_DIR: dataDir, PORT: String(port) })
    const url = await waitUntilReady(first)
    assert.equal(url, `http://127.0.0.1:${port}`, 'prints the URL it listens on')
    assert.match(first.output(), /generated development secrets \(SESSION_SECRET, CREDENTIALS_ENCRYPTION_KEY\)/, 'warns about generated secrets')
    assert.match(first.output(), /initialising embedded PostgreSQL/)
    assert.match(first.output(), /applied migration \d+_foundation/)

    const health = await getHealth(url)
    assert.equal(health.status, 200)
    assert.equal(health.body.status, 'ok')

    const databaseUrl = await embeddedDatabaseUrl(dataDir)
    const email = `start-${randomBytes(4).toString('hex')}@example.com`
    await withClient(databaseUrl, (client) =>
      client.query(`INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES ($1, $2, 'Start Test', 'x', now())`, [
        `start${randomBytes(8).toString('hex')}`,
        email,
      ]),
    )
    const secretsBefore = await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')
    const firstPostmaster = await postmaster(clusterDir)
    assert.ok(firstPostmaster)

    const stopped = await stopServer(first, 'SIGTERM')
    assert.deepEqual(stopped, { code: 0, signal: null }, `SIGTERM ends the server with exit code 0:\n${first.output()}`)
    assert.match(first.output(), /"stopped"/)
    assert.equal(await postmaster(clusterDir), null, 'postmaster.pid is removed')
    assert.equal(isAlive(firstPostmaster.pid), false, 'the embedded postgres process is gone')

    // The second start stops on SIGINT (Ctrl-C).
    const secondPort = await freePort()
    const second = startServer({ DATA_DIR: dataDir, PORT: String(secondPort) })
    const secondUrl = await waitUntilReady(second)
    assert.doesNotMatch(second.output(), /initialising embedded PostgreSQL/, 'reuses the cluster')
    assert.doesNotMatch(second.output(), /applied migration/, 'finds the migrations applied')
    assert.equal((await getHealth(secondUrl)).status, 200)
    const found = await withClient(await embeddedDatabaseUrl(dataDir), (client) =>
      client.query('SELECT email FROM "User" WHERE email = $1', [email]),
    )
    assert.equal(found.rowCount, 1, 'the row written during the first run is still there')
    assert.equal(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8'), secretsBefore, 'secrets.json is unchanged')

    const secondStopped = await stopServer(second, 'SIGINT')
    assert.deepEqual(secondStopped, { code: 0, signal: null }, `SIGINT ends the server with exit code 0:\n${second.output()}`)
    assert.equal(await postmaster(clusterDir), null)
  })

  test('in production without SESSION_SECRET: refuses to start and names the variable', { timeout: 60_000 }, async () => {
    const dataDir = await makeDataDir()
    const server = startServer({ NODE_ENV: 'production', DATA_DIR: dataDir, PORT: String(await freePort()) })
    const { code } = await waitForExit(server)
    assert.notEqual(code, 0)
    assert.match(server.output(), /SESSION_SECRET is required in production/)
    assert.doesNotMatch(server.output(), /Carcosa is running/)
    await assert.rejects(fs.access(path.join(dataDir, 'secrets.json')), 'no secrets are generated in production')
  })

  test('with PORT=abc: exits with a line naming PORT', { timeout: 60_000 }, async () => {
    const dataDir = await makeDataDir()
    const server = startServer({ DATA_DIR: dataDir, PORT: 'abc' })
    const { code } = await waitForExit(server)
    assert.notEqual(code, 0)
    assert.match(server.output(), /^\s*- PORT .+$/m)
    assert.doesNotMatch(server.output(), /embedded PostgreSQL running/, 'stops before starting a database')
  })

  test(
    'db:seed and db:migrate use the running server’s database and print its URL; without a cluster they stop and say so',
    { timeout: 240_000 },
    async () => {
      const dataDir = await makeDataDir()
      const port = await freePort()
      const server = startServer({ DATA_DIR: dataDir, PORT: String(port) })
      await waitUntilReady(server)

      // No PORT here: the URL printed is the running server's.
      const seeded = await runTool('prisma/seed.ts', { DATA_DIR: dataDir })
      assert.equal(seeded.code, 0, seeded.output)
      assert.match(
        seeded.output,
        new RegExp(`db:seed: the embedded PostgreSQL in ${path.join(dataDir, 'postgres')} \\(already running, pid \\d+\\)`),
      )
      assert.match(seeded.output, new RegExp(`Sign in at http://127\\.0\\.0\\.1:${port}/login as demo@carcosa\\.local`))
      const migrated = await runTool('scripts/migrate.ts', { DATA_DIR: dataDir })
      assert.equal(migrated.code, 0, migrated.output)
      assert.match(migrated.output, new RegExp(`db:migrate: the embedded PostgreSQL in ${path.join(dataDir, 'postgres')} \\(already running`))

      const elsewhere = path.join(await makeDataDir(), 'not-the-server')
      for (const [tool, script] of [
        ['db:seed', 'prisma/seed.ts'],
        ['db:migrate', 'scripts/migrate.ts'],
      ] as const) {
        const refused = await runTool(script, { DATA_DIR: elsewhere })
        assert.equal(refused.code, 1, refused.output)
        assert.match(
          refused.output,
          new RegExp(`^${tool} failed: no embedded database in DATA_DIR ${elsewhere} .*set DATA_DIR to the server's data directory`, 'm'),
        )
        await assert.rejects(fs.access(elsewhere), `${tool} created nothing in ${elsewhere}`)
      }

      assert.deepEqual(await stopServer(server), { code: 0, signal: null }, server.output())
      await assert.rejects(fs.access(path.join(dataDir, 'server.json')), 'the server forgets its URL when it stops')
    },
  )

  test('a failed start says what went wrong in one line, without a stack, and leaves no cluster directory', { timeout: 120_000 }, async () => {
    const dataDir = await makeDataDir()
    await fs.mkdir(path.join(dataDir, 'postgres'))
    await fs.writeFile(path.join(dataDir, 'postgres', 'notes.txt'), 'not a cluster')
    const server = startServer({ DATA_DIR: dataDir, PORT: String(await freePort()) })
    const { code } = await waitForExit(server)
    assert.equal(code, 1)
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('Carcosa cannot start'))
    assert.deepEqual(lines, [
      `Carcosa cannot start: ${path.join(dataDir, 'postgres')} is not empty but holds no PostgreSQL cluster: move it away, or set DATA_DIR`,
    ])
    assert.doesNotMatch(server.output(), /^\s+at /m, 'no stack trace')
    assert.deepEqual((await fs.readdir(dataDir)).sort(), ['postgres', 'secrets.json'], 'no staging directory is left')
    assert.deepEqual(await fs.readdir(path.join(dataDir, 'postgres')), ['notes.txt'], 'what was there is untouched')
  })

  const externalUrl = process.env.TEST_EXTERNAL_DATABASE_URL
  test(
    'against an external PostgreSQL via DATABASE_URL',
    { timeout: 120_000, skip: externalUrl ? false : 'TEST_EXTERNAL_DATABASE_URL is not set: external database test not run' },
    async () => {
      const name = `carcosa_start_${randomBytes(6).toString('hex')}`
      const databaseUrl = new URL(externalUrl as string)
      databaseUrl.pathname = `/${name}`
      await withClient(externalUrl as string, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`))
      try {
        const dataDir = await makeDataDir()
        const server = startServer({
          DATA_DIR: dataDir,
          PORT: String(await freePort()),
          DATABASE_URL: databaseUrl.toString(),
          SESSION_SECRET: randomBytes(32).toString('base64url'),
          CREDENTIALS_ENCRYPTION_KEY: `base64:${randomBytes(32).toString('base64')}`,
        })
        const url = await waitUntilReady(server)
        assert.doesNotMatch(server.output(), /embedded PostgreSQL/, 'no embedded database is started')
        assert.doesNotMatch(server.output(), /generated development secrets/)
        const health = await getHealth(url)
        assert.equal(health.status, 200)
        assert.equal(health.body.status, 'ok')

        const migrations = await withClient(databaseUrl.toString(), (client) =>
          client.query<{ migration_name: string }>(
            'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name',
          ),
        )
        const committed = (await fs.readdir(path.join(ROOT, 'prisma', 'migrations'), { withFileTypes: true }))
          .filter((entry) => entry.isDirectory())
          .map((entry) => entry.name)
          .sort()
        assert.deepEqual(
          migrations.rows.map((row) => row.migration_name),
          committed,
          'every committed migration is recorded',
        )

        const { code } = await stopServer(server, 'SIGTERM')
        assert.equal(code, 0, server.output())
        await assert.rejects(fs.access(path.join(dataDir, 'postgres')), 'nothing is created for an embedded cluster')
      } finally {
        await withClient(externalUrl as string, (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`))
      }
    },
  )
})
