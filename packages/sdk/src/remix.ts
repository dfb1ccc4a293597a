import { createRouteHandler as createFetchHandler, type RouteHandlerOptions } from './server/handler.js'

export * from './server/index.js'

interface RemixArgs {
  request: Request
  context?: unknown
  params?: Record<string, string | undefined>
}

/**
 * A Remix resource route: `export const { loader, action } = createRouteHandler({ router, config })`
 * in e.g. `app/routes/api.uploads.ts`. The middleware's `req` is the Request.
 */
export function createRouteHandler(options: RouteHandlerOptions): {
  loader: (args: RemixArgs) => Promise<Response>
  action: (args: RemixArgs) => Promise<Response>
} {
  const handler = createFetchHandler(options)
  const handle = ({ request }: RemixArgs) => handler(request, { req: request })
  return { loader: handle, action: handle }
}
