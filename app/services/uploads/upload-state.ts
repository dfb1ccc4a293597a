import { AppError } from '~/utils/errors.server'

interface UploadState {
  status: 'PENDING' | 'COMPLETED' | 'FAILED' | 'ABORTED' | 'EXPIRED'
  expiresAt: Date
  failureReason: string | null
}

export const isExpired = (upload: UploadState, now = Date.now()) =>
  upload.status === 'EXPIRED' || (upload.status === 'PENDING' && upload.expiresAt.getTime() <= now)

/**
 * Refuses to work on an upload that is no longer pending: expired is 410 (Gone), aborted, failed
 * or completed 409, each saying why.
 */
export function requirePending(upload: UploadState, what: string) {
  if (isExpired(upload)) throw new AppError('GONE', `This upload expired at ${upload.expiresAt.toISOString()}; start a new one to ${what}.`)
  switch (upload.status) {
    case 'PENDING':
      return
    case 'COMPLETED':
      throw new AppError('CONFLICT', `This upload is already completed; there is nothing left to ${what}.`)
    case 'ABORTED':
      throw new AppError('CONFLICT', `This upload was aborted; start a new one to ${what}.`)
    case 'FAILED':
      throw new AppError('CONFLICT', `This upload failed: ${upload.failureReason ?? 'no reason recorded'} Start a new one to ${what}.`)
  }
}
