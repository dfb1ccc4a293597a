/**
 * Compile-time checks of the types that flow from a router to the uploader: checked by `tsc -p
 * test/types` (packages/sdk/test/types.test.ts runs it). Each `@ts-expect-error` line must fail to
 * compile; if a mistake ever compiles, tsc reports the unused directive and the test fails.
 */
import { z } from 'zod'
import { genUploader } from '@carcosa/sdk/client'
import { createCarcosa, createUploadRouter, f as seedF, type FileRouter } from '@carcosa/sdk/server'

const f = createCarcosa()

const _router = {
  avatar: f({ image: { maxFileSize: '4MB', maxFileCount: 1 } })
    .input(z.object({ albumId: z.string() }))
    .middleware(async ({ req, input }) => ({ userId: req.headers.get('x-user') ?? 'anonymous', albumId: input.albumId }))
    .onUploadComplete(async ({ metadata, file }) => ({ uploadedBy: metadata.userId, key: file.key })),
  document: f({ pdf: { maxFileSize: '1.5GB' }, 'application/json': { maxFileSize: '512KB' } }).onUploadComplete(() => {}),
} satisfies FileRouter
type AppRouter = typeof _router

const uploader = genUploader<AppRouter>({ url: 'http://localhost/api/uploads' })
const file = new File(['x'], 'a.png', { type: 'image/png' })

async function correct() {
  const [result] = await uploader.uploadFiles('avatar', { files: [file], input: { albumId: 'a1' } })
  const uploadedBy: string = result!.serverData.uploadedBy
  const key: string = result!.serverData.key
  const docs = await uploader.uploadFiles('document', { files: [file] })
  const nothing: null = docs[0]!.serverData
  return [uploadedBy, key, nothing]
}

async function mistakes() {
  // @ts-expect-error: no route of that name
  await uploader.uploadFiles('avatr', { files: [file], input: { albumId: 'a1' } })
  // @ts-expect-error: the input must have albumId
  await uploader.uploadFiles('avatar', { files: [file], input: { album: 'a1' } })
  // @ts-expect-error: albumId is a string
  await uploader.uploadFiles('avatar', { files: [file], input: { albumId: 1 } })
  // @ts-expect-error: the route has an input, so it is required
  await uploader.uploadFiles('avatar', { files: [file] })
  const [result] = await uploader.uploadFiles('avatar', { files: [file], input: { albumId: 'a1' } })
  // @ts-expect-error: serverData has no such field
  void result!.serverData.uploadedAt
  // @ts-expect-error: a size needs a unit
  f({ image: { maxFileSize: '4 megabytes' } })
  const withMetadata = f({ image: {} }).middleware(() => ({ userId: 'u' }))
  // @ts-expect-error: the middleware's metadata has no such field
  withMetadata.onUploadComplete(({ metadata }) => metadata.teamId)
}

// The seed's form: chained, the routes' types reach the client too.
const _seedRouter = createUploadRouter().addRoute(
  'profileImage',
  seedF
    .imageUploader({ maxFileSize: '2MB' })
    .middleware(async ({ req }) => ({ projectId: String(req.headers['x-project-id']) }))
    .onUploadComplete(async ({ metadata }) => ({ projectId: metadata.projectId })),
)
const seedUploader = genUploader<typeof _seedRouter>({ url: 'http://localhost/api/uploads' })
async function seedForm() {
  const [result] = await seedUploader.uploadFiles('profileImage', { files: [file] })
  const projectId: string = result!.serverData.projectId
  // @ts-expect-error: the seed router has no such route
  await seedUploader.uploadFiles('avatar', { files: [file] })
  return projectId
}

export { correct, mistakes, seedForm }
