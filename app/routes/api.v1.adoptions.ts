import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { handleApiRequest } from '~/api/handle.server'

const PATH = '/api/v1/adoptions'

export async function loader(args: LoaderFunctionArgs) {
  return handleApiRequest(args, PATH)
}

export async function action(args: ActionFunctionArgs) {
  return handleApiRequest(args, PATH)
}
