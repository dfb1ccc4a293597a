import type { CompletedPart, PresignedUpload } from '../types.js'

/**
 * What a multipart upload needs to continue after a reload or a crash: the upload as it was started
 * (a route handler's `PresignedUpload`, or `InitUploadResult` for `CarcosaApi`) and the parts done.
 */
export interface ResumeState<TUpload = PresignedUpload> {
  upload: TUpload
  parts: CompletedPart[]
  savedAt: number
}

/** Where an uploader keeps resumable state; `localStorage` in browsers by default. Plain JSON goes in. */
export interface ResumeStore<TUpload = PresignedUpload> {
  get(key: string): ResumeState<TUpload> | null | undefined | Promise<ResumeState<TUpload> | null | undefined>
  set(key: string, state: ResumeState<TUpload>): void | Promise<void>
  delete(key: string): void | Promise<void>
}

/** Kept in this process only (tests, or a Node process that retries without restarting). */
export function memoryResumeStore<TUpload = PresignedUpload>(): ResumeStore<TUpload> {
  const states = new Map<string, ResumeState<TUpload>>()
  return {
    get: (key) => states.get(key) ?? null,
    set: (key, state) => void states.set(key, structuredClone(state)),
    delete: (key) => void states.delete(key),
  }
}

/** A browser's localStorage, when there is one. */
export function localStorageResumeStore(): ResumeStore | null {
  const storage = typeof globalThis.localStorage === 'object' ? globalThis.localStorage : null
  if (!storage) return null
  return {
    get: (key) => {
      try {
        const text = storage.getItem(key)
        return text ? (JSON.parse(text) as ResumeState) : null
      } catch {
        return null
      }
    },
    set: (key, state) => {
      try {
        storage.setItem(key, JSON.stringify(state))
      } catch {
        // Full or disabled storage: the upload still works, it just cannot resume.
      }
    },
    delete: (key) => storage.removeItem(key),
  }
}
