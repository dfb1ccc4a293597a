import { useState } from 'react'
import {
  CarcosaImage,
  CarcosaImageProvider,
  generateUploadButton,
  generateUploadDropzone,
  type ImageDescriptor,
  type SignedImages,
} from '@carcosa/react'
import type { AppRouter } from './router'
import type { DocumentRecord, Photo } from './store'

const UploadButton = generateUploadButton<AppRouter>({ url: '/api/uploads' })
const UploadDropzone = generateUploadDropzone<AppRouter>({ url: '/api/uploads' })

/** The images' descriptors, shared by the server (signImages) and the components, so both name the same URLs. */
export const avatarImage = (path: string): ImageDescriptor => ({ src: path, width: 96, height: 96, fit: 'cover' })
export const galleryImage = (path: string): ImageDescriptor => ({
  src: path,
  width: 320,
  height: 240,
  fit: 'cover',
  sizes: '(min-width: 960px) 320px, (min-width: 640px) 50vw, 100vw',
  placeholder: 'blur',
})

export interface PageData {
  user: string | null
  avatar: string | null
  photos: Photo[]
  documents: DocumentRecord[]
  signed: SignedImages
}

export function Page(data: PageData) {
  const [avatar, setAvatar] = useState(data.avatar)
  const [photos, setPhotos] = useState(data.photos)
  const [documents, setDocuments] = useState(data.documents)
  const [lastShared, setLastShared] = useState<string[]>([])
  const { user } = data

  return (
    <CarcosaImageProvider signed={data.signed} url="/api/uploads">
      <header className="bar">
        <p className="brand">Carcosa example</p>
        {user ? (
          <form method="post" action="/sign-out" className="inline">
            <span>Signed in as {user}</span> <button type="submit">Sign out</button>
          </form>
        ) : (
          <form method="post" action="/sign-in" className="inline">
            <label htmlFor="name">Your name</label> <input id="name" name="name" required maxLength={40} autoComplete="nickname" />{' '}
            <button type="submit">Sign in</button>
          </form>
        )}
      </header>
      <main>
        <h1>Uploads and images with Carcosa</h1>
        <noscript>
          <p>Uploading needs JavaScript; the gallery works without it.</p>
        </noscript>
        {user ? (
          <>
            <section aria-labelledby="avatar-heading">
              <h2 id="avatar-heading">Avatar</h2>
              {avatar ? <CarcosaImage {...avatarImage(avatar)} alt={`Avatar of ${user}`} priority className="avatar" /> : <p>No avatar yet.</p>}
              <UploadButton
                endpoint="avatar"
                content={{ button: 'Choose an avatar' }}
                onClientUploadComplete={([file]) => file && setAvatar(file.serverData.avatarPath)}
              />
            </section>
            <section aria-labelledby="documents-heading">
              <h2 id="documents-heading">Documents</h2>
              <p>Your PDFs are stored in your own tenant.</p>
              <UploadDropzone
                endpoint="documents"
                content={{ button: 'Choose PDFs or drag and drop them here' }}
                onClientUploadComplete={(files) =>
                  setDocuments((current) => [
                    ...files.map((file) => ({ key: file.key, name: file.name, owner: user, tenantId: file.serverData.tenantId })),
                    ...current,
                  ])
                }
              />
              {documents.length > 0 ? (
                <ul aria-label="Your documents">
                  {documents.map((doc) => (
                    <li key={doc.key}>
                      {doc.name} <small>(tenant {doc.tenantId})</small>
                    </li>
                  ))}
                </ul>
              ) : null}
            </section>
          </>
        ) : (
          <p>Sign in to upload an avatar, documents and photos.</p>
        )}
        <section aria-labelledby="gallery-heading">
          <h2 id="gallery-heading">Gallery</h2>
          {user ? (
            <UploadDropzone
              endpoint="photos"
              config={{ mode: 'auto' }}
              content={{ button: 'Add photos: choose them or drag and drop' }}
              onClientUploadComplete={(files) => {
                setLastShared(files.map((file) => file.serverData.caption))
                setPhotos((current) => [...files.map((file) => ({ path: file.serverData.photoPath, name: file.name, owner: user })), ...current])
              }}
            />
          ) : null}
          {lastShared.length > 0 ? (
            <p className="shared" aria-label="Last shared">
              Shared: {lastShared.join('; ')}
            </p>
          ) : null}
          {photos.length > 0 ? (
            <ul className="gallery" aria-label="Photos">
              {photos.map((photo) => (
                <li key={photo.path}>
                  <figure>
                    <CarcosaImage {...galleryImage(photo.path)} alt={photo.name} />
                    <figcaption>
                      {photo.name}, by {photo.owner}
                    </figcaption>
                  </figure>
                </li>
              ))}
            </ul>
          ) : (
            <p>No photos yet.</p>
          )}
        </section>
      </main>
    </CarcosaImageProvider>
  )
}
