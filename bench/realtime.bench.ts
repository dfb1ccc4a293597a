/**
 * Realtime fan-out: `npm run bench:realtime` (results in docs/benchmarks.md).
 *
 * 1,000 WebSocket clients (in a child process, on loopback) subscribe to one project channel of
 * Carcosa's realtime endpoint (authenticated with a realtime token, so no database is involved);
 * this process publishes events on the hub at a steady rate and the clients record publish-to-receive
 * latency. Memory per idle connection is this process's growth (RSS and V8 heap + external, after GC)
 * from before the clients connect to after they have connected and subscribed, divided by their number.
 * The reference in the same run: a bare `ws` server broadcasting the same frames to the same number
 * of clients (no authentication, no hub, no bounds).
 *
 * Flags: --connections N (1000), --messages N (100), --interval-ms N (50).
 */
import { fork, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import os from 'node:os'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { WebSocket, WebSocketServer } from 'ws'

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 ? Number(process.argv[index + 1]) : fallback
}
const CONNECTIONS = argument('connections', 1_000)
const MESSAGES = argument('messages', 100)
const INTERVAL_MS = argument('interval-ms', 50)
const CHANNEL = 'project:benchproject'
const now = () => performance.timeOrigin + performance.now()

interface ClientReport {
  received: number
  latencies: { p50: number; p99: number; p999: number; max: number }
}

// ------------------------------------------------------------------------------------------------
// Child: the clients.

async function runClients(url: string, subscribe: boolean) {
  const latencies: number[] = []
  const sockets: WebSocket[] = []
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false })
      sockets.push(ws)
      ws.once('error', reject)
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; sentAt?: number }
        if (frame.type === 'subscribed') return resolve()
        if (frame.sentAt !== undefined) latencies.push(now() - frame.sentAt)
      })
      ws.once('open', () => {
        if (subscribe) ws.send(JSON.stringify({ type: 'subscribe', channel: CHANNEL }))
        else resolve()
      })
    })
  for (let i = 0; i < CONNECTIONS; i += 100) await Promise.all(Array.from({ length: Math.min(100, CONNECTIONS - i) }, open))
  process.send!({ ready: true })
  process.on('message', async (message: { report?: boolean }) => {
    if (!message.report) return
    const expected = CONNECTIONS * MESSAGES
    const deadline = Date.now() + 10_000
    while (latencies.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    latencies.sort((a, b) => a - b)
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? Number.NaN
    const report: ClientReport = {
      received: latencies.length,
      latencies: { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: latencies.at(-1) ?? Number.NaN },
    }
    for (const ws of sockets) ws.terminate()
    process.send!(report, () => process.exit(0))
  })
}

// ------------------------------------------------------------------------------------------------
// Parent: the servers and the measurements.

const gc = (() => {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()

function memory() {
  for (let i = 0; i < 3; i++) gc()
  const usage = process.memoryUsage()
  return { rss: usage.rss, heap: usage.heapUsed + usage.external + usage.arrayBuffers }
}

function startClients(url: string, subscribe: boolean): Promise<ChildProcess> {
  const child = fork(
    fileURLToPath(import.meta.url),
    ['--child', url, subscribe ? 'subscribe' : 'plain', '--connections', String(CONNECTIONS), '--messages', String(MESSAGES)],
    {
      execArgv: ['--import', 'tsx'],
    },
  )
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child))
    child.once('exit', (code) => reject(new Error(`the clients exited (${code}) before connecting`)))
  })
}

async function measure(
  name: string,
  listen: () => Promise<{ url: string; subscribe: boolean; publish: (sequence: number) => void; close: () => Promise<void> }>,
) {
  const before = memory()
  const server = await listen()
  const clients = await startClients(server.url, server.subscribe)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const after = memory()
  const started = performance.now()
  // How long the synchronous fan-out (serializing, queueing a write on every socket) holds the event loop.
  const publishMs: number[] = []
  for (let sequence = 0; sequence < MESSAGES; sequence++) {
    const due = started + sequence * INTERVAL_MS
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const before = performance.now()
    server.publish(sequence)
    publishMs.push(performance.now() - before)
  }
  publishMs.sort((a, b) => a - b)
  const report = await new Promise<ClientReport>((resolve) => {
    clients.once('message', (message) => resolve(message as ClientReport))
    clients.send({ report: true })
  })
  await server.close()
  return {
    name,
    received: report.received,
    expected: CONNECTIONS * MESSAGES,
    ...report.latencies,
    publishP50: publishMs[Math.floor(publishMs.length / 2)] ?? Number.NaN,
    publishMax: publishMs.at(-1) ?? Number.NaN,
    rssPerConnection: (after.rss - before.rss) / CONNECTIONS,
    heapPerConnection: (after.heap - before.heap) / CONNECTIONS,
  }
}

