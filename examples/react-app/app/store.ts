/**
 * The example's own records, in memory (a real application keeps them in its database): what
 * onUploadComplete learned about each file. Carcosa keeps the files; the app keeps what they mean.
 */
export interface Photo {
  path: string
  name: string
  owner: string
}

export interface DocumentRecord {
  key: string
  name: string
  owner: string
  tenantId: string | null
}

const avatars = new Map<string, string>()
const photos: Photo[] = []
const documents: DocumentRecord[] = []

export const store = {
  avatarOf: (user: string) => avatars.get(user) ?? null,
  setAvatar: (user: string, path: string) => void avatars.set(user, path),
  photos: () => [...photos],
  addPhoto: (photo: Photo) => void photos.unshift(photo),
  documentsOf: (user: string) => documents.filter((d) => d.owner === user),
  addDocument: (record: DocumentRecord) => void documents.unshift(record),
  /** Paths a visitor may see as images: the public gallery, and their own avatar. */
  visiblePaths: (user: string | null) => new Set([...photos.map((p) => p.path), ...(user && avatars.has(user) ? [avatars.get(user)!] : [])]),
}
