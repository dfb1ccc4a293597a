import { useCallback, useEffect, useRef, useState } from 'react'
import {
  CarcosaError,
  checkRouteFiles,
  genUploader,
  type GenUploaderOptions,
  type RouteConfigEntry,
  type UploadedFile,
} from '@carcosa/sdk/client'
import type { inferRouteInput, inferRouteSlugs, inferServerData } from '@carcosa/sdk/server'

/**
 * Where one file is: `uploading` (bytes moving), then `finishing` (bytes landed, the server is
 * completing it) or, with live phases, `verifying` (Carcosa checks the object) and `processing`
 * (your onUploadComplete runs); then `done`, `failed` or `cancelled`. `refused` files never started.
 */
export type FileStatus = 'uploading' | 'finishing' | 'verifying' | 'processing' | 'done' | 'failed' | 'cancelled' | 'refused'

export interface FileState<TServerData = unknown> {
  name: string
  size: number
  status: FileStatus
  /** 0-100, whole numbers. */
  progress: number
  uploadId?: string
  result?: UploadedFile<TServerData>
  error?: string
}

export interface UseUploadOptions<TServerData> {
  onClientUploadComplete?: (files: UploadedFile<TServerData>[]) => void
  /** Every file of the call together, 0-100. */
  onUploadProgress?: (progress: number) => void
  /** A file's bytes start moving. */
  onUploadBegin?: (name: string) => void
  /** Refused before upload (type, size, count), by your middleware, or failed on the way. */
  onUploadError?: (error: CarcosaError) => void
  /** `abort()` stopped the upload. */
  onUploadAborted?: () => void
  /** Sent to your route handler (e.g. an Authorization header). */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)
}

export interface UseUploadResult<TInput, TServerData> {
  /** Checks the files against the route, then uploads; resolves to the uploaded files, or undefined when refused, failed or aborted. */
  startUpload: (
    files: File[],
    ...input: undefined extends TInput ? [input?: TInput] : [input: TInput]
  ) => Promise<UploadedFile<TServerData>[] | undefined>
  isUploading: boolean
  /** Every file of the current call, 0-100. */
  progress: number
  files: FileState<TServerData>[]
  /** Stops the upload under way. */
  abort: () => void
  /** The route's limits (from the handler's GET); undefined until they arrive. */
  routeConfig: RouteConfigEntry | undefined
  /** The last refusal or failure. */
  error: CarcosaError | undefined
}

export type GenerateReactHelpersOptions = GenUploaderOptions

const asCarcosaError = (error: unknown) =>
  error instanceof CarcosaError
    ? error
    : new CarcosaError({ code: 'INTERNAL_SERVER_ERROR', message: error instanceof Error ? error.message : String(error) })

/** One fetch of a handler's routes per URL, shared by every hook on the page. */
const routeConfigs = new Map<string, Promise<RouteConfigEntry[]>>()

/**
 * The hooks for your router: `const { useUpload, uploadFiles } = generateReactHelpers<AppRouter>({ url: '/api/uploads' })`.
 * Slugs, `input` and `serverData` are typed from the router, as with the SDK's `genUploader`.
 */
