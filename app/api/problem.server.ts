import { codeForStatus, errorHeaders, toAppError, type ErrorCode } from '~/utils/errors.server'
import { logger } from '~/utils/logger.server'

/** RFC 9457 problem details: the one error body of the REST API, with Carcosa's stable machine `code`. */
export interface Problem {
  status: number
  title: string
  detail: string
  code: ErrorCode
  errors?: Record<string, string[]>
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
  return JSON.stringify({ type, title, status: problem.status, code, detail: problem.detail, ...(problem.errors ? { errors: problem.errors } : {}) })
}

export function problemResponse(problem: Omit<Problem, 'title' | 'code'> & { title?: string; code?: ErrorCode }, headers: HeadersInit = {}) {
  const responseHeaders = new Headers(headers)
  responseHeaders.set('Content-Type', 'application/problem+json')
  responseHeaders.set('Cache-Control', 'no-store')
  return new Response(problemJson(problem), { status: problem.status, headers: responseHeaders })
}

/**
 * The one mapping of a thrown value to a problem answer: an AppError (or what toAppError folds into
 * one) with its status, code, field errors and headers; anything else a logged, generic 500.
 */
export function problemFromError(error: unknown, requestId: string): Response {
  const known = toAppError(error)
  if (known) {
    if (known.code === 'STORAGE_FAILED') logger.warn({ reason: known.message, requestId }, 'storage call failed')
    return problemResponse({ status: known.status, code: known.code, detail: known.message, errors: known.details.fieldErrors }, errorHeaders(known))
  }
  logger.error({ err: error as Error, requestId }, 'request failed')
  return problemResponse({ status: 500, code: 'INTERNAL', detail: `Something went wrong on our side (request ${requestId}).` })
}
