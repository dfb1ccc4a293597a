/** An RFC 9457 problem, as Carcosa and the route handler answer errors (`application/problem+json`). */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  /** Per-field messages of a validation error. */
  errors?: Record<string, string[]>
}

export type CarcosaErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'GONE'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNPROCESSABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'NETWORK_ERROR'
  | 'ABORTED'
  | 'INVALID_WEBHOOK'

const CODE_BY_STATUS: Record<number, CarcosaErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  410: 'GONE',
  413: 'TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
}

const STATUS_BY_CODE: Partial<Record<CarcosaErrorCode, number>> = Object.fromEntries(
  Object.entries(CODE_BY_STATUS).map(([status, code]) => [code, Number(status)]),
)

export const codeForStatus = (status: number): CarcosaErrorCode =>
  CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST')

export interface CarcosaErrorOptions {
  code: CarcosaErrorCode
  message: string
  /** The HTTP status; derived from the code when omitted. */
  status?: number
  problem?: Problem
  cause?: unknown
}

/**
 * Every failure the SDK reports: a code, the HTTP status, and the problem+json body when Carcosa or
 * the route handler sent one. Throw it from `middleware` to refuse an upload with that status.
 */
export class CarcosaError extends Error {
  readonly code: CarcosaErrorCode
  readonly status: number
  readonly problem: Problem | undefined

  constructor(options: CarcosaErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CarcosaError'
    this.code = options.code
    this.status = options.status ?? STATUS_BY_CODE[options.code] ?? 500
    this.problem = options.problem
  }

  /** Per-field validation messages, when the problem carried them. */
  get fieldErrors(): Record<string, string[]> | undefined {
    return this.problem?.errors
  }

  /** The error as a problem+json body. */
  toProblem(): Problem {
    return (
      this.problem ?? {
        type: `https://carcosa.dev/problems/${this.code.toLowerCase().replace(/_/g, '-')}`,
        title: this.code
          .replace(/_/g, ' ')
          .toLowerCase()
          .replace(/^./, (c) => c.toUpperCase()),
        status: this.status,
        detail: this.message,
      }
    )
  }

  static fromProblem(problem: Problem): CarcosaError {
    return new CarcosaError({ code: codeForStatus(problem.status), status: problem.status, message: problem.detail || problem.title, problem })
  }
}

export const isCarcosaError = (value: unknown): value is CarcosaError => value instanceof CarcosaError

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' && value !== null && typeof (value as Problem).status === 'number' && typeof (value as Problem).title === 'string'
  )
}

/** Reads a failed response into a CarcosaError, keeping its problem+json when it is one. */
export async function errorFromResponse(response: Response): Promise<CarcosaError> {
  const text = await response.text().catch(() => '')
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  if (isProblem(body)) return CarcosaError.fromProblem({ ...body, detail: body.detail ?? body.title, status: response.status })
  const detail = text && text.length <= 500 && !/^\s*</.test(text) ? text : `HTTP ${response.status} ${response.statusText}`.trim()
  return new CarcosaError({ code: codeForStatus(response.status), status: response.status, message: detail })
}
