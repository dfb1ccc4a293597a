/**
 * `npm start`: builds the app, then runs server.ts in this same process. package.json starts it with
 * `exec`, so npm's child is this process: a SIGTERM or SIGINT sent to npm (which forwards it) or to
 * this process reaches the build while it runs, then the server, which stops everything it started.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SIGNALS = ['SIGINT', 'SIGTERM'] as const

function build(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(path.join(root, 'node_modules', '.bin', 'remix'), ['build'], { cwd: root, stdio: 'inherit' })
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  for (const signal of SIGNALS) process.on(signal, forward)
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`Carcosa cannot start: remix build could not run: ${error.message}`)
      resolve({ code: 1, signal: null })
    })
    child.on('exit', (code, signal) => {
      for (const name of SIGNALS) process.off(name, forward)
      resolve({ code, signal })
    })
  })
}

const { code, signal } = await build()
if (signal) {
  console.error(`remix build stopped by ${signal}`)
  process.exit(1)
}
if (code !== 0) process.exit(code ?? 1)
process.chdir(root)
await import('../server.ts')
