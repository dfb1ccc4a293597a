import type { RealtimeGrant } from '../types.js'

/** A server phase of one upload, as Carcosa announces it on the upload's realtime channel. */
export type UploadPhase = 'verifying' | 'completed' | 'failed'

export interface UploadWatch {
  /** Resolves once the upload's channel is subscribed (or refused, or the socket failed): never rejects. */
  ready(uploadId: string): Promise<void>
  close(): void
}

/** How long completion waits for a subscription before going on without live phases. */
const SUBSCRIBE_WAIT_MS = 2000

const noWatch: UploadWatch = { ready: () => Promise.resolve(), close: () => {} }

/**
 * Follows uploads on Carcosa's WebSocket with the short-lived token the route handler minted.
 * Best effort: without a WebSocket (Node 20), a refused channel or a lost socket, uploads carry on
 * and only the live phases are missing.
 */
export function watchUploads(
  grant: RealtimeGrant | undefined,
  uploadIds: string[],
  onPhase: (uploadId: string, phase: UploadPhase, reason?: string) => void,
): UploadWatch {
  const Socket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket
  if (!grant || !Socket || uploadIds.length === 0) return noWatch
  const pending = new Map<string, () => void>()
  const waits = new Map(uploadIds.map((id) => [id, new Promise<void>((resolve) => pending.set(id, resolve))] as const))
  const settleAll = () => {
    for (const resolve of pending.values()) resolve()
    pending.clear()
  }
  let socket: WebSocket
  try {
    const url = new URL(grant.url)
    url.searchParams.set('token', grant.token)
    socket = new Socket(url)
  } catch {
    return noWatch
  }
  socket.addEventListener('open', () => {
    for (const id of uploadIds) socket.send(JSON.stringify({ type: 'subscribe', channel: `upload:${id}` }))
  })
  socket.addEventListener('message', (event: MessageEvent) => {
    let message: { type?: string; channel?: string; uploadId?: string; reason?: string }
    try {
      message = JSON.parse(String(event.data))
    } catch {
      return
    }
    const channelId = message.channel?.startsWith('upload:') ? message.channel.slice('upload:'.length) : undefined
    if ((message.type === 'subscribed' || message.type === 'refused') && channelId) {
      pending.get(channelId)?.()
      pending.delete(channelId)
      return
    }
    const id = message.uploadId ?? channelId
    if (!id || !waits.has(id)) return
    if (message.type === 'upload.verifying') onPhase(id, 'verifying')
    else if (message.type === 'upload.completed') onPhase(id, 'completed')
    else if (message.type === 'upload.failed') onPhase(id, 'failed', message.reason)
  })
  socket.addEventListener('error', settleAll)
  socket.addEventListener('close', settleAll)
  return {
    ready: (uploadId) => {
      const wait = waits.get(uploadId)
      if (!wait) return Promise.resolve()
      let timer: ReturnType<typeof setTimeout> | undefined
      return Promise.race([wait, new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]).finally(() =>
        clearTimeout(timer),
      )
    },
    close: () => {
      settleAll()
      if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) socket.close(1000)
    },
  }
}