async function main() {
  process.env.NODE_ENV ??= 'production'
  process.env.LOG_LEVEL ??= 'warn'
  process.env.SESSION_SECRET ??= 'bench-realtime-session-secret-0123456789abcdef'
  process.env.CREDENTIALS_ENCRYPTION_KEY ??= 'base64:Y2FyY29zYS10ZXN0LWNyZWRlbnRpYWxzLWtleS0zMmI='
  delete process.env.REDIS_URL
  // Loaded after the environment is set: the configuration is read once.
  const { createRealtimeHub } = await import('../app/utils/realtime-hub.server')
  const { createRealtimeServer, limitsFromConfig } = await import('../app/api/realtime/realtime-server.server')
  const { signRealtimeToken } = await import('../app/services/realtime/realtime-tokens.server')

  const listenOn = async (server: http.Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }

  const carcosa = await measure('Carcosa /api/v1/realtime (token auth, hub, bounds)', async () => {
    const hub = createRealtimeHub()
    const limits = { ...limitsFromConfig(), maxConnectionsPerCredential: CONNECTIONS + 10, maxSubscriptionsPerCredential: CONNECTIONS + 10 }
    const realtime = createRealtimeServer({ hub, limits })
    const server = http.createServer((_req, res) => res.writeHead(404).end())
    server.on('upgrade', (req, socket, head) => realtime.handleUpgrade(req, socket, head))
    const port = await listenOn(server)
    const token = signRealtimeToken({ projectId: 'benchproject', uploadIds: null, expiresAt: new Date(Date.now() + 3_600_000) }, 'bench')
    return {
      url: `ws://127.0.0.1:${port}/api/v1/realtime?token=${token}`,
      subscribe: true,
      publish: (sequence) => hub.publish(CHANNEL, { type: 'bench.event', sequence, sentAt: now() }),
      close: async () => {
        await realtime.close()
        await hub.close()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      },
    }
  })

  const reference = await measure('bare ws broadcast (reference)', async () => {
    const server = http.createServer((_req, res) => res.writeHead(404).end())
    const wss = new WebSocketServer({ server, perMessageDeflate: false })
    const port = await listenOn(server)
    return {
      url: `ws://127.0.0.1:${port}/`,
      subscribe: false,
      publish: (sequence) => {
        const frame = JSON.stringify({ type: 'bench.event', sequence, sentAt: now(), channel: CHANNEL })
        for (const ws of wss.clients) ws.send(frame)
      },
      close: async () => {
        for (const ws of wss.clients) ws.terminate()
        await new Promise<void>((resolve) => wss.close(() => resolve()))
        await new Promise<void>((resolve) => server.close(() => resolve()))
      },
    }
  })

  const ms = (value: number) => `${value.toFixed(2)} ms`
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  console.log(`\n${CONNECTIONS} connections, ${MESSAGES} events every ${INTERVAL_MS} ms, ${process.version}`)
  console.log(
    `load average (1, 5, 15 min): ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(', ')} on ${os.cpus().length} cores\n`,
  )
  console.log(
    '| server | delivered | p50 | p99 | p99.9 | max | fan-out call p50 / max | RSS per idle connection | heap+external per idle connection |',
  )
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const row of [carcosa, reference]) {
    console.log(
      `| ${row.name} | ${row.received}/${row.expected} | ${ms(row.p50)} | ${ms(row.p99)} | ${ms(row.p999)} | ${ms(row.max)} | ${ms(row.publishP50)} / ${ms(row.publishMax)} | ${kib(row.rssPerConnection)} | ${kib(row.heapPerConnection)} |`,
    )
  }
  console.log(
    `\np99 ratio Carcosa / bare ws: ${(carcosa.p99 / reference.p99).toFixed(2)}; heap per connection ratio: ${(carcosa.heapPerConnection / reference.heapPerConnection).toFixed(2)}`,
  )
  console.log(`target: p99 under 50 ms -> ${carcosa.p99 < 50 ? 'met' : 'MISSED'}`)
}

if (process.argv[2] === '--child') {
  await runClients(process.argv[3]!, process.argv[4] === 'subscribe')
} else {
  await main()
}
