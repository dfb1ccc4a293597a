import { codeForStatus, errorHeaders, toAppError, type ErrorCode } from '~/utils/errors.server'
import { logger } from '~/utils/logger.server'

/** RFC 9457 problem details: the one error body of the REST API, with Carcosa's stable machine `code`. */
export interface Problem {
  status: number
  title: string
  detail: string
  code: ErrorCode
  errors?: Record<string, string[]>
  /** Extension members, e.g. `quota` on a quota refusal. */
  extensions?: Record<string, unknown>
}

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
}

export function problemTitle(status: number) {
  return TITLES[status] ?? 'Error'
}

/** The problem+json body, also written by hand where there is no Response (a refused WebSocket upgrade). */
export function problemJson(problem: Omit<Problem, 'title' | 'code'> & { title?: string; code?: ErrorCode }): string {
  const title = problem.title ?? problemTitle(problem.status)
  const type = `urn:carcosa:problem:${title.toLowerCase().replace(/[^a-z]+/g, '-')}`
  const code = problem.code ?? codeForStatus(problem.status)
  return JSON.stringify({
    ...problem.extensions,
    type,
    title,
    status: problem.status,
    code,
    detail: problem.detail,
    ...(problem.errors ? { errors: problem.errors } : {}),
  })
}

/**
 * An answer whose body is text the host writes as it is (JSON, problem+json, or nothing): the API's
 * usual answer, with no Response or stream in between. Header names are lower case, as in `Headers`.
 */
export interface TextAnswer {
  status: number
  headers: Record<string, string>
  body: string | null
}

/** Copies `headers` into `into` under lower-case names (a later value replaces an earlier one, as `Headers.set` does). */
export function setHeaders(into: Record<string, string>, headers: HeadersInit | undefined): Record<string, string> {
  if (!headers) return into
  const entries = headers instanceof Headers || Array.isArray(headers) ? headers : Object.entries(headers)
  for (const [name, value] of entries) into[name.toLowerCase()] = value
  return into
}

/** The Fetch Response of an answer; a HEAD request's carries no body, as Remix's answers did not. */
export function answerResponse(answer: TextAnswer | Response, method = 'GET'): Response {
  if (answer instanceof Response)
    return method === 'HEAD' && answer.body
      ? new Response(null, { status: answer.status, statusText: answer.statusText, headers: answer.headers })
      : answer
  return new Response(method === 'HEAD' ? null : answer.body, { status: answer.status, headers: answer.headers })
}

type ProblemInput = Omit<Problem, 'title' | 'code'> & { title?: string; code?: ErrorCode }

export function problemAnswer(problem: ProblemInput, headers?: HeadersInit): TextAnswer {
  const answerHeaders = setHeaders({}, headers)
  answerHeaders['content-type'] = 'application/problem+json'
  answerHeaders['cache-control'] = 'no-store'
  return { status: problem.status, headers: answerHeaders, body: problemJson(problem) }
}

export function problemResponse(problem: ProblemInput, headers: HeadersInit = {}) {
  return answerResponse(problemAnswer(problem, headers))
}

/**
 * The one mapping of a thrown value to a problem answer: an AppError (or what toAppError folds into
 * one) with its status, code, field errors and headers; anything else a logged, generic 500.
 */
export function problemAnswerFromError(error: unknown, requestId: string): TextAnswer {
  const known = toAppError(error)
  if (known) {
    if (known.code === 'STORAGE_FAILED') logger.warn({ reason: known.message, requestId }, 'storage call failed')
    return problemAnswer(
      { status: known.status, code: known.code, detail: known.message, errors: known.details.fieldErrors, extensions: known.details.extensions },
      errorHeaders(known),
    )
  }
  logger.error({ err: error as Error, requestId }, 'request failed')
  return problemAnswer({ status: 500, code: 'INTERNAL', detail: `Something went wrong on our side (request ${requestId}).` })
}

export function problemFromError(error: unknown, requestId: string): Response {
  return answerResponse(problemAnswerFromError(error, requestId))
}
