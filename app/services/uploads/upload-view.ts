import type { FileView } from '~/services/files/file-view'

export interface RecordedPart {
  partNumber: number
  etag: string
  size: number
}

/** Parts as stored in Upload.parts; anything malformed is dropped rather than trusted. */
export function storedParts(value: unknown): RecordedPart[] {
  if (!Array.isArray(value)) return []
  return value
    .filter(
      (part): part is RecordedPart =>
        typeof part === 'object' &&
        part !== null &&
        Number.isInteger(part.partNumber) &&
        typeof part.etag === 'string' &&
        Number.isInteger(part.size),
    )
    .sort((a, b) => a.partNumber - b.partNumber)
}

export const partCountOf = (size: number, partSize: number | null) => (partSize ? Math.max(1, Math.ceil(size / partSize)) : null)

/** What `GET /api/v1/uploads/{id}/status` answers: enough for a client to resume or report. */
export interface UploadStatusView {
  uploadId: string
  projectId: string
  tenantId: string | null
  method: 'PUT' | 'MULTIPART' | 'STREAM'
  status: 'PENDING' | 'COMPLETED' | 'FAILED' | 'ABORTED' | 'EXPIRED'
  path: string
  name: string
  contentType: string
  size: number
  partSize: number | null
  partCount: number | null
  parts: RecordedPart[]
  createdAt: Date
  expiresAt: Date
  completedAt: Date | null
  failureReason: string | null
  file: FileView | null
}

export function toUploadStatus(
  upload: {
    id: string
    projectId: string
    tenantId: string | null
    method: UploadStatusView['method']
    status: UploadStatusView['status']
    path: string
    fileName: string
    contentType: string
    size: bigint
    partSize: number | null
    parts: unknown
    createdAt: Date
    expiresAt: Date
    completedAt: Date | null
    failureReason: string | null
  },
  file: FileView | null,
): UploadStatusView {
  const size = Number(upload.size)
  return {
    uploadId: upload.id,
    projectId: upload.projectId,
    tenantId: upload.tenantId,
    method: upload.method,
    status: upload.status,
    path: upload.path,
    name: upload.fileName,
    contentType: upload.contentType,
    size,
    partSize: upload.partSize,
    partCount: upload.method === 'MULTIPART' ? partCountOf(size, upload.partSize) : null,
    parts: storedParts(upload.parts),
    createdAt: upload.createdAt,
    expiresAt: upload.expiresAt,
    completedAt: upload.completedAt,
    failureReason: upload.failureReason,
    file,
  }
}
