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

/** The same columns for hand-written SQL. */
export const FILE_COLUMNS = Object.keys(fileSelect)
  .map((column) => `"${column}"`)
  .join(', ')

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

/** Field by field: a row read with more columns (its object key, its bucket) never leaks through. */
export const toFileView = (row: FileRow): FileView => ({
  id: row.id,
  projectId: row.projectId,
  tenantId: row.tenantId,
  path: row.path,
  name: row.name,
  size: Number(row.size),
  contentType: row.contentType,
  isPublic: row.isPublic,
  metadata: row.metadata,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
})
