import type { LoaderFunctionArgs } from '@remix-run/node'
import { handleApiFetch } from '~/api/handle.server'

// The OpenAPI document at the path Carcosa's first README documented, answered as /api/v1/openapi.json is.
export async function loader({ request, context }: LoaderFunctionArgs) {
  return handleApiFetch(new Request(new URL('/api/v1/openapi.json', request.url), request), context)
}
