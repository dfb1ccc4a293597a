import { assertAddressAllowed, EndpointRefused } from '~/storage/endpoint-guard.server'
import { getConfig } from '~/utils/config.server'
import { AppError } from '~/utils/errors.server'
import net from 'node:net'

/** The address policy of upload callbacks: private and loopback hosts only where bucket endpoints may use them. */
export const callbackPolicy = () => ({ allowPrivate: getConfig().STORAGE_ALLOW_PRIVATE_ENDPOINTS })

/**
 * A callback URL as stored: http or https, no credentials or fragment, and an IP literal judged by
 * the SSRF guard now (host names are judged at every delivery, by the guarded connection).
 */
export function checkCallbackUrl(text: string): string {
  const refuse = (message: string) => new AppError('VALIDATION', message, { fieldErrors: { callbackUrl: [message] } })
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw refuse('callbackUrl is not a valid URL; use the form https://app.example.com/api/uploads')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('callbackUrl must use http or https')
  if (url.username || url.password) throw refuse('callbackUrl must not contain a user name or password')
  if (url.hash) throw refuse('callbackUrl must not have a fragment')
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (net.isIP(host)) {
    try {
      assertAddressAllowed(host, callbackPolicy())
    } catch (error) {
      if (error instanceof EndpointRefused) throw refuse(`callbackUrl: ${error.message}`)
      throw error
    }
  }
  return url.toString()
}
