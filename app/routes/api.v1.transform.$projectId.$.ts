import type { LoaderFunctionArgs } from '@remix-run/node'
import { authenticateRequest } from '~/api/authenticate.server'
import { problemResponse } from '~/api/problem.server'
import { transformImage, TransformRefusal, type Credential } from '~/services/transforms/transform.server'
import { logger } from '~/utils/logger.server'
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
    if (error instanceof TransformRefusal) return problemResponse({ status: error.status, detail: error.message, errors: error.errors }, error.headers)
    logger.error({ err: error as Error, requestId: context.requestId }, 'image transform failed')
    return problemResponse({ status: 500, detail: `Something went wrong on our side (request ${context.requestId}).` })
  }
}

export async function action() {
  return problemResponse({ status: 405, detail: 'Transforms are fetched with GET (or HEAD).' }, { Allow: 'GET, HEAD' })
}
