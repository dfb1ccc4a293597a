import type { Request } from 'express'
import { CarcosaError, createCarcosa, type FileRouter } from '@carcosa/sdk/express'
import { userFrom, tenantSlugOf } from './session'
import { store } from './store'

const f = createCarcosa()

/** Refuses visitors who are not signed in (the routes' middleware is your server deciding). */
function requireUser(req: Request) {
  const user = userFrom(req.headers.cookie)
  if (!user) throw new CarcosaError({ code: 'FORBIDDEN', message: 'Sign in to upload' })
  return user
}

export const router = {
  avatar: f({ image: { maxFileSize: '2MB', maxFileCount: 1 } })
    .middleware(({ req }) => ({ user: requireUser(req) }))
    .onUploadComplete(({ metadata, file }) => {
      store.setAvatar(metadata.user, file.path)
      return { avatarPath: file.path, uploadedBy: metadata.user }
    }),
  documents: f({ pdf: { maxFileSize: '4MB', maxFileCount: 5 }, tenant: ({ metadata }) => metadata.tenant as string })
    .middleware(({ req }) => {
      const user = requireUser(req)
      return { user, tenant: tenantSlugOf(user) }
    })
    .onUploadComplete(({ metadata, file }) => {
      store.addDocument({ key: file.key, name: file.name, owner: metadata.user, tenantId: file.tenantId })
      return { documentId: file.key, tenantId: file.tenantId }
    }),
  photos: f({ image: { maxFileSize: '4MB', maxFileCount: 6 } })
    .middleware(({ req }) => ({ user: requireUser(req) }))
    .onUploadComplete(({ metadata, file }) => {
      store.addPhoto({ path: file.path, name: file.name, owner: metadata.user })
      return { photoPath: file.path, caption: `${file.name}, shared by ${metadata.user}` }
    }),
} satisfies FileRouter

export type AppRouter = typeof router
