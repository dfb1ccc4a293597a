/** The channels a realtime client can subscribe to: one project's events, or one upload's progress. */
export type RealtimeChannel = { kind: 'project'; id: string; name: string } | { kind: 'upload'; id: string; name: string }

const CHANNEL = /^(project|upload):([A-Za-z0-9_-]{1,64})$/

/** `project:<id>` or `upload:<id>`; anything else is null (and refused like a channel that does not exist). */
export function parseChannel(name: string): RealtimeChannel | null {
  const match = CHANNEL.exec(name)
  if (!match) return null
  return { kind: match[1] as 'project' | 'upload', id: match[2]!, name }
}

export const projectChannel = (projectId: string) => `project:${projectId}`
export const uploadChannel = (uploadId: string) => `upload:${uploadId}`
