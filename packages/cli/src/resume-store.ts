import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { InitUploadResult, ResumeState, ResumeStore } from '@carcosa/sdk'
import { stateDir, writePrivateFile } from './config.js'

const uploadsDir = () => path.join(stateDir(), 'uploads')
const fileOf = (key: string) => path.join(uploadsDir(), `${createHash('sha256').update(key).digest('hex')}.json`)

/**
 * Removes saved uploads that Carcosa has let expire (or that cannot be read): a file that changed,
 * or a run never repeated, would otherwise leave its state behind for good.
 */
export async function pruneResumeStates(now = Date.now()) {
  const names = await fs.readdir(uploadsDir()).catch(() => [] as string[])
  // Half-written states of a killed run (renamed into place only when whole).
  for (const name of names.filter((n) => n.endsWith('.tmp'))) {
    const file = path.join(uploadsDir(), name)
    const stat = await fs.stat(file).catch(() => null)
    if (stat && stat.mtimeMs < now - 3_600_000) await fs.rm(file, { force: true })
  }
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(uploadsDir(), name)
    const state = await fs
      .readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as ResumeState<InitUploadResult>)
      .catch(() => null)
    const expiresAt = state ? Date.parse(state.upload?.expiresAt) : NaN
    if (!(expiresAt > now)) await fs.rm(file, { force: true })
  }
}

/**
 * Resumable upload state as one small JSON file per upload, written whole and renamed into place
 * after each part, so even `kill -9` leaves the last saved part list readable by the next run.
 */
export function fileResumeStore(): ResumeStore<InitUploadResult> {
  return {
    async get(key) {
      try {
        const saved = JSON.parse(await fs.readFile(fileOf(key), 'utf8')) as ResumeState<InitUploadResult> & { key?: string }
        return saved.key === key ? saved : null
      } catch {
        return null // none, or unreadable: start afresh
      }
    },
    set: (key, state) => writePrivateFile(fileOf(key), JSON.stringify({ ...state, key })),
    delete: (key) => fs.rm(fileOf(key), { force: true }),
  }
}

/**
 * What names one file's upload across runs: the Carcosa and key it goes to, the tenant, and the
 * file itself by absolute path, size and modification time (a changed file starts afresh).
 */
export function resumeKeyOf(input: {
  url: string
  apiKey: string
  tenant: string | undefined
  absolutePath: string
  size: number
  mtimeMs: number
  name: string
}) {
  const keyHash = createHash('sha256').update(input.apiKey).digest('hex').slice(0, 16)
  return JSON.stringify([
    new URL(input.url).origin,
    keyHash,
    input.tenant ?? null,
    input.absolutePath,
    input.size,
    Math.round(input.mtimeMs),
    input.name,
  ])
}
