/**
 * `npm start` as a newcomer runs it: in a fresh copy of the repository inside a private (0700)
 * directory, as whoever runs the tests (root on CI and these machines), with its node_modules
 * inside that directory (hard links to ours). Then signals as process managers and terminals send
 * them, to npm and to the server process, after which no process of the start may remain.
 */
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { embeddedClusterDirectory } from '~/utils/embedded-postgres.server'
import { freePort } from '../support/carcosa-server'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const READY_TIMEOUT_MS = 240_000
const EXIT_TIMEOUT_MS = 45_000
const RUNNING = /Carcosa is running at (\S+?)["\s]/
const AS_ROOT = process.getuid?.() === 0
const CONFIG_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'APP_URL',
  'DATA_DIR',
  'DATABASE_URL',
  'SESSION_SECRET',
  'CREDENTIALS_ENCRYPTION_KEY',
  'LOG_LEVEL',
]

const execFileAsync = promisify(execFile)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

let privateDir = ''
let clone = ''
const started: ChildProcess[] = []

before(async () => {
  privateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-private-'))
  await fs.chmod(privateDir, 0o700)
  clone = path.join(privateDir, 'carcosa')
  // The repository's files as they are in this checkout (committed or not), the generated client, and
  // node_modules as hard links: inside the private directory, as `npm install` would put them.
  const { stdout } = await execFileAsync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    maxBuffer: 1 << 24,
  })
  for (const file of stdout.split('\0').filter(Boolean)) {
    await fs.mkdir(path.join(clone, path.dirname(file)), { recursive: true })
    await fs.cp(path.join(ROOT, file), path.join(clone, file), { verbatimSymlinks: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error // deleted in the working tree, not yet committed
    })
  }
  await fs.cp(path.join(ROOT, 'app', 'generated'), path.join(clone, 'app', 'generated'), { recursive: true })
  await execFileAsync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules')])
})

after(async () => {
  // Whatever a failed test left in a start's process group (npm itself may be gone).
  for (const child of started) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // The group is empty.
    }
  }
  if (!clone) return
  const clusterDir = await embeddedClusterDirectory(path.join(clone, '.carcosa', 'postgres'))
  const postmaster = await postmasterOf(clusterDir)
  if (postmaster) await stopProcess(postmaster.pid)
  if (!clusterDir.startsWith(privateDir)) await fs.rm(clusterDir, { recursive: true, force: true })
  await fs.rm(privateDir, { recursive: true, force: true })
})

function npmStart(port: number) {
  const env = { ...process.env }
  for (const name of CONFIG_VARIABLES) delete env[name]
  // Its own process group, so that the test can find (and, failing, end) everything it started.
  const child = spawn('npm', ['start'], {
    cwd: clone,
    env: { ...env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  started.push(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, output: () => output, exited }
}

async function waitUntilReady(start: ReturnType<typeof npmStart>) {
  for (const deadline = Date.now() + READY_TIMEOUT_MS; Date.now() < deadline; await sleep(200)) {
    const match = start.output().match(RUNNING)
    if (match?.[1]) return match[1]
    if (start.child.exitCode !== null) throw new Error(`npm start exited before it was ready:\n${start.output()}`)
  }
  throw new Error(`npm start was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${start.output()}`)
}

async function waitForExit(start: ReturnType<typeof npmStart>) {
  let timer: NodeJS.Timeout | undefined
  const result = await Promise.race([start.exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), EXIT_TIMEOUT_MS)))])
  clearTimeout(timer)
  if (!result) throw new Error(`npm did not exit within ${EXIT_TIMEOUT_MS / 1000} s:\n${start.output()}`)
  return result
}

/** Processes whose working directory or program lies inside `dir`. */
async function processesInside(dir: string) {
  const found: string[] = []
  for (const pid of (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const [cwd, exe] = await Promise.all(['cwd', 'exe'].map((link) => fs.readlink(`/proc/${pid}/${link}`).catch(() => '')))
    if (cwd?.startsWith(dir) || exe?.startsWith(dir)) {
      const args = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      found.push(`${pid} ${args.replaceAll('\0', ' ').trim()}`)
    }
  }
  return found
}

async function postmasterOf(clusterDir: string) {
  const content = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => null)
  return content ? { pid: Number(content.split('\n')[0]) } : null
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function stopProcess(pid: number) {
  if (!isAlive(pid)) return
  process.kill(pid, 'SIGINT')
  for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 100) await sleep(100)
}

/** The health check's status once it is 200, or its last one after a minute (the first database query of a fresh process may be slow on a loaded machine). */
async function health(url: string) {
  let status = 0
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
    status = await fetch(new URL('/api/v1/health', url), { signal: AbortSignal.timeout(10_000) }).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200) break
  }
  return status
}

/** After a failed assertion: end what the start left, so the next test does not share its database. */
async function abandon(start: ReturnType<typeof npmStart>, clusterDir: string) {
  try {
    process.kill(-start.child.pid!, 'SIGKILL')
  } catch {
    // The group is empty.
  }
  const postmaster = await postmasterOf(clusterDir)
  if (postmaster) await stopProcess(postmaster.pid)
}

