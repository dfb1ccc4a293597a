import type { LoaderFunctionArgs } from '@remix-run/node'
import { authenticateRequest } from '~/api/authenticate.server'
import { problemFromError, problemResponse } from '~/api/problem.server'
import { recordRefusedCredential } from '~/services/audit/refused-credential.server'
import { transformImage, type Credential } from '~/services/transforms/transform.server'
import { AppError } from '~/utils/errors.server'
import { requestMeta } from '~/utils/request.server'

/**
 * GET /api/v1/transform/:projectId/<file path>?w=&h=&fit=&format=&quality=... (ADR 010). Answers
 * image bytes, so it sits beside the JSON operation table; errors are problem+json all the same.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const meta = requestMeta(request, context)
  let refusedToken: string | null | undefined
  try {
    const credentials = await authenticateRequest(request, meta)
    if (credentials.kind === 'invalid') refusedToken = credentials.token
    const credential: Credential = credentials.kind === 'valid' ? { kind: 'actor', actor: credentials.actor } : { kind: credentials.kind === 'missing' ? 'none' : 'invalid' }
    return await transformImage({ request, projectId: params.projectId ?? '', path: params['*'] ?? '', credential })
  } catch (error) {
    // A signed URL ignores a bad bearer token; only a refusal because of it is recorded.
    if (refusedToken !== undefined && error instanceof AppError && error.code === 'UNAUTHENTICATED') await recordRefusedCredential(refusedToken, meta, 'GET /api/v1/transform')
    return problemFromError(error, context.requestId)
  }
}

export async function action() {
  return problemResponse({ status: 405, detail: 'Transforms are fetched with GET (or HEAD).' }, { Allow: 'GET, HEAD' })
}
