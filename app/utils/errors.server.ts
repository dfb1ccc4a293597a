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
  | 'QUOTA_EXCEEDED'

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
  QUOTA_EXCEEDED: 403,
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
  /** Further members of the problem body (RFC 9457 extensions), e.g. the quota a refusal names. */
  extensions?: Record<string, unknown>
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
export const fieldConflict = (field: string, message: string) => new AppError('CONFLICT', message, { fieldErrors: { [field]: [message] } })

/**
 * What any thrown value means to a client: an AppError as it is, a bucket's failure as 502 in words
 * safe to show (never its response body or credentials), anything else null (an unexpected 500).
 */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error
  if (error instanceof StorageError) return new AppError('STORAGE_FAILED', `The bucket could not be reached or refused: ${error.message}`)
  return databaseOverload(error)
}

/** What an overloaded instance asks callers to wait before trying again. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 2

const OVERLOAD_MESSAGES = [
  // Prisma (P2028): no connection for a transaction within maxWait, or a transaction outlived its timeout.
  /Unable to start a transaction in the given time/i,
  /Transaction already closed/i,
  // pg-pool: no connection within connectionTimeoutMillis.
  /timeout exceeded when trying to connect/i,
  /Connection terminated due to connection timeout/i,
]

/** An overloaded instance's answer: 503 with Retry-After, nothing changed (ADR 017). */
export function overloaded(detail: string) {
  return new AppError('UNAVAILABLE', `Carcosa is busy right now (${detail}); nothing was changed. Try again in a moment.`, {
    retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
  })
}

/**
 * The one place a database wait that ran out becomes a 503: a Prisma P2028 or a pool timeout,
 * anywhere in the error's cause chain; null for anything else.
 */
export function databaseOverload(error: unknown): AppError | null {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown }
    if (code === 'P2028' || (typeof message === 'string' && OVERLOAD_MESSAGES.some((pattern) => pattern.test(message)))) {
      return overloaded('the database did not answer in time')
    }
  }
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
