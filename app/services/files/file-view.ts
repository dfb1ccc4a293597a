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

/**
 * The same columns as PostgreSQL's JSON of a FileView: the keys in toFileView's order, the size a
 * number, times as JSON.stringify writes a Date (UTC, milliseconds).
 */
export const FILE_JSON = `json_build_object(${Object.keys(fileSelect)
  .map((column) => {
    const value = column === 'createdAt' || column === 'updatedAt' ? `to_char("${column}", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : `"${column}"`
    return `'${column}', ${value}`
  })
  .join(', ')})`

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
