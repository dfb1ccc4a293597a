/**
 * Compile-time checks of the types that flow from a router to the React helpers and components:
 * checked by `tsc -p test/types` (test/types.test.ts runs it). Each `@ts-expect-error` line must
 * fail to compile; if a mistake ever compiles, tsc reports the unused directive and the test fails.
 */
import { z } from 'zod'
import { createCarcosa, type FileRouter } from '@carcosa/sdk/server'
import { CarcosaImage, generateReactHelpers, generateUploadButton, generateUploadDropzone } from '@carcosa/react'

const f = createCarcosa()
const _router = {
  avatar: f({ image: { maxFileSize: '2MB' } })
    .input(z.object({ albumId: z.string() }))
    .onUploadComplete(() => ({ avatarPath: 'a/b.png' })),
  documents: f({ pdf: { maxFileCount: 5 } }).onUploadComplete(() => {}),
} satisfies FileRouter
type AppRouter = typeof _router

const UploadButton = generateUploadButton<AppRouter>()
const UploadDropzone = generateUploadDropzone<AppRouter>({ url: '/api/uploads' })
const { useUpload } = generateReactHelpers<AppRouter>({ url: '/api/uploads' })

export function Correct() {
  const { startUpload, files } = useUpload('avatar', { onClientUploadComplete: (done) => done[0]?.serverData.avatarPath.toUpperCase() })
  void startUpload([new File(['x'], 'a.png')], { albumId: 'a1' })
  const path: string | undefined = files[0]?.result?.serverData.avatarPath
  const documents = useUpload('documents')
  void documents.startUpload([])
  return (
    <>
      <UploadButton
        endpoint="avatar"
        input={{ albumId: 'a1' }}
        onClientUploadComplete={(done) => done[0]?.serverData.avatarPath.toLowerCase()}
      />
      <UploadDropzone
        endpoint="documents"
        config={{ mode: 'manual' }}
        onClientUploadComplete={(done) => done.map((d) => d.serverData satisfies null)}
      />
      <CarcosaImage src={path ?? ''} alt="" width={10} height={10} priority />
      <CarcosaImage src="x.png" alt="Filled" fill sizes="50vw" placeholder="blur" format="webp" fit="cover" quality={80} />
    </>
  )
}

export function Mistakes() {
  // @ts-expect-error: no such route
  useUpload('avatars')
  const { startUpload } = useUpload('avatar')
  // @ts-expect-error: the route's input is required and typed
  void startUpload([], { album: 1 })
  return (
    <>
      {/* @ts-expect-error: no such route */}
      <UploadButton endpoint="avatars" />
      {/* @ts-expect-error: serverData is typed from onUploadComplete */}
      <UploadDropzone endpoint="avatar" onClientUploadComplete={(done) => done[0]?.serverData.nope} />
      {/* @ts-expect-error: alt is required */}
      <CarcosaImage src="x.png" width={10} />
      {/* @ts-expect-error: placeholder is empty or blur */}
      <CarcosaImage src="x.png" alt="" width={10} placeholder="shimmer" />
    </>
  )
}
