/**
 * A real Carcosa for tests that talk to it over HTTP as an outside application would (the SDK):
 * `server.ts` started as a child process on a free loopback port, on the test file's own database.
 * Needs build/index.js (`npm test` builds first). Stopped (its whole process group) when the file ends.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort } from './free-port'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const READY_TIMEOUT_MS = 120_000

// Registered when this module loads (at the file's top level): an `after` inside a hook would run when the hook ends.
const stops: Array<() => Promise<void>> = []
after(async () => {
  await Promise.all(stops.map((stop) => stop()))
})

export { freePort }

/** Starts Carcosa on the database in DATABASE_URL (import '../support/test-database' first); resolves to its origin. */
export async function startCarcosa(env: Record<string, string> = {}): Promise<string> {
  return (await startCarcosaProcess(env)).origin
}

export interface CarcosaProcess {
  origin: string
  /** `kill -9` of the whole process group (the server and anything it started): no shutdown runs. */
  killHard(): Promise<void>
  /** SIGTERM, as a process manager stops it: resolves when it has shut down. */
  stop(): Promise<void>
}

/**
 * startCarcosa, also giving the process itself, for tests that kill it; `port` restarts one on the
 * port an earlier one had (what its clients and callbacks know).
 */
export async function startCarcosaProcess(env: Record<string, string> = {}, options: { port?: number } = {}): Promise<CarcosaProcess> {
  const port = options.port ?? (await freePort())
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-sdk-server-'))
  // `node --import tsx`, as production runs it: the tsx CLI relays a SIGTERM to its child and, when the
  // child does not confirm within 30 ms (a busy machine), kills it with SIGKILL: no shutdown would run.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: process.env.DATABASE_URL!,
      SESSION_SECRET: process.env.SESSION_SECRET!,
      CREDENTIALS_ENCRYPTION_KEY: process.env.CREDENTIALS_ENCRYPTION_KEY!,
      LOG_LEVEL: process.env.CARCOSA_TEST_SERVER_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // stopped by SIGTERM
      }
    }
    await fs.rm(dataDir, { recursive: true, force: true })
    if (process.env.CARCOSA_TEST_SERVER_LOG_LEVEL) console.log(output)
  })
  const signal = async (name: 'SIGKILL' | 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(-child.pid, name)
    await exited
  }
  const origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Carcosa exited before it was ready:\n${output}`)
    const healthy = await fetch(`${origin}/api/v1/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    )
    if (healthy) {
      return {
        origin,
        killHard: () => signal('SIGKILL'),
        stop: () => signal('SIGTERM'),
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`Carcosa was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output}`)
}
