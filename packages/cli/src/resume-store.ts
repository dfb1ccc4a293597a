import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { InitUploadResult, ResumeState, ResumeStore } from '@carcosa/sdk'
import { stateDir, writePrivateFile } from './config.js'

const fileOf = (key: string) => path.join(stateDir(), 'uploads', `${createHash('sha256').update(key).digest('hex')}.json`)

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
