/* eslint-disable @typescript-eslint/no-explicit-any -- routes are matched structurally whatever their generic parameters (`any` is the type-level wildcard for them) */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type {
  FileRouteLimits,
  FileRoute,
  FileRouteConfig,
  FileRouter,
  MiddlewareArgs,
  RouteDefinition,
  ServerData,
  UploadCompleteArgs,
  UploadErrorArgs,
  UploadRouter,
  AnyFileRoute,
} from './types.js'

/** A route under construction: `.input()`, `.middleware()`, `.onUploadError()`, then `.onUploadComplete()` finishes it. */
export interface RouteBuilder<TReq, TInput, TParsedInput, TMetadata> {
  /** Validates the client's `input` (zod or any Standard Schema); the middleware receives the parsed value. */
  input<TSchema extends StandardSchemaV1>(
    schema: TSchema,
  ): RouteBuilder<TReq, StandardSchemaV1.InferInput<TSchema>, StandardSchemaV1.InferOutput<TSchema>, TMetadata>
  /** Runs on your server before anything is signed: authorize here, throw to refuse; the result (JSON) travels with the upload. */
  middleware<TResult extends Record<string, unknown>>(
    fn: (args: MiddlewareArgs<TReq, TParsedInput>) => TResult | Promise<TResult>,
  ): RouteBuilder<TReq, TInput, TParsedInput, TResult>
  onUploadError(fn: (args: UploadErrorArgs) => void | Promise<void>): RouteBuilder<TReq, TInput, TParsedInput, TMetadata>
  /** Runs once per verified file; what it returns reaches the client as `serverData`. */
  onUploadComplete<TResult>(
    fn: (args: UploadCompleteArgs<TMetadata>) => TResult | Promise<TResult>,
  ): FileRoute<TInput, TMetadata, ServerData<TResult>>
}

type NoInput = undefined
type NoMetadata = Record<string, never>

function builder<TReq>(def: Omit<RouteDefinition, 'onUploadComplete'>): RouteBuilder<TReq, any, any, any> {
  return {
    input: (schema) => builder({ ...def, inputSchema: schema }),
    middleware: (fn) => builder({ ...def, middleware: fn as RouteDefinition['middleware'] }),
    onUploadError: (fn) => builder({ ...def, onUploadError: fn }),
    onUploadComplete: (fn) => ({ _def: { ...def, onUploadComplete: fn as RouteDefinition['onUploadComplete'] } }),
  }
}

function checkConfig(config: FileRouteConfig<unknown>) {
  const kinds = Object.keys(config).filter((key) => key !== 'tenant')
  if (kinds.length === 0) throw new TypeError('A route needs at least one file kind, e.g. { image: { maxFileSize: "4MB" } }')
}

/** The seed's shorthand builders: `f.imageUploader({ maxFileSize: '2MB' })`. */
export interface KindShorthands<TReq> {
  imageUploader(limits?: FileRouteLimits): RouteBuilder<TReq, NoInput, NoInput, NoMetadata>
  videoUploader(limits?: FileRouteLimits): RouteBuilder<TReq, NoInput, NoInput, NoMetadata>
  audioUploader(limits?: FileRouteLimits): RouteBuilder<TReq, NoInput, NoInput, NoMetadata>
  pdfUploader(limits?: FileRouteLimits): RouteBuilder<TReq, NoInput, NoInput, NoMetadata>
  textUploader(limits?: FileRouteLimits): RouteBuilder<TReq, NoInput, NoInput, NoMetadata>
  fileUploader(limits?: FileRouteLimits): RouteBuilder<TReq, NoInput, NoInput, NoMetadata>
}

export type RouteFactory<TReq> = ((config: FileRouteConfig<TReq>) => RouteBuilder<TReq, NoInput, NoInput, NoMetadata>) & KindShorthands<TReq>

/**
 * The route builder: `const f = createCarcosa()` then `f({ image: { maxFileSize: '4MB' } })...`.
 * `TReq` is what your middleware receives as `req` (a fetch Request by default; an Express request
 * with `@carcosa/sdk/express`'s createCarcosa).
 */
export function createCarcosa<TReq = Request>(): RouteFactory<TReq> {
  const f = ((config: FileRouteConfig<TReq>) => {
    checkConfig(config as FileRouteConfig<unknown>)
    return builder<TReq>({ config })
  }) as RouteFactory<TReq>
  f.imageUploader = (limits = {}) => f({ image: limits })
  f.videoUploader = (limits = {}) => f({ video: limits })
  f.audioUploader = (limits = {}) => f({ audio: limits })
  f.pdfUploader = (limits = {}) => f({ pdf: limits })
  f.textUploader = (limits = {}) => f({ text: limits })
  f.fileUploader = (limits = {}) => f({ blob: limits })
  return f
}

/**
 * The seed's router form: `createUploadRouter().addRoute('profileImage', f.imageUploader(...)...)`.
 * Chain the calls (or keep each result) for the client's types to see the routes.
 */
export function createUploadRouter(): UploadRouter<Record<never, never>> {
  const routes: Record<string, AnyFileRoute> = {}
  const router: UploadRouter<any> = {
    routes,
    addRoute(slug, route) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(slug)) throw new TypeError(`Route slug "${slug}" must be 1-64 letters, digits, _ or -`)
      if (routes[slug]) throw new TypeError(`Route "${slug}" is defined twice`)
      routes[slug] = route
      return router
    },
  }
  return router
}

/** The routes of either router form, by slug. */
export function routesOf(router: FileRouter | UploadRouter<any>): FileRouter {
  const candidate = router as UploadRouter<any>
  return typeof candidate.addRoute === 'function' && typeof candidate.routes === 'object' ? candidate.routes : (router as FileRouter)
}

/** The seed README's `f` (middleware `req` typed loosely, as it was there). */
export const f: RouteFactory<any> = createCarcosa<any>()
