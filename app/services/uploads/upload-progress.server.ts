import { Transform, type TransformCallback } from 'node:stream'
import type { FileView } from '~/services/files/file-view'
import { publish, type RealtimeMessage } from '~/utils/realtime-hub.server'
import { projectChannel, uploadChannel } from '../realtime/channels'

/** Streamed uploads report their bytes at most this often. */
export const UPLOAD_PROGRESS_INTERVAL_MS = 250

/** The upload an event is about; `clientReference` is the page's own tag for it, when it sent one. */
export interface UploadRef {
  id: string
  projectId: string
  clientReference?: string | null
}

/**
 * Live upload messages go to the upload's own channel; progress and verifying also go to its
 * project's (a dashboard watching the project sees uploads move). The outcome reaches the project
 * channel as the domain events `file.uploaded` / `upload.failed` from the outbox instead.
 */
function publishUpload(upload: UploadRef, message: RealtimeMessage, alsoToProject: boolean) {
  const full = { ...message, uploadId: upload.id, ...(upload.clientReference ? { clientReference: upload.clientReference } : {}) }
  publish(uploadChannel(upload.id), full)
  if (alsoToProject) publish(projectChannel(upload.projectId), full)
}

export function publishUploadProgress(upload: UploadRef, bytes: number, total: number | null) {
  publishUpload(upload, { type: 'upload.progress', bytes, total }, true)
}

/** Every byte is in the bucket; the completion step is checking the object. */
export function publishUploadVerifying(upload: UploadRef, bytes: number) {
  publishUpload(upload, { type: 'upload.verifying', bytes }, true)
}

export function publishUploadCompleted(upload: UploadRef, file: FileView) {
  publishUpload(upload, { type: 'upload.completed', file }, false)
}

export function publishUploadFailed(upload: UploadRef, reason: string) {
  publishUpload(upload, { type: 'upload.failed', reason }, false)
}

/**
 * A pass-through that counts the bytes of a streamed upload on their way to the bucket and
 * publishes `upload.progress` at most every 250 ms (the first chunk at once).
 */
export function progressCounter(upload: UploadRef, total: number | null, highWaterMark: number): Transform & { bytes(): number } {
  let bytes = 0
  let lastAt = -Infinity
  const counter = new Transform({
    highWaterMark,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length
      const now = performance.now()
      if (now - lastAt >= UPLOAD_PROGRESS_INTERVAL_MS) {
        lastAt = now
        publishUploadProgress(upload, bytes, total)
      }
      callback(null, chunk)
    },
  })
  return Object.assign(counter, { bytes: () => bytes })
}
