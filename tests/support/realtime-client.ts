/**
 * A realtime client for tests: a real `ws` WebSocket that records every message and lets a test
 * wait for the one it expects, as an SDK would.
 */
import { WebSocket } from 'ws'

// Tests read whatever shape they expect, as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RealtimeFrame = { type: string; channel?: string; [field: string]: any }

export interface TestRealtimeClient {
  ws: WebSocket
  /** Every message received so far, parsed. */
  messages: RealtimeFrame[]
  send(message: unknown): void
  /** The first message (received from index `from` on, or to come) matching `match`; rejects after `timeoutMs`. */
  next(match: (frame: RealtimeFrame) => boolean, timeoutMs?: number, from?: number): Promise<RealtimeFrame>
  /** Sends subscribe and waits for the answer about that channel (subscribed or refused). */
  subscribe(channel: string): Promise<RealtimeFrame>
  /** Resolves with the close code once the connection has closed. */
  closed: Promise<number>
  close(): Promise<void>
}

/** Opens a connection; resolves once open, rejects with the HTTP status when the upgrade is refused. */
export function connectRealtime(url: string, headers: Record<string, string> = {}): Promise<TestRealtimeClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false })
    const messages: RealtimeFrame[] = []
    const waiters = new Set<{ match: (frame: RealtimeFrame) => boolean; resolve: (frame: RealtimeFrame) => void }>()
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as RealtimeFrame
      messages.push(frame)
      for (const waiter of [...waiters]) {
        if (waiter.match(frame)) {
          waiters.delete(waiter)
          waiter.resolve(frame)
        }
      }
    })
    const closed = new Promise<number>((resolveClosed) => ws.once('close', (code) => resolveClosed(code)))
    ws.once('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () =>
        reject(Object.assign(new Error(`upgrade refused: ${response.statusCode} ${body}`), { status: response.statusCode, body })),
      )
    })
    ws.once('error', reject)
    ws.once('open', () => {
      ws.off('error', reject)
      ws.on('error', () => {})
      const client: TestRealtimeClient = {
        ws,
        messages,
        closed,
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        next(match, timeoutMs = 5_000, from = 0) {
          const seen = messages.slice(from).find(match)
          if (seen) return Promise.resolve(seen)
          return new Promise((resolveNext, rejectNext) => {
            const waiter = {
              match,
              resolve: (frame: RealtimeFrame) => {
                clearTimeout(timer)
                resolveNext(frame)
              },
            }
            const timer = setTimeout(() => {
              waiters.delete(waiter)
              rejectNext(new Error(`no matching message within ${timeoutMs} ms; received: ${JSON.stringify(messages).slice(0, 2000)}`))
            }, timeoutMs)
            waiters.add(waiter)
          })
        },
        subscribe(channel) {
          // Only the answer to this request: an earlier one about the same channel may be in `messages`.
          const answered = client.next(
            (frame) => frame.channel === channel && (frame.type === 'subscribed' || frame.type === 'refused'),
            5_000,
            messages.length,
          )
          client.send({ type: 'subscribe', channel })
          return answered
        },
        async close() {
          if (ws.readyState === WebSocket.CLOSED) return
          ws.close()
          await closed
        },
      }
      resolve(client)
    })
  })
}

/** The HTTP status and problem body of an upgrade the server refuses (fails if it is accepted). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  try {
    const client = await connectRealtime(url, headers)
    await client.close()
  } catch (error) {
    const { status, body } = error as { status?: number; body?: string }
    if (status === undefined) throw error
    return { status, body: body ? JSON.parse(body) : undefined }
  }
  throw new Error('the upgrade was accepted')
}
