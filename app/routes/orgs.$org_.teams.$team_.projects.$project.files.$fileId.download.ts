import type { LoaderFunctionArgs } from '@remix-run/node'
import { publicBaseUrl } from '~/services/buckets/bucket-storage.server'
import { createFileDownload } from '~/services/files/files.server'
import { orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'

// The dashboard's download link: checks access, then sends the browser to a short-lived signed URL.
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project } = await projectFromParams(actor, params)
  const download = await orRouteError(createFileDownload(actor, params.fileId ?? '', { projectId: project.id, baseUrl: publicBaseUrl(request) }))
  return new Response(null, { status: 302, headers: { Location: download.url, 'Cache-Control': 'no-store' } })
}