/** Starts, checks it answers, sends `signal` to `target`, and checks that nothing of the start is left. */
async function startAndStop(target: 'npm' | 'server', signal: 'SIGTERM' | 'SIGINT') {
  const clusterDir = await embeddedClusterDirectory(path.join(clone, '.carcosa', 'postgres'))
  const start = npmStart(await freePort())
  try {
    return await startedThenStopped(start, clusterDir, target, signal)
  } catch (error) {
    await abandon(start, clusterDir)
    throw error
  }
}

async function startedThenStopped(
  start: ReturnType<typeof npmStart>,
  clusterDir: string,
  target: 'npm' | 'server',
  signal: 'SIGTERM' | 'SIGINT',
) {
  const url = await waitUntilReady(start)
  assert.equal(await health(url), 200)
  const postmaster = await postmasterOf(clusterDir)
  assert.ok(postmaster && isAlive(postmaster.pid), 'the embedded PostgreSQL runs')

  const npmPid = start.child.pid!
  const serverPid = target === 'npm' ? npmPid : Number((await execFileAsync('pgrep', ['-P', String(npmPid)])).stdout.trim().split('\n')[0])
  assert.ok(Number.isInteger(serverPid) && serverPid > 0, 'found the server process under npm')
  process.kill(serverPid, signal)

  const exit = await waitForExit(start)
  assert.match(start.output(), new RegExp(`${signal} received: finishing requests in flight, then stopping`))
  assert.match(start.output(), /"stopped"/, start.output())
  assert.ok(exit.code === 0 || exit.signal === signal, `npm ends cleanly: ${JSON.stringify(exit)}`)
  for (let waited = 0; waited < 5_000 && isAlive(postmaster.pid); waited += 100) await sleep(100)
  assert.equal(isAlive(postmaster.pid), false, 'the embedded PostgreSQL is gone')
  assert.deepEqual(await processesInside(clone), [], 'no process of the start is left')
  // A zombie (state Z) has already exited and only waits to be reaped by init: it is not left running.
  const group = await execFileAsync('ps', ['-o', 'pid=,stat=,args=', '-g', String(npmPid)]).then(
    ({ stdout }) =>
      stdout
        .trim()
        .split('\n')
        .filter((line) => line.trim() && !/^\s*\d+\s+Z/.test(line))
        .join('\n'),
    () => '',
  )
  assert.equal(group, '', 'nothing is left running in npm start’s process group')
  return start
}

describe('npm start in a fresh copy inside a 0700 directory', () => {
  test(
    'starts (as root, PostgreSQL runs as postgres from where it can), keeps secrets private; SIGTERM to npm stops everything',
    { timeout: 420_000 },
    async () => {
      const before = new Set(await fs.readdir(os.tmpdir()))
      const clusterDir = await embeddedClusterDirectory(path.join(clone, '.carcosa', 'postgres'))
      const start = npmStart(await freePort())
      try {
        const url = await waitUntilReady(start)
        assert.equal(await health(url), 200)
        assert.match(start.output(), /initialising embedded PostgreSQL/)

        const postmaster = await postmasterOf(clusterDir)
        assert.ok(postmaster, 'postmaster.pid exists')
        if (AS_ROOT) {
          const status = await fs.readFile(`/proc/${postmaster.pid}/status`, 'utf8')
          const uid = Number(status.match(/^Uid:\s+(\d+)/m)?.[1])
          assert.equal(uid, Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()), 'PostgreSQL runs as the postgres user')
          const program = await fs.readlink(`/proc/${postmaster.pid}/exe`)
          assert.ok(!program.startsWith(privateDir), `PostgreSQL runs from outside the private directory (${program})`)
          assert.ok(!clusterDir.startsWith(privateDir), 'and keeps its cluster outside it')
        }

        const secrets = await fs.stat(path.join(clone, '.carcosa', 'secrets.json'))
        assert.equal(secrets.mode & 0o077, 0, 'secrets.json is readable by its owner only')
        const passwordFiles = [...(await fs.readdir(os.tmpdir()))].filter(
          (name) => !before.has(name) && /pg-password|^carcosa-initdb-(?!test)/.test(name),
        )
        for (const name of passwordFiles) {
          const stat = await fs.stat(path.join(os.tmpdir(), name)).catch(() => null)
          assert.ok(!stat || (stat.mode & 0o077) === 0, `${name} in the temporary directory is private`)
        }
        assert.deepEqual(
          passwordFiles.filter((name) => name.startsWith('pg-password')),
          [],
          'no password file in the temporary directory',
        )

        process.kill(start.child.pid!, 'SIGTERM')
        const exit = await waitForExit(start)
        assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `npm ends cleanly: ${JSON.stringify(exit)}\n${start.output()}`)
        for (let waited = 0; waited < 5_000 && isAlive(postmaster.pid); waited += 100) await sleep(100)
        assert.equal(isAlive(postmaster.pid), false, 'the embedded PostgreSQL is gone')
        assert.deepEqual(await processesInside(clone), [], 'no process of the start is left')
      } catch (error) {
        await abandon(start, clusterDir)
        throw error
      }
    },
  )

  test('SIGTERM to the server process (npm’s child) stops everything, npm included', { timeout: 420_000 }, async () => {
    const start = await startAndStop('server', 'SIGTERM')
    assert.doesNotMatch(start.output(), /initialising embedded PostgreSQL/, 'the second start reuses the cluster')
  })

  test('SIGINT to npm (Ctrl-C) stops everything', { timeout: 420_000 }, async () => {
    await startAndStop('npm', 'SIGINT')
  })
})
