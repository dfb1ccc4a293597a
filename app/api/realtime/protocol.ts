import { z } from 'zod'

/** The one path that accepts WebSocket upgrades. */
export const REALTIME_PATH = '/api/v1/realtime'

/** Largest message a client may send; every client message is a few dozen bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096

/** What a client sends (JSON text frames). */
export const clientMessageSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('subscribe'), channel: z.string({ error: 'channel must be text' }).max(200, 'channel is too long') }),
    z.object({ type: z.literal('unsubscribe'), channel: z.string({ error: 'channel must be text' }).max(200, 'channel is too long') }),
    // Browsers cannot send ping frames; this lets them check the connection.
    z.object({ type: z.literal('ping') }),
  ],
  { error: 'type must be subscribe, unsubscribe or ping' },
)
export type ClientMessage = z.output<typeof clientMessageSchema>

/** What the server sends besides published events (which carry their own `type` and `channel`). */
export type ServerMessage =
  | { type: 'subscribed'; channel: string }
  | { type: 'unsubscribed'; channel: string }
  | { type: 'refused'; channel: string; code: 'not_found' | 'limit' | 'unavailable'; detail: string }
  | { type: 'error'; code: 'invalid_message'; detail: string }
  | { type: 'pong' }
