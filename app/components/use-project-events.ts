import { useEffect, useRef, useState } from 'react'

/** A message from `/api/v1/realtime` (events carry their own fields; see docs/realtime.md). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LiveMessage = { type: string; channel?: string; [field: string]: any }

const RECONNECT_MS = 3_000

/**
 * Listens to a project's live channel from the dashboard (JavaScript only: the session cookie
 * authenticates the WebSocket). Returns whether the subscription is live; reconnects after a drop.
 */
export function useProjectEvents(projectId: string, onMessage: (message: LiveMessage) => void): boolean {
  const [live, setLive] = useState(false)
  const handler = useRef(onMessage)
  handler.current = onMessage

  useEffect(() => {
    let socket: WebSocket | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const channel = `project:${projectId}`
    const connect = () => {
      const url = new URL('/api/v1/realtime', window.location.href)
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
      socket = new WebSocket(url)
      socket.onopen = () => socket?.send(JSON.stringify({ type: 'subscribe', channel }))
      socket.onmessage = (event) => {
        let message: LiveMessage
        try {
          message = JSON.parse(String(event.data)) as LiveMessage
        } catch {
          return
        }
        if (message.type === 'subscribed' && message.channel === channel) setLive(true)
        else handler.current(message)
      }
      socket.onclose = () => {
        setLive(false)
        if (!stopped) retry = setTimeout(connect, RECONNECT_MS)
      }
    }
    connect()
    return () => {
      stopped = true
      clearTimeout(retry)
      socket?.close()
    }
  }, [projectId])

  return live
}
