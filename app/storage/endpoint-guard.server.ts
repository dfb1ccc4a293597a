/**
 * SSRF guard for the S3-compatible endpoints users register: the URL text is checked when a bucket is
 * saved, its DNS answers before a connection test, and every connection the S3 client opens goes through
 * agents whose lookup re-checks the addresses (so a name cannot be re-pointed at an internal address
 * after it was approved: DNS rebinding).
 */
import dns from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import net, { type LookupFunction } from 'node:net'
import type { Duplex } from 'node:stream'
import { remember } from '@epic-web/remember'
import ipaddr from 'ipaddr.js'

export interface EndpointPolicy {
  allowPrivate: boolean
  /** The setting a refusal names as the way to allow private addresses (bucket endpoints by default). */
  setting?: string
}

export type AddressClass = 'public' | 'private' | 'forbidden'

export class EndpointRefused extends Error {
  /** Also the code of the errors refused connections fail with, so callers can tell them from network faults. */
  readonly code = 'ECARCOSA_ENDPOINT_REFUSED'

  constructor(message: string) {
    super(message)
    this.name = 'EndpointRefused'
  }
}

interface Verdict {
  kind: AddressClass
  label: string
}

const forbidden = (label: string): Verdict => ({ kind: 'forbidden', label })
const privateRange = (label: string): Verdict => ({ kind: 'private', label })

// Instance metadata services hand out cloud credentials: refused even where private endpoints are allowed.
const METADATA = new Set(
  [
    '169.254.169.254', // AWS, GCP, Azure, DigitalOcean, ...
    '169.254.170.2', // AWS ECS task metadata
    '100.100.100.200', // Alibaba Cloud
    '192.0.0.192', // Oracle Cloud
    'fd00:ec2::254', // AWS IPv6
    'fd20:ce::254', // GCP IPv6
  ].map((address) => ipaddr.parse(address).toNormalizedString()),
)

const V4_RANGES: Record<string, Verdict> = {
  unicast: { kind: 'public', label: 'a public address' },
  private: privateRange('a private address'),
  loopback: privateRange('a loopback address'),
  carrierGradeNat: privateRange('a carrier-grade NAT address'),
  linkLocal: forbidden('a link-local address'),
  // 0.0.0.0 connects to the local host on Linux.
  unspecified: forbidden('an unspecified address'),
  broadcast: forbidden('a broadcast address'),
  multicast: forbidden('a multicast address'),
}

const V6_RANGES: Record<string, Verdict> = {
  loopback: privateRange('a loopback address'),
  uniqueLocal: privateRange('a unique-local address'),
  deprecatedSiteLocal: privateRange('a site-local address'),
  linkLocal: forbidden('a link-local address'),
  unspecified: forbidden('an unspecified address'),
  multicast: forbidden('a multicast address'),
}

const RESERVED = forbidden('a reserved address')
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3')
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96')

function v4FromParts(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
}

/** The IPv4 address an IPv6 address stands for (mapped, translated, NAT64, 6to4), when it has one we can read. */
function embeddedV4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const parts = ip.parts
  switch (ip.range() as string) {
    case 'ipv4Mapped':
      return ip.toIPv4Address()
    case 'rfc6145':
      return v4FromParts(parts[6]!, parts[7]!)
    case 'rfc6052':
      // Only the well-known /96 prefix puts the IPv4 address in a fixed place; local-use prefixes fall to RESERVED.
      return ip.match(NAT64_WELL_KNOWN) ? v4FromParts(parts[6]!, parts[7]!) : null
    case '6to4':
      return v4FromParts(parts[1]!, parts[2]!)
    default:
      return null
  }
}