export function generateReactHelpers<TRouter>(options: GenerateReactHelpersOptions) {
  const uploader = genUploader<TRouter>(options)
  const configKey = String(options.url)
  const loadRouteConfig = () => {
    let config = routeConfigs.get(configKey)
    if (!config) {
      config = uploader.routeConfig()
      routeConfigs.set(configKey, config)
      config.catch(() => routeConfigs.delete(configKey))
    }
    return config
  }

  function useUpload<TSlug extends inferRouteSlugs<TRouter>>(
    endpoint: TSlug,
    opts: UseUploadOptions<inferServerData<TRouter, TSlug>> = {},
  ): UseUploadResult<inferRouteInput<TRouter, TSlug>, inferServerData<TRouter, TSlug>> {
    type ServerData = inferServerData<TRouter, TSlug>
    const [files, setFiles] = useState<FileState<ServerData>[]>([])
    const [progress, setProgress] = useState(0)
    const [isUploading, setUploading] = useState(false)
    const [error, setError] = useState<CarcosaError>()
    const [routeConfig, setRouteConfig] = useState<RouteConfigEntry>()
    const controller = useRef<AbortController | null>(null)
    // The latest callbacks, without restarting anything when the parent re-renders.
    const callbacks = useRef(opts)
    useEffect(() => {
      callbacks.current = opts
    })

    useEffect(() => {
      let live = true
      loadRouteConfig().then(
        (routes) => {
          if (!live) return
          const entry = routes.find((route) => route.slug === endpoint)
          setRouteConfig(entry)
          if (!entry) setError(new CarcosaError({ code: 'NOT_FOUND', message: `The upload handler has no route "${endpoint}"` }))
        },
        (failure: unknown) => live && setError(asCarcosaError(failure)),
      )
      return () => {
        live = false
      }
    }, [endpoint])

    useEffect(() => () => controller.current?.abort(), [])

    const abort = useCallback(() => controller.current?.abort(), [])

    const startUpload = useCallback(
      async (picked: File[], ...[input]: [input?: inferRouteInput<TRouter, TSlug>]) => {
        const fail = (refusal: CarcosaError) => {
          setError(refusal)
          callbacks.current.onUploadError?.(refusal)
          return undefined
        }
        if (picked.length === 0) return undefined
        // Refuse what the route would refuse before any request: the handler checks again anyway.
        const routes = await loadRouteConfig().catch(() => undefined)
        const entry = routes?.find((route) => route.slug === endpoint)
        if (entry) {
          try {
            checkRouteFiles(picked, entry)
          } catch (refusal) {
            const carcosaError = asCarcosaError(refusal)
            setFiles(picked.map((file) => ({ name: file.name, size: file.size, status: 'refused', progress: 0, error: carcosaError.message })))
            return fail(carcosaError)
          }
        }
        // A file's row only moves forward: a late progress event or phase never undoes a later state.
        const order: FileStatus[] = ['uploading', 'finishing', 'verifying', 'processing']
        const update = (file: unknown, change: Partial<FileState<ServerData>>) => {
          const index = picked.indexOf(file as File)
          if (index < 0) return
          setFiles((current) =>
            current.map((state, i) => {
              if (i !== index) return state
              const forward = !change.status || order.indexOf(change.status) >= order.indexOf(state.status)
              return forward && order.includes(state.status) ? { ...state, ...change } : state
            }),
          )
        }
        controller.current?.abort()
        const abortController = new AbortController()
        controller.current = abortController
        setError(undefined)
        setProgress(0)
        setUploading(true)
        setFiles(picked.map((file) => ({ name: file.name, size: file.size, status: 'uploading', progress: 0 })))
        try {
          const results = await uploader.uploadFiles(endpoint, {
            files: picked,
            input,
            signal: abortController.signal,
            headers: callbacks.current.headers,
            onUploadBegin: ({ file, name, uploadId }) => {
              update(file, { uploadId })
              callbacks.current.onUploadBegin?.(name)
            },
            onUploadProgress: ({ file, progress: fileProgress, totalProgress }) => {
              const whole = Math.floor(fileProgress)
              update(file, whole >= 100 ? { progress: 100, status: 'finishing' } : { progress: whole })
              const total = Math.floor(totalProgress)
              setProgress(total)
              callbacks.current.onUploadProgress?.(total)
            },
            onUploadPhase: ({ file, phase }) => {
              if (phase === 'verifying') update(file, { status: 'verifying' })
              else if (phase === 'completed') update(file, { status: 'processing' })
            },
          } as Parameters<typeof uploader.uploadFiles<TSlug>>[1])
          setFiles((current) => current.map((state, i) => ({ ...state, status: 'done', progress: 100, result: results[i] })))
          setProgress(100)
          callbacks.current.onClientUploadComplete?.(results)
          return results
        } catch (caught) {
          const carcosaError = asCarcosaError(caught)
          if (carcosaError.code === 'ABORTED') {
            setFiles((current) => current.map((state) => (state.status === 'done' ? state : { ...state, status: 'cancelled' })))
            callbacks.current.onUploadAborted?.()
            return undefined
          }
          setFiles((current) =>
            current.map((state) => (state.status === 'done' ? state : { ...state, status: 'failed', error: carcosaError.message })),
          )
          return fail(carcosaError)
        } finally {
          if (controller.current === abortController) controller.current = null
          setUploading(false)
        }
      },
      [endpoint],
    ) as UseUploadResult<inferRouteInput<TRouter, TSlug>, ServerData>['startUpload']

    return { startUpload, isUploading, progress, files, abort, routeConfig, error }
  }

  return { useUpload, uploadFiles: uploader.uploadFiles, routeConfig: uploader.routeConfig }
}
