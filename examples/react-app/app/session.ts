import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * The example's sign-in: a name in a signed cookie. It stands for your application's own
 * authentication, which the upload routes' middleware consults.
 */
const secret = process.env.EXAMPLE_SESSION_SECRET ?? randomBytes(32).toString('hex')
const COOKIE = 'example_user'

const mac = (value: string) => createHmac('sha256', secret).update(value).digest('base64url')

export function sessionCookie(user: string | null): string {
  if (!user) return `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`
  return `${COOKIE}=${encodeURIComponent(user)}.${mac(user)}; Path=/; HttpOnly; SameSite=Lax`
}

/** The signed-in user's name from a request's Cookie header, or null. */
export function userFrom(cookieHeader: string | undefined): string | null {
  const raw = cookieHeader
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1)
  if (!raw) return null
  const dot = raw.lastIndexOf('.')
  if (dot < 0) return null
  const user = decodeURIComponent(raw.slice(0, dot))
  const given = Buffer.from(raw.slice(dot + 1))
  const expected = Buffer.from(mac(user))
  return given.length === expected.length && timingSafeEqual(given, expected) ? user : null
}

/** A user's tenant in Carcosa: their documents live apart from everyone else's. */
export const tenantSlugOf = (user: string) =>
  `user-${
    user
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'anonymous'
  }`