function judge(ip: ipaddr.IPv4 | ipaddr.IPv6): Verdict {
  let verdict: Verdict
  if (ip.kind() === 'ipv4') {
    verdict = V4_RANGES[ip.range()] ?? RESERVED
  } else {
    const v6 = ip as ipaddr.IPv6
    const v4 = embeddedV4(v6)
    if (v4) {
      const inner = judge(v4)
      return { kind: inner.kind, label: `the IPv6 form of ${v4.toString()}, ${inner.label}` }
    }
    const range = v6.range()
    // Outside 2000::/3 nothing is allocated for public hosts (this also catches the old ::a.b.c.d form).
    verdict =
      range === 'unicast'
        ? v6.match(GLOBAL_UNICAST_V6)
          ? { kind: 'public', label: 'a public address' }
          : RESERVED
        : (V6_RANGES[range] ?? RESERVED)
  }
  return METADATA.has(ip.toNormalizedString()) ? forbidden(`${verdict.label} (cloud metadata)`) : verdict
}

function judgeText(address: string): Verdict {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  // Unparseable text fails closed.
  return ipaddr.isValid(bare) ? judge(ipaddr.parse(bare)) : forbidden('not a valid IP address')
}

/** The address inside a URL hostname or socket host, when it is an IP literal rather than a name. */
function ipLiteral(host: string | null | undefined): string | null {
  if (!host) return null
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return net.isIP(bare) ? bare : null
}

export function classifyAddress(address: string): AddressClass {
  return judgeText(address).kind
}

export function assertAddressAllowed(address: string, policy: EndpointPolicy, hostname?: string): void {
  const { kind, label } = judgeText(address)
  if (kind === 'public' || (kind === 'private' && policy.allowPrivate)) return
  const subject =
    hostname && ipLiteral(hostname) === null
      ? `The endpoint ${hostname} resolves to ${address}, ${label}`
      : `The endpoint address ${address} is ${label}`
  throw new EndpointRefused(
    kind === 'forbidden'
      ? `${subject}; endpoints may never point there.`
      : `${subject}; this Carcosa does not allow private or loopback endpoints ` +
          `(set ${policy.setting ?? 'STORAGE_ALLOW_PRIVATE_ENDPOINTS'}=true to allow them).`,
  )
}

/**
 * Static check of the endpoint text; returns its origin (S3 endpoints have no path, and credentials belong
 * in their own fields). IP literals are judged here; names are judged by `assertEndpointAllowed`.
 */
export function parseEndpointUrl(text: string, policy: EndpointPolicy): URL {
  const trimmed = text.trim()
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    throw new EndpointRefused('The endpoint is not a valid URL; use the form https://s3.example.com.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EndpointRefused(`The endpoint must use http or https, not ${url.protocol.slice(0, -1)}.`)
  }
  if (url.username || url.password) {
    throw new EndpointRefused('The endpoint must not contain a user name or password; enter the access keys in their own fields.')
  }
  // A bare "?" or "#" leaves search/hash empty, hence the text test too.
  if (url.search || url.hash || /[?#]/.test(trimmed)) {
    throw new EndpointRefused('The endpoint must not have a query string or fragment.')
  }
  if (url.pathname !== '/') {
    throw new EndpointRefused(`The endpoint must be a bare address such as ${url.origin}, without a path; the bucket name has its own field.`)
  }
  if (!url.hostname) throw new EndpointRefused('The endpoint has no host name.')
  const literal = ipLiteral(url.hostname)
  if (literal) assertAddressAllowed(literal, policy)
  return new URL(url.origin)
}

/**
 * Static check of a webhook URL: http or https, no credentials, no fragment; a path and query are
 * fine. IP literals are judged here; names by `assertHostAllowed` and at connection time.
 */
export function parseWebhookUrl(text: string, policy: EndpointPolicy): URL {
  const trimmed = text.trim()
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    throw new EndpointRefused('The URL is not valid; use the form https://example.com/webhooks.')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EndpointRefused(`The URL must use http or https, not ${url.protocol.slice(0, -1)}.`)
  }
  if (url.username || url.password) throw new EndpointRefused('The URL must not contain a user name or password.')
  if (url.hash || trimmed.includes('#')) throw new EndpointRefused('The URL must not have a fragment.')
  if (!url.hostname) throw new EndpointRefused('The URL has no host name.')
  const literal = ipLiteral(url.hostname)
  if (literal) assertAddressAllowed(literal, policy)
  return url
}

