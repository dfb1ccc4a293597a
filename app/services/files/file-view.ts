/** The columns of a File that callers see, and their JSON shape (sizes as numbers, never BigInt). */
export const fileSelect = {
  id: true,
  projectId: true,
  tenantId: true,
  path: true,
  name: true,
  size: true,
  contentType: true,
  isPublic: true,
  metadata: true,
  createdAt: true,
  updatedAt: true,
} as const

export interface FileRow {
  id: string
  projectId: string
  tenantId: string | null
  path: string
  name: string
  size: bigint
  contentType: string
  isPublic: boolean
  metadata: unknown
  createdAt: Date
  updatedAt: Date
}

export interface FileView extends Omit<FileRow, 'size'> {
  size: number
}

export const toFileView = (row: FileRow): FileView => ({ ...row, size: Number(row.size) })
