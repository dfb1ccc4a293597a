/** RFC 9457 problem details: the one error body of the REST API. */
export interface Problem {
  status: number
  title: string
  detail: string
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
export function problemJson(problem: Omit<Problem, 'title'> & { title?: string }): string {
  const title = problem.title ?? problemTitle(problem.status)
  const type = `urn:carcosa:problem:${title.toLowerCase().replace(/[^a-z]+/g, '-')}`
  return JSON.stringify({ type, title, status: problem.status, detail: problem.detail, ...(problem.errors ? { errors: problem.errors } : {}) })
}

export function problemResponse(problem: Omit<Problem, 'title'> & { title?: string }, headers: HeadersInit = {}) {
  const responseHeaders = new Headers(headers)
  responseHeaders.set('Content-Type', 'application/problem+json')
  responseHeaders.set('Cache-Control', 'no-store')
  return new Response(problemJson(problem), { status: problem.status, headers: responseHeaders })
}
