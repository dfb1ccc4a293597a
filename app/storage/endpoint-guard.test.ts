import assert from 'node:assert/strict'
import dns from 'node:dns'
import { once } from 'node:events'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import {
  assertAddressAllowed,
  assertEndpointAllowed,
  classifyAddress,
  EndpointRefused,
  guardedAgents,
  guardedLookup,
  parseEndpointUrl,
} from './endpoint-guard.server'

const STRICT = { allowPrivate: false }
const LENIENT = { allowPrivate: true }
const REFUSED_CODE = 'ECARCOSA_ENDPOINT_REFUSED'

/** Matches an EndpointRefused whose message matches `pattern`. */
function refusal(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof EndpointRefused, `expected EndpointRefused, got ${String(error)}`)
    assert.equal(error.code, REFUSED_CODE)
    assert.match(error.message, pattern)
    return true
  }
}

const PRIVATE_MESSAGE = /does not allow private or loopback endpoints \(set STORAGE_ALLOW_PRIVATE_ENDPOINTS=true/
const FORBIDDEN_MESSAGE = /; endpoints may never point there\.$/

describe('classifyAddress', () => {
  const cases: Record<'public' | 'private' | 'forbidden', string[]> = {
    public: [
      '8.8.8.8',
      '1.1.1.1',
      '172.15.255.255', // just below 172.16.0.0/12
      '172.32.0.0', // just above it
      '100.63.255.255', // just below 100.64.0.0/10
      '100.128.0.0', // just above it
      '169.253.255.255',
      '2606:4700::1',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808', // NAT64 of 8.8.8.8
      '2002:808:808::1', // 6to4 of 8.8.8.8
    ],
    private: [
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '127.255.255.254',
      '100.64.0.1',
      '::1',
      'fd12:3456::1',
      'fc00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:0:a00:1', // IPv4-translated 10.0.0.1
      '64:ff9b::a00:1', // NAT64 of 10.0.0.1
      '2002:c0a8:101::', // 6to4 of 192.168.1.1
      '[::1]',
    ],
    forbidden: [
      '169.254.169.254',
      '169.254.0.1',
      '169.254.170.2',
      '100.100.100.200',
      '192.0.0.192',
      'fd00:ec2::254',
      'fd20:ce::254',
      'fe80::1',
      'fe80::1%eth0',
      '0.0.0.0',
      '0.1.2.3',
      '::',
      '255.255.255.255',
      '224.0.0.1',
      '239.255.255.250',
      'ff02::1',
      '192.0.0.1',
      '192.0.2.1',
      '198.18.0.1',
      '240.0.0.1',
      '2001:db8::1',
      '::7f00:1', // deprecated IPv4-compatible form of 127.0.0.1
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a9fe:a9fe', // NAT64 of the metadata address
      '64:ff9b:1::a9fe:a9fe', // local-use NAT64: embedding not fixed, fails closed
      '2002:a9fe:a9fe::', // 6to4 of the metadata address
      'not-an-address',
      '',
    ],
  }
  for (const [expected, addresses] of Object.entries(cases)) {
    for (const address of addresses) {
      test(`${address || '(empty)'} is ${expected}`, () => {
        assert.equal(classifyAddress(address), expected)
      })
    }
  }
})

describe('assertAddressAllowed', () => {
  test('public addresses pass under either policy', () => {
    for (const policy of [STRICT, LENIENT]) {
      assertAddressAllowed('8.8.8.8', policy)
      assertAddressAllowed('2606:4700::1', policy)
    }
  })

  test('private addresses pass only when the policy allows them, with a message naming the setting', () => {
    assert.throws(() => assertAddressAllowed('192.168.1.1', STRICT), refusal(PRIVATE_MESSAGE))
    assert.throws(() => assertAddressAllowed('192.168.1.1', STRICT), refusal(/^The endpoint address 192\.168\.1\.1 is a private address;/))
    assertAddressAllowed('192.168.1.1', LENIENT)
  })

  test('forbidden addresses are refused even when private endpoints are allowed', () => {
    assert.throws(
      () => assertAddressAllowed('169.254.169.254', LENIENT),
      refusal(/^The endpoint address 169\.254\.169\.254 is a link-local address \(cloud metadata\); endpoints may never point there\.$/),
    )
    assert.throws(() => assertAddressAllowed('fe80::1', LENIENT), refusal(/link-local address; endpoints may never/))
  })

  test('a hostname is named in the message', () => {
    assert.throws(
      () => assertAddressAllowed('10.1.2.3', STRICT, 'minio.internal'),
      refusal(/^The endpoint minio\.internal resolves to 10\.1\.2\.3, a private address;/),
    )
  })
})

describe('parseEndpointUrl', () => {
  test('returns the origin of an acceptable endpoint', () => {
    assert.equal(parseEndpointUrl('https://s3.example.com', STRICT).href, 'https://s3.example.com/')
    assert.equal(parseEndpointUrl('  HTTPS://S3.Example.COM:443/ ', STRICT).href, 'https://s3.example.com/')
    assert.equal(parseEndpointUrl('http://minio.lan:9000/', STRICT).href, 'http://minio.lan:9000/')
    assert.equal(parseEndpointUrl('http://8.8.8.8:9000', STRICT).href, 'http://8.8.8.8:9000/')
    assert.equal(parseEndpointUrl('https://[2606:4700::1]/', STRICT).href, 'https://[2606:4700::1]/')
    assert.ok(parseEndpointUrl('https://s3.example.com', STRICT) instanceof URL)
  })

  test('refuses other schemes', () => {
    for (const text of ['ftp://s3.example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'gopher://x/']) {
      assert.throws(() => parseEndpointUrl(text, LENIENT), refusal(/must use http or https/), text)
    }
  })

  test('refuses text that is not a URL', () => {
    for (const text of ['', 's3.example.com', 'not a url', 'http://']) {
      assert.throws(() => parseEndpointUrl(text, LENIENT), refusal(/not a valid URL/), text)
    }
  })

  test('refuses credentials, queries, fragments and paths', () => {
    assert.throws(() => parseEndpointUrl('https://user:pass@s3.example.com', LENIENT), refusal(/user name or password/))
    assert.throws(() => parseEndpointUrl('https://user@s3.example.com', LENIENT), refusal(/user name or password/))
    for (const text of ['https://s3.example.com/?x=1', 'https://s3.example.com/?', 'https://s3.example.com#a', 'https://s3.example.com/#']) {
      assert.throws(() => parseEndpointUrl(text, LENIENT), refusal(/query string or fragment/), text)
    }
    for (const text of ['https://s3.example.com/bucket', 'https://s3.example.com//', 'http://evil.example\\@169.254.169.254']) {
      assert.throws(() => parseEndpointUrl(text, LENIENT), refusal(/without a path/), text)
    }
  })

  // WHATWG URL parsing turns every IPv4 spelling into a dotted quad before we look at it.
  const loopbackSpellings = [
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://127.0.0.1./',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[0:0:0:0:0:ffff:7f00:0001]:9000/',
  ]
  for (const text of loopbackSpellings) {
    test(`refuses ${text} unless private endpoints are allowed`, () => {
      assert.throws(() => parseEndpointUrl(text, STRICT), refusal(/loopback address.*set STORAGE_ALLOW_PRIVATE_ENDPOINTS/))
      assert.ok(parseEndpointUrl(text, LENIENT) instanceof URL)
    })
  }

  for (const text of ['http://10.0.0.1/', 'http://172.16.5.4/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://[fd12::1]/']) {
    test(`refuses private ${text} unless allowed`, () => {
      assert.throws(() => parseEndpointUrl(text, STRICT), refusal(PRIVATE_MESSAGE))
      assert.ok(parseEndpointUrl(text, LENIENT) instanceof URL)
    })
  }

  const neverAllowed = [
    'http://169.254.169.254/',
    'http://2852039166/', // 169.254.169.254 as one number
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://[fe80::1]/',
    'http://0.0.0.0/',
    'http://0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://192.0.0.1/',
  ]
  for (const text of neverAllowed) {
    test(`refuses ${text} even when private endpoints are allowed`, () => {
      assert.throws(() => parseEndpointUrl(text, LENIENT), refusal(FORBIDDEN_MESSAGE))
    })
  }

  test('the metadata address is explained as such', () => {
    assert.throws(
      () => parseEndpointUrl('http://169.254.169.254/', LENIENT),
      refusal(/169\.254\.169\.254 is a link-local address \(cloud metadata\)/),
    )
    assert.throws(
      () => parseEndpointUrl('http://[::ffff:169.254.169.254]/', LENIENT),
      refusal(/the IPv6 form of 169\.254\.169\.254, a link-local address \(cloud metadata\)/),
    )
  })

  test('does not resolve names', () => {
    // Refused by DNS, but the static check has nothing against it.
    assert.equal(parseEndpointUrl('http://localhost:9000', STRICT).href, 'http://localhost:9000/')
  })
})

describe('assertEndpointAllowed', () => {
  test('localhost resolves to loopback: refused unless private endpoints are allowed', async () => {
    await assert.rejects(
      assertEndpointAllowed('http://localhost:9000', STRICT),
      refusal(/^The endpoint localhost resolves to 127\.0\.0\.1, a loopback address;.*STORAGE_ALLOW_PRIVATE_ENDPOINTS/),
    )
    await assertEndpointAllowed('http://localhost:9000', LENIENT)
    await assertEndpointAllowed(new URL('http://localhost:9000'), LENIENT)
  })

  test('a name that does not resolve is refused', async () => {
    await assert.rejects(assertEndpointAllowed('https://carcosa-test.invalid', LENIENT), refusal(/could not resolve carcosa-test\.invalid/))
  })

  test('runs the static checks first', async () => {
    await assert.rejects(assertEndpointAllowed('https://localhost/bucket', LENIENT), refusal(/without a path/))
    await assert.rejects(assertEndpointAllowed('http://169.254.169.254', LENIENT), refusal(FORBIDDEN_MESSAGE))
  })

  test('IP literals are judged without DNS', async (t) => {
    const lookup = t.mock.method(dns.promises, 'lookup', async () => {
      throw new Error('DNS must not be used for an IP literal')
    })
    await assertEndpointAllowed('http://8.8.8.8:9000', STRICT)
    await assertEndpointAllowed('https://[2606:4700::1]', STRICT)
    await assert.rejects(assertEndpointAllowed('http://10.0.0.1', STRICT), refusal(PRIVATE_MESSAGE))
    assert.equal(lookup.mock.callCount(), 0)
  })

  test('every resolved address must pass, not just the first', async (t) => {
    const answers: Record<string, dns.LookupAddress[]> = {
      'mixed.example': [
        { address: '8.8.8.8', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
      'public.example': [
        { address: '8.8.8.8', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ],
      'metadata.example': [
        { address: '2606:4700::1', family: 6 },
        { address: '169.254.169.254', family: 4 },
      ],
      'mapped.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
    }
    const lookup = t.mock.method(dns.promises, 'lookup', async (hostname: string) => answers[hostname] ?? [])
    await assertEndpointAllowed('https://public.example', STRICT)
    await assert.rejects(
      assertEndpointAllowed('https://mixed.example', STRICT),
      refusal(/mixed\.example resolves to 10\.0\.0\.7, a private address/),
    )
    await assertEndpointAllowed('https://mixed.example', LENIENT)
    await assert.rejects(
      assertEndpointAllowed('https://metadata.example', LENIENT),
      refusal(/resolves to 169\.254\.169\.254, a link-local address \(cloud metadata\); endpoints may never/),
    )
    await assert.rejects(assertEndpointAllowed('https://mapped.example', STRICT), refusal(/loopback/))
    await assert.rejects(assertEndpointAllowed('https://empty.example', LENIENT), refusal(/could not resolve empty\.example/))
    assert.equal(lookup.mock.callCount(), 6)
  })
})

/** Calls a LookupFunction the way net does and collects its answer. */
function callLookup(lookup: ReturnType<typeof guardedLookup>, hostname: string, options: dns.LookupOptions) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: string | dns.LookupAddress[]; family?: number }>((resolve) =>
    lookup(hostname, options, (error, address, family) => resolve({ error, address, family })),
  )
}

describe('guardedLookup', () => {
  test('answers like dns.lookup for allowed names, single and all', async () => {
    const lookup = guardedLookup(LENIENT)
    const single = await callLookup(lookup, 'localhost', { family: 4 })
    assert.equal(single.error, null)
    assert.equal(single.address, '127.0.0.1')
    assert.equal(single.family, 4)
    const all = await callLookup(lookup, 'localhost', { all: true })
    assert.equal(all.error, null)
    assert.ok(Array.isArray(all.address))
    assert.ok(all.address.some((entry) => entry.address === '127.0.0.1' && entry.family === 4))
  })

  test('refuses names that resolve to addresses the policy forbids', async () => {
    for (const options of [{}, { all: true }] satisfies dns.LookupOptions[]) {
      const { error } = await callLookup(guardedLookup(STRICT), 'localhost', options)
      assert.ok(error)
      assert.equal(error.code, REFUSED_CODE)
      assert.match(error.message, /^The endpoint localhost resolves to 127\.0\.0\.1, a loopback address;/)
    }
  })

  test('passes DNS failures through unchanged', async () => {
    const { error } = await callLookup(guardedLookup(LENIENT), 'carcosa-test.invalid', {})
    assert.ok(error)
    assert.notEqual(error.code, REFUSED_CODE)
    assert.equal(error.code, 'ENOTFOUND')
  })

  test('a rebinding answer with one bad address is refused whichever comes first', async (t) => {
    let answer: dns.LookupAddress[] = []
    t.mock.method(dns, 'lookup', (_host: string, _options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
      process.nextTick(callback, null, answer)
    })
    answer = [
      { address: '8.8.8.8', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ]
    const first = await callLookup(guardedLookup(LENIENT), 'rebind.example', {})
    assert.equal(first.error?.code, REFUSED_CODE)
    assert.match(first.error?.message ?? '', /rebind\.example resolves to 169\.254\.169\.254/)

    answer = [
      { address: '8.8.8.8', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ]
    const second = await callLookup(guardedLookup(STRICT), 'rebind.example', {})
    assert.equal(second.error, null)
    assert.equal(second.address, '8.8.8.8')
    assert.equal(second.family, 4)
  })
})

describe('connections through the guard', () => {
  let server: http.Server
  let port = 0
  let requests = 0

  before(async () => {
    server = http.createServer((_req, res) => {
      requests++
      res.end('ok')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })

  after(async () => {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  })

  function get(url: string, options: http.RequestOptions) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(url, options, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', reject)
      })
      req.on('error', reject)
      // A guard that lets a request through to an unreachable address must fail the test, not hang it.
      req.setTimeout(3000, () => req.destroy(new Error('request timed out')))
    })
  }

  async function expectRefused(url: string, options: http.RequestOptions) {
    const before = requests
    await assert.rejects(get(url, options), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, REFUSED_CODE)
      assert.match(error.message, /loopback address/)
      return true
    })
    assert.equal(requests, before, 'the refused request must not reach the server')
  }

  test('http.get with guardedLookup: refused for localhost under the strict policy', async () => {
    await expectRefused(`http://localhost:${port}/`, { lookup: guardedLookup(STRICT) })
  })

  test('http.get with guardedLookup: connects when private endpoints are allowed', async () => {
    const before = requests
    const response = await get(`http://localhost:${port}/`, { lookup: guardedLookup(LENIENT), agent: false })
    assert.deepEqual(response, { status: 200, body: 'ok' })
    assert.equal(requests, before + 1)
  })

  test('guarded agents refuse a name resolving to loopback, and connect when allowed', async () => {
    await expectRefused(`http://localhost:${port}/`, { agent: guardedAgents(STRICT).httpAgent })
    const response = await get(`http://localhost:${port}/`, { agent: guardedAgents(LENIENT).httpAgent })
    assert.deepEqual(response, { status: 200, body: 'ok' })
  })

  test('guarded agents also judge IP literal hosts, which skip lookup', async () => {
    await expectRefused(`http://127.0.0.1:${port}/`, { agent: guardedAgents(STRICT).httpAgent })
    const response = await get(`http://127.0.0.1:${port}/`, { agent: guardedAgents(LENIENT).httpAgent })
    assert.deepEqual(response, { status: 200, body: 'ok' })
  })

  test('guarded agents refuse the metadata address under any policy', async () => {
    const agent = guardedAgents(LENIENT).httpAgent
    await assert.rejects(get('http://169.254.169.254/latest/meta-data/', { agent }), (error: NodeJS.ErrnoException) => {
      assert.equal(error.code, REFUSED_CODE)
      assert.match(error.message, /cloud metadata/)
      return true
    })
  })
})

/** Node sets these on every Agent; @types/node declares them only on https.Agent. */
type AgentInternals = http.Agent & { keepAlive: boolean; options: http.AgentOptions }

describe('guardedAgents', () => {
  test('one pair per policy value, shared between calls', () => {
    const strict = guardedAgents({ allowPrivate: false })
    assert.equal(guardedAgents({ allowPrivate: false }), strict)
    assert.equal(guardedAgents(STRICT).httpAgent, strict.httpAgent)
    const lenient = guardedAgents({ allowPrivate: true })
    assert.notEqual(lenient.httpAgent, strict.httpAgent)
    assert.notEqual(lenient.httpsAgent, strict.httpsAgent)
  })

  test('keep-alive agents with 64 sockets and the guarded lookup', async () => {
    const { httpAgent, httpsAgent } = guardedAgents(STRICT)
    assert.ok(httpAgent instanceof http.Agent)
    assert.ok(httpsAgent instanceof https.Agent)
    for (const agent of [httpAgent, httpsAgent] as AgentInternals[]) {
      assert.equal(agent.keepAlive, true)
      assert.equal(agent.maxSockets, 64)
      assert.ok(agent.options.lookup)
      const { error } = await callLookup(agent.options.lookup, 'localhost', {})
      assert.equal(error?.code, REFUSED_CODE)
    }
  })
})
