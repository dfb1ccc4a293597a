import { StorageError } from '~/storage/storage-adapter'

/**
 * The one error type of Carcosa: services, the API's input parsing and the transform endpoint throw
 * it; `toAppError` folds what other layers throw (a bucket's failure) into it once; the edges turn it
 * into a response (problem+json for the API, a status page or form error for the dashboard). The
 * code is the stable machine name every problem carries.
 */
export type ErrorCode =
  | 'VALIDATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'GONE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNPROCESSABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  | 'STORAGE_FAILED'
  | 'UNAVAILABLE'

export const STATUS: Record<ErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  STORAGE_FAILED: 502,
  UNAVAILABLE: 503,
}

/** The code of a status answered without an AppError (a 405 of the router, say). */
export function codeForStatus(status: number): ErrorCode {
  return (Object.keys(STATUS) as ErrorCode[]).find((code) => STATUS[code] === status) ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION')
}

export interface AppErrorDetails {
  fieldErrors?: Record<string, string[]>
  retryAfterSeconds?: number
  /** Further response headers the refusal implies (rate-limit counts, Allow). */
  headers?: Record<string, string>
}

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: AppErrorDetails = {},
  ) {
    super(message)
    this.name = 'AppError'
    this.status = STATUS[code]
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} was not found`)
export const forbidden = (message: string) => new AppError('FORBIDDEN', message)
/** A conflict on one form field, e.g. a slug already taken. */
export const fieldConflict = (field: string, message: string) =>
  new AppError('CONFLICT', message, { fieldErrors: { [field]: [message] } })

/**
 * What any thrown value means to a client: an AppError as it is, a bucket's failure as 502 in words
 * safe to show (never its response body or credentials), anything else null (an unexpected 500).
 */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error
  if (error instanceof StorageError) return new AppError('STORAGE_FAILED', `The bucket could not be reached or refused: ${error.message}`)
  return null
}

/** The headers an error's response carries: Retry-After, WWW-Authenticate for 401, and its own. */
export function errorHeaders(error: AppError): Record<string, string> {
  return {
    ...(error.code === 'UNAUTHENTICATED' ? { 'WWW-Authenticate': 'Bearer' } : {}),
    ...(error.details.retryAfterSeconds ? { 'Retry-After': String(error.details.retryAfterSeconds) } : {}),
    ...error.details.headers,
  }
}
