import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { serveLocalObject } from '~/services/uploads/local-objects.server'

// Signed URLs of the local provider: `/storage/local/<bucketId>/<key>?op=...&signature=...`.

export async function loader({ request }: LoaderFunctionArgs) {
  return serveLocalObject(request)
}

export async function action({ request }: ActionFunctionArgs) {
  return serveLocalObject(request)
}
