import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { problemResponse } from '~/api/problem.server'

// Any path under /api/v1 that no operation claims: API clients get problem+json, not the HTML page.
function unknownPath({ request }: LoaderFunctionArgs | ActionFunctionArgs) {
  const { pathname } = new URL(request.url)
  return problemResponse({ status: 404, detail: `There is no API operation at ${pathname}; the operations are listed at /api/v1/openapi.json.` })
}

export const loader = unknownPath
export const action = unknownPath
