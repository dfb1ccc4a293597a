import { createCookie, redirect } from '@remix-run/node'
import type { AppLoadContext } from '@remix-run/node'
import { getConfig } from '~/utils/config.server'
import { requestMeta } from '~/utils/request.server'
import { userActor, type UserActor } from '../actor'
import { getSessionUser, type SignedInUser } from './sessions.server'

let sessionCookie: ReturnType<typeof createCookie> | undefined

/** Holds only the random session token; the session itself lives in the database. */
function cookie() {
  const config = getConfig()
  sessionCookie ??= createCookie(config.isProduction ? '__Host-carcosa_session' : 'carcosa_session', {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.isProduction,
    path: '/',
    secrets: [config.SESSION_SECRET],
    maxAge: config.SESSION_MAX_AGE_DAYS * 24 * 60 * 60,
  })
  return sessionCookie
}

export async function commitSessionCookie(token: string) {
  return cookie().serialize(token)
}

export async function clearSessionCookie() {
  return cookie().serialize('', { maxAge: 0 })
}

async function readToken(request: Request): Promise<string | null> {
  const token = await cookie().parse(request.headers.get('cookie'))
  return typeof token === 'string' && token.length > 0 ? token : null
}

export async function getOptionalUser(request: Request): Promise<SignedInUser | null> {
  const token = await readToken(request)
  return token ? getSessionUser(token) : null
}

export interface CurrentUser extends SignedInUser {
  actor: UserActor
}

// The loaders of one page load (a GET) share the signed-in user and its actor (ADR 019): the
// session is read once (by the root, the layout and the leaf alike), and what the layout resolves
// the leaf reuses. Actions always read afresh.
const signedInForRequest = new WeakMap<AppLoadContext, Promise<CurrentUser>>()
const sessionForRequest = new WeakMap<AppLoadContext, Promise<SignedInUser | null>>()

/** The signed-in user or null, read once for all the loaders of one page load. */
export function getOptionalUserForPage(request: Request, context: AppLoadContext): Promise<SignedInUser | null> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return getOptionalUser(request)
  let read = sessionForRequest.get(context)
  if (!read) sessionForRequest.set(context, (read = getOptionalUser(request)))
  return read
}

/** The signed-in user, or a redirect to the sign-in page that comes back here afterwards. */
export function requireUser(request: Request, context: AppLoadContext): Promise<CurrentUser> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return readUser(request, context)
  let current = signedInForRequest.get(context)
  if (!current) signedInForRequest.set(context, (current = readUser(request, context)))
  return current
}

async function readUser(request: Request, context: AppLoadContext): Promise<CurrentUser> {
  const signedIn = await getOptionalUserForPage(request, context)
  if (!signedIn) {
    const url = new URL(request.url)
    const back = url.pathname.replace(/\.data$/, '') + url.search
    throw redirect(`/login?${new URLSearchParams({ redirectTo: back })}`)
  }
  return { ...signedIn, actor: userActor(signedIn.user.id, requestMeta(request, context)) }
}

/** For pages only signed-out visitors need (sign-in, register). */
export async function requireAnonymous(request: Request) {
  if (await getOptionalUser(request)) throw redirect('/')
}
