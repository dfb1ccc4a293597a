import { unstorableText } from './input-guards'

/** Methods the app serves; others (TRACE, CONNECT, WebDAV verbs) are refused before any routing. */
export const SERVED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

export interface HostRefusal {
  status: 400 | 405
  detail: string
  headers?: Record<string, string>
}

/**
 * What the host refuses before Remix and the services see a request: a method it does not serve
 * (405), a path that is not valid percent-encoded UTF-8, or a path or query value holding NUL or an
 * unpaired surrogate (400). Nothing below would store or match such text; they would only fail later.
 */
export function refuseUnservable(method: string, originalUrl: string): HostRefusal | null {
  if (!SERVED_METHODS.includes(method.toUpperCase())) {
    return { status: 405, detail: `${method} is not supported.`, headers: { Allow: SERVED_METHODS.join(', ') } }
  }
  let url: URL
  try {
    url = new URL(`http://carcosa.invalid${originalUrl}`)
  } catch {
    return { status: 400, detail: 'The request URL is malformed.' }
  }
  for (const segment of url.pathname.split('/')) {
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      return { status: 400, detail: 'The path is not valid percent-encoded UTF-8.' }
    }
    const problem = unstorableText(decoded)
    if (problem) return { status: 400, detail: `The path ${problem}.` }
  }
  for (const [name, value] of url.searchParams) {
    const problem = unstorableText(name) ?? unstorableText(value)
    if (problem) return { status: 400, detail: `The query parameter ${unstorableText(name) ? '' : `${name} `}${problem}.`.replace('  ', ' ') }
  }
  return null
}
