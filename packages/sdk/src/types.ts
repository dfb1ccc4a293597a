/** A verified file in a Carcosa project, as the REST API answers it (dates as ISO strings). */
export interface CarcosaFile {
  id: string
  projectId: string
  tenantId: string | null
  /** The project-relative path transform URLs name, e.g. `tenant-a/3f2a9c0d1e2b-avatar.png`. */
  path: string
  name: string
  size: number
  contentType: string
  isPublic: boolean
  metadata: unknown
  createdAt: string
  updatedAt: string
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface PageOptions {
  /** 1-100, default 20. */
  limit?: number
  /** `nextCursor` of the previous page. */
  cursor?: string
}

export interface Tenant {
  id: string
  projectId: string
  slug: string
  name: string
  metadata: Record<string, unknown>
  createdAt: string
  updatedAt: string
}

export type TransformParams = Record<string, string | number | boolean>

export interface TransformPreset {
  id: string
  projectId: string
  name: string
  params: TransformParams
  createdAt: string
  updatedAt: string
}

export interface CompletedPart {
  partNumber: number
  etag: string
}

/** How the bytes of one upload travel: one signed PUT, or signed parts of a multipart upload. */
export type TransferPlan =
  { method: 'PUT'; url: string; headers: Record<string, string> } | { method: 'MULTIPART'; partSize: number; partCount: number }

export interface SignedPart {
  partNumber: number
  url: string
  headers: Record<string, string>
}

/** What `POST /api/v1/uploads/init` answers. */
export type InitUploadResult = {
  uploadId: string
  path: string
  name: string
  expiresAt: string
  maxSize: number
} & TransferPlan

/** A short-lived realtime token the route handler minted for the uploads of one call, and where to use it. */
export interface RealtimeGrant {
  /** Carcosa's WebSocket endpoint, `wss://.../api/v1/realtime`. */
  url: string
  token: string
  expiresAt: string
}

/** What the route handler answers `actionType=upload`: one presigned upload per file, and a realtime grant when it offers one. */
export interface StartedUploads {
  uploads: PresignedUpload[]
  realtime?: RealtimeGrant
}

/** What the route handler hands back to the browser after `actionType=upload`, per file. */
export type PresignedUpload = {
  uploadId: string
  /** Binds later calls (complete, parts, abort) to this upload and route; opaque to the client. */
  token: string
  name: string
  size: number
  type: string
  expiresAt: string
} & TransferPlan

/** A file the route handler verified, as the uploader resolves it. */
export interface UploadedFile<TServerData = unknown> {
  /** The file's id in Carcosa (what `deleteFiles`, `getFile` and `getDownloadUrl` take). */
  key: string
  name: string
  size: number
  type: string
  /** Project-relative path, for transform URLs. */
  path: string
  tenantId: string | null
  /** A short-lived signed download URL. */
  url: string
  /** What `onUploadComplete` returned. */
  serverData: TServerData
}

/** The file as `onUploadComplete` receives it. */
export interface CompletedFile {
  key: string
  name: string
  size: number
  type: string
  path: string
  tenantId: string | null
  /** A short-lived signed download URL. */
  url: string
  uploadId: string
}

/** What a route answers on `GET`: its slug and limits, for pickers and client-side checks. */
export interface RouteConfigEntry {
  slug: string
  config: Record<string, { maxFileSize: number; maxFileCount: number; minFileCount: number }>
}
