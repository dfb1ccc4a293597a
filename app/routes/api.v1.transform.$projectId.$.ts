import type { LoaderFunctionArgs } from '@remix-run/node'
import { authenticateRequest } from '~/api/authenticate.server'
import { problemFromError, problemResponse } from '~/api/problem.server'
import { transformImage, type Credential } from '~/services/transforms/transform.server'
import { requestMeta } from '~/utils/request.server'

/**
 * GET /api/v1/transform/:projectId/<file path>?w=&h=&fit=&format=&quality=... (ADR 010). Answers
 * image bytes, so it sits beside the JSON operation table; errors are problem+json all the same.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  try {
    const credentials = await authenticateRequest(request, requestMeta(request, context))
    const credential: Credential = credentials.kind === 'valid' ? { kind: 'actor', actor: credentials.actor } : { kind: credentials.kind === 'missing' ? 'none' : 'invalid' }
    return await transformImage({ request, projectId: params.projectId ?? '', path: params['*'] ?? '', credential })
  } catch (error) {
    return problemFromError(error, context.requestId)
  }
}

export async function action() {
  return problemResponse({ status: 405, detail: 'Transforms are fetched with GET (or HEAD).' }, { Allow: 'GET, HEAD' })
}
