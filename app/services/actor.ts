import type { RequestMeta } from '~/utils/request.server'

/** Who performs a service call. API keys join as another kind of actor later. */
export interface UserActor extends RequestMeta {
  type: 'user'
  userId: string
}

export type Actor = UserActor

export const userActor = (userId: string, meta: RequestMeta): UserActor => ({ type: 'user', userId, ...meta })
