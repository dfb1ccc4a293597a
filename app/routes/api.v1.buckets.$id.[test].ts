// [test]: a file ending in .test.ts would be taken for a test and ignored as a route (remix.config.js).
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { handleApiRequest } from '~/api/handle.server'

const PATH = '/api/v1/buckets/{id}/test'

export async function loader(args: LoaderFunctionArgs) {
  return handleApiRequest(args, PATH)
}

export async function action(args: ActionFunctionArgs) {
  return handleApiRequest(args, PATH)
}