export async function assertEndpointAllowed(url: string | URL, policy: EndpointPolicy): Promise<void> {
  const { hostname } = parseEndpointUrl(String(url), policy)
  await assertHostAllowed(hostname, policy)
}

/** Resolves a host name and judges every address it answers (IP literals are judged by the parsers). */
export async function assertHostAllowed(hostname: string, policy: EndpointPolicy): Promise<void> {
  if (ipLiteral(hostname)) return
  let addresses: dns.LookupAddress[] = []
  try {
    addresses = await dns.promises.lookup(hostname, { all: true })
  } catch {
    // reported below, as for an empty answer
  }
  if (addresses.length === 0) {
    throw new EndpointRefused(`Carcosa could not resolve ${hostname}; check the endpoint's host name.`)
  }
  for (const { address } of addresses) assertAddressAllowed(address, policy, hostname)
}

export function guardedLookup(policy: EndpointPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '')
      // Every answer must pass, not just the one used: the connection may fall back to any of them.
      try {
        for (const { address } of addresses) assertAddressAllowed(address, policy, hostname)
      } catch (refusal) {
        return callback(refusal as EndpointRefused, '')
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]
      if (!first) return callback(new EndpointRefused(`Carcosa could not resolve ${hostname}.`), '')
      callback(null, first.address, first.family)
    })
  }
}

/** net skips `lookup` for IP literals, so agents judge those hosts themselves. */
function literalRefusal(host: string | null | undefined, policy: EndpointPolicy): EndpointRefused | null {
  const literal = ipLiteral(host)
  if (!literal) return null
  try {
    assertAddressAllowed(literal, policy)
    return null
  } catch (refusal) {
    return refusal as EndpointRefused
  }
}

type ConnectionCallback = (err: Error | null, stream: Duplex) => void

function refuseConnection(refusal: EndpointRefused, callback?: ConnectionCallback): undefined {
  if (!callback) throw refusal
  callback(refusal, undefined as never)
  return undefined
}

const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64 }

class GuardedHttpAgent extends http.Agent {
  constructor(private readonly policy: EndpointPolicy) {
    super({ ...AGENT_OPTIONS, lookup: guardedLookup(policy) })
  }

  override createConnection(options: http.ClientRequestArgs, callback?: ConnectionCallback) {
    const refusal = literalRefusal(options.host, this.policy)
    return refusal ? refuseConnection(refusal, callback) : super.createConnection(options, callback)
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(private readonly policy: EndpointPolicy) {
    super({ ...AGENT_OPTIONS, lookup: guardedLookup(policy) })
  }

  override createConnection(options: https.RequestOptions, callback?: ConnectionCallback) {
    const refusal = literalRefusal(options.host, this.policy)
    return refusal ? refuseConnection(refusal, callback) : super.createConnection(options, callback)
  }
}

const agentsByPolicy = remember('carcosa.guarded-agents', () => new Map<string, { httpAgent: http.Agent; httpsAgent: https.Agent }>())

/** Shared per policy value, so every client with the same policy shares one socket pool. */
export function guardedAgents(policy: EndpointPolicy): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  const key = `${policy.allowPrivate}:${policy.setting ?? ''}`
  let agents = agentsByPolicy.get(key)
  if (!agents) {
    // A copy: a caller mutating its policy object later must not change the shared agents.
    const fixed = { allowPrivate: policy.allowPrivate, setting: policy.setting }
    agents = { httpAgent: new GuardedHttpAgent(fixed), httpsAgent: new GuardedHttpsAgent(fixed) }
    agentsByPolicy.set(key, agents)
  }
  return agents
}
