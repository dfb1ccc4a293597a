import fs from 'node:fs/promises'
import path from 'node:path'
import type { Config } from './config.server'

/** The URL people reach the server at: APP_URL, else its own address. */
export function serverUrl(config: Pick<Config, 'APP_URL' | 'HOST' | 'PORT'>) {
  return config.APP_URL ?? `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}`
}

/**
 * DATA_DIR/server.json names the URL of the server running on this data directory, so that tools
 * (`npm run db:seed`) point people at the server that is actually running, whatever its PORT.
 */
const fileIn = (dataDir: string) => path.join(dataDir, 'server.json')

export async function recordServerAddress(dataDir: string, url: string) {
  await fs.mkdir(dataDir, { recursive: true })
  await fs.writeFile(fileIn(dataDir), `${JSON.stringify({ pid: process.pid, url })}\n`)
}

export async function forgetServerAddress(dataDir: string) {
  const recorded = await readRecord(dataDir)
  if (recorded?.pid === process.pid) await fs.rm(fileIn(dataDir), { force: true })
}

/** The URL of the server running on `dataDir`, or null when none is. */
export async function runningServerAddress(dataDir: string): Promise<string | null> {
  const recorded = await readRecord(dataDir)
  return recorded && isAlive(recorded.pid) ? recorded.url : null
}

async function readRecord(dataDir: string): Promise<{ pid: number; url: string } | null> {
  const parsed = JSON.parse(await fs.readFile(fileIn(dataDir), 'utf8').catch(() => 'null')) as unknown
  if (!parsed || typeof parsed !== 'object') return null
  const { pid, url } = parsed as Record<string, unknown>
  return Number.isInteger(pid) && typeof url === 'string' ? { pid: pid as number, url } : null
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
