import type { z } from 'zod'
import type { Actor, UserActor } from '~/services/actor'
import type { Permission } from '~/services/api-keys/permissions'
import type { RateLimitTier } from '~/utils/rate-limiter.server'
import type { RequestMeta } from '~/utils/request.server'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** Who may call: nobody needs credentials, user access tokens only, or user tokens and API keys. */
export type OperationAuth = 'none' | 'user' | 'any'

type ActorFor<A extends OperationAuth> = A extends 'none' ? Actor | null : A extends 'user' ? UserActor : Actor
type Output<S> = S extends z.ZodType ? z.output<S> : undefined

export interface OperationContext<A extends OperationAuth, P, Q, B> {
  actor: ActorFor<A>
  params: Output<P>
  query: Output<Q>
  body: Output<B>
  /** The call's URL (as the host trusts it): enough for an origin, without building the Request. */
  url: URL
  /** The Fetch Request, built on first use: for handlers that stream the body or hand it on. */
  request: Request
  meta: RequestMeta
}

/**
 * One documented REST operation: the route table, the OpenAPI document and the generated test
 * matrix all read these. The handler calls one service function; the service authorizes.
 */
export interface OperationDefinition<
  A extends OperationAuth = OperationAuth,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  id: string
  method: HttpMethod
  /** OpenAPI path template, e.g. `/api/v1/projects/{id}`. */
  path: string
  summary: string
  tag: string
  auth: A
  /** The permission an API key needs (users are checked by role in the service). */
  permission?: Permission
  tier: RateLimitTier
  params?: P
  query?: Q
  body?: B
  /**
   * Fields of a multipart/form-data body, for the documentation only: such a body (file bytes) is
   * never parsed here; the handler streams it from `request` itself. Exclusive with `body`.
   */
  multipart?: z.ZodObject
  /**
   * Also accept the body as plain text of this media type (e.g. `text/csv`): the text becomes the
   * JSON body's `field` (query parameters fill the rest), then `body` validates it as usual.
   */
  textBody?: { contentType: string; field: string }
  /** Largest body accepted, when not the API's default (MAX_JSON_BODY_BYTES). */
  maxBodyBytes?: number
  /** Status of a successful answer; 204 sends no body. */
  status: 200 | 201 | 204
  /** Statuses this operation can answer besides success and the common ones (401, 429, 500). */
  errors: number[]
  /** What a successful answer carries when it is not JSON (an image), for the documentation. */
  responseMediaType?: string
  /** Body to expect (with `example`) for docs and the response shape. */
  response?: z.ZodType
  handler: (context: OperationContext<A, P, Q, B>) => Promise<unknown>
}

/**
 * A handler's answer that is already JSON text (written by PostgreSQL for the hottest list), sent as
 * it is instead of being serialized again.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export type Operation = OperationDefinition<OperationAuth, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>

export function defineOperation<
  A extends OperationAuth,
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(definition: OperationDefinition<A, P, Q, B>): Operation {
  return definition as unknown as Operation
}
