import type { LoaderFunctionArgs } from '@remix-run/node'
import { fileThumbnail } from '~/services/files/thumbnails.server'
import { orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'

/** Pages link thumbnails with the file's version (`?v=<updatedAt>`), so a browser may keep each a day. */
const MAX_AGE_SECONDS = 24 * 60 * 60

// Made here rather than loaded from the bucket: bucket origins are outside the dashboard's CSP.
// `X-Content-Type-Options: nosniff` comes from the host (helmet), like every response.
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project } = await projectFromParams(actor, params)
  const thumbnail = await orRouteError(fileThumbnail(actor, params.fileId ?? '', { projectId: project.id }))
  if (!thumbnail) {
    return new Response('No thumbnail for this file.', {
      status: 404,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'private, no-store' },
    })
  }
  return new Response(new Uint8Array(thumbnail), {
    headers: {
      'Content-Type': 'image/webp',
      'Content-Length': String(thumbnail.length),
      'Cache-Control': `private, max-age=${MAX_AGE_SECONDS}`,
    },
  })
}
