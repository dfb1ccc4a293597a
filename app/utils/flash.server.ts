import { createCookieSessionStorage, redirect } from '@remix-run/node'
import { getConfig } from './config.server'

export interface Flash {
  kind: 'success' | 'error'
  message: string
  /** A value shown once and never stored readable, e.g. an invitation link; `forId` names the row it belongs to. */
  secret?: { label: string; value: string; forId?: string }
}

let storage: ReturnType<typeof createCookieSessionStorage<{ flash: Flash }>> | undefined

function flashStorage() {
  const config = getConfig()
  storage ??= createCookieSessionStorage<{ flash: Flash }>({
    cookie: {
      name: 'carcosa_flash',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.isProduction,
      path: '/',
      secrets: [config.SESSION_SECRET],
      maxAge: 60,
    },
  })
  return storage
}

/** A redirect that shows `flash` once on the next page (POST-redirect-GET with a message). */
export async function redirectWithFlash(url: string, flash: Flash, headers: HeadersInit = {}) {
  const session = await flashStorage().getSession()
  session.flash('flash', flash)
  const responseHeaders = new Headers(headers)
  responseHeaders.append('Set-Cookie', await flashStorage().commitSession(session))
  return redirect(url, { headers: responseHeaders })
}

/** Reads and clears the pending flash message. */
export async function takeFlash(request: Request): Promise<{ flash: Flash | null; setCookie: string | null }> {
  const session = await flashStorage().getSession(request.headers.get('cookie'))
  const flash = session.get('flash') ?? null
  return { flash, setCookie: flash ? await flashStorage().commitSession(session) : null }
}
