/* eslint-disable @typescript-eslint/no-explicit-any -- routes are matched structurally whatever their generic parameters (`any` is the type-level wildcard for them) */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { CarcosaError } from '../errors.js'
import type { FileKind, MimeType } from '../file-types.js'
import type { FileSize } from '../size.js'
import type { CompletedFile } from '../types.js'

export interface FileRouteLimits {
  /** `'4MB'`, `'512KB'`, `'1.5GB'` or bytes. Defaults per kind (image 4MB, video 16MB, audio 8MB, pdf 4MB, text 64KB, other 8MB). */
  maxFileSize?: FileSize
  /** Files of this kind per upload (default 1). */
  maxFileCount?: number
  /** Files of this kind an upload must have when it has any (default 1). */
  minFileCount?: number
}

/** What the tenant function answers: a tenant's slug (as the detection helpers find it), `{ id }`, or nothing. */
export type TenantChoice = string | { id: string } | { slug: string } | null | undefined

export type TenantResolver<TReq = unknown> = (args: { req: TReq; metadata: Record<string, unknown> }) => TenantChoice | Promise<TenantChoice>

/** A route's accepted files: kinds (`image`, `video`, ...) or MIME types, each with its limits; optionally a tenant. */
export type FileRouteConfig<TReq = unknown> = { [K in FileKind]?: FileRouteLimits } & { [K in MimeType]?: FileRouteLimits } & {
  /** Places the route's files in a tenant, from the request and the middleware's metadata. */
  tenant?: TenantResolver<TReq>
}

/** A file as the client announced it (before any byte moved). */
export interface UploadFileInfo {
  name: string
  size: number
  type: string
}

export interface MiddlewareArgs<TReq, TInput> {
  req: TReq
  files: UploadFileInfo[]
  input: TInput
}

export interface UploadErrorArgs {
  error: CarcosaError
  /** The upload's id (there is no file yet). */
  fileKey: string
}

export interface UploadCompleteArgs<TMetadata> {
  metadata: TMetadata
  file: CompletedFile
}

/** Route internals, read by the handler. */
export interface RouteDefinition {
  config: FileRouteConfig<any>
  inputSchema?: StandardSchemaV1
  middleware?: (args: MiddlewareArgs<any, any>) => unknown
  onUploadError?: (args: UploadErrorArgs) => unknown
  onUploadComplete: (args: UploadCompleteArgs<any>) => unknown
}

declare const types: unique symbol

/** A finished route. Its type carries the client's input, the middleware's metadata and `serverData`. */
export interface FileRoute<TInput = any, TMetadata = any, TServerData = any> {
  readonly _def: RouteDefinition
  /** Types only (never set at run time). */
  readonly [types]?: { input: TInput; metadata: TMetadata; serverData: TServerData }
}

export type AnyFileRoute = FileRoute<any, any, any>

/** An object of routes by slug: `satisfies FileRouter`. */
export type FileRouter = Record<string, AnyFileRoute>

/** Returned nothing: the client gets `null`. */
export type ServerData<R> = [Awaited<R>] extends [void | undefined] ? null : Awaited<R>

/** The router object of the seed's `createUploadRouter()` form, or a plain `FileRouter`. */
export interface UploadRouter<TRoutes extends FileRouter = FileRouter> {
  readonly routes: TRoutes
  addRoute<TSlug extends string, TRoute extends AnyFileRoute>(slug: TSlug, route: TRoute): UploadRouter<TRoutes & { [K in TSlug]: TRoute }>
}

/** The routes of a router in either form. */
export type RoutesOf<T> = T extends UploadRouter<infer R> ? R : T extends FileRouter ? T : never

type RouteTypes<R> = R extends FileRoute<infer I, infer M, infer S> ? { input: I; metadata: M; serverData: S } : never

export type inferRouteSlugs<TRouter> = keyof RoutesOf<TRouter> & string
export type inferRouteInput<TRouter, TSlug extends inferRouteSlugs<TRouter>> = RouteTypes<RoutesOf<TRouter>[TSlug]>['input']
export type inferRouteMetadata<TRouter, TSlug extends inferRouteSlugs<TRouter>> = RouteTypes<RoutesOf<TRouter>[TSlug]>['metadata']
export type inferServerData<TRouter, TSlug extends inferRouteSlugs<TRouter>> = RouteTypes<RoutesOf<TRouter>[TSlug]>['serverData']
