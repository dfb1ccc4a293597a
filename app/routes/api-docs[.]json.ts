import type { LoaderFunctionArgs } from '@remix-run/node'
import { handleApiRequest } from '~/api/handle.server'

// The OpenAPI document at the path Carcosa's first README documented.
export async function loader(args: LoaderFunctionArgs) {
  return handleApiRequest(args, '/api/v1/openapi.json')
}
