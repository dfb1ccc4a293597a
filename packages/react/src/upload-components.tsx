import { useEffect, useId, useRef, useState, type CSSProperties, type DragEvent, type ReactNode } from 'react'
import { checkRouteFiles, routeAccepts, type CarcosaError, type UploadedFile } from '@carcosa/sdk/client'
import type { inferRouteInput, inferRouteSlugs, inferServerData } from '@carcosa/sdk/server'
import { describeRoute, formatBytes, maxFilesOf } from './route-text.js'
import { generateReactHelpers, type FileState, type FileStatus, type UseUploadOptions, type UseUploadResult } from './use-upload.js'

/** The parts of an upload component, as `data-carcosa-element` names them and `appearance` styles them. */
export type UploadElement =
  'container' | 'button' | 'input' | 'allowedContent' | 'uploadButton' | 'cancelButton' | 'fileList' | 'file' | 'progress' | 'error'

/** A class name, or inline styles, per element. */
export type UploadAppearance = Partial<Record<UploadElement, string | CSSProperties>>

export interface UploadRenderState {
  ready: boolean
  isUploading: boolean
  isDragOver: boolean
  progress: number
  files: FileState[]
  /** Files chosen and waiting for the upload button (`mode: 'manual'`). */
  pending: File[]
}

type Renderable = ReactNode | ((state: UploadRenderState) => ReactNode)

export interface UploadContent {
  /** The picker's label (default "Choose file(s)" / "Choose files or drag and drop"). */
  button?: Renderable
  /** What the route allows (default from its limits, e.g. "One image up to 2 MB"). */
  allowedContent?: Renderable
  uploadButton?: Renderable
  cancelButton?: Renderable
}

export interface UploadComponentProps<TInput = unknown, TServerData = unknown> extends UseUploadOptions<TServerData> {
  /** The route's slug in your router. */
  endpoint: string
  /** Sent to the route's `.input()` schema. */
  input?: TInput
  /** Your route handler (default `/api/uploads`). */
  url?: string | URL
  disabled?: boolean
  /** `auto` uploads as soon as files are chosen; `manual` waits for the upload button. */
  config?: { mode?: 'auto' | 'manual' }
  appearance?: UploadAppearance
  content?: UploadContent
  className?: string
}

const DEFAULT_URL = '/api/uploads'
const helpers = new Map<string, { useUpload: (endpoint: string, opts: UseUploadOptions<unknown>) => UseUploadResult<unknown, unknown> }>()
const helpersFor = (url: string | URL) => {
  const key = String(url)
  let found = helpers.get(key)
  if (!found) {
    found = generateReactHelpers<unknown>({ url }) as unknown as NonNullable<typeof found>
    helpers.set(key, found)
  }
  return found
}

/** Hidden from sight, not from keyboards and screen readers. */
const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: 'hidden',
  clip: 'rect(0, 0, 0, 0)',
  whiteSpace: 'nowrap',
  border: 0,
}

const STATUS_TEXT: Record<FileStatus, string> = {
  uploading: 'Uploading',
  finishing: 'Finishing',
  verifying: 'Verifying on the server',
  processing: 'Processing',
  done: 'Uploaded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  refused: 'Refused',
}

const render = (value: Renderable | undefined, state: UploadRenderState, fallback: ReactNode) =>
  value === undefined ? fallback : typeof value === 'function' ? value(state) : value

function styleOf(appearance: UploadAppearance | undefined, element: UploadElement, base?: string) {
  const value = appearance?.[element]
  const className = [`carcosa-${element.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, base, typeof value === 'string' ? value : undefined]
    .filter(Boolean)
    .join(' ')
  return { className, style: typeof value === 'object' ? value : undefined, 'data-carcosa-element': element }
}

/** What the polite live region says about an upload: its start, every quarter, each server phase, the end. */
function useAnnouncement(isUploading: boolean, progress: number, files: FileState[]) {
  const [message, setMessage] = useState('')
  const last = useRef({ quarter: -1, statuses: '' })
  useEffect(() => {
    if (files.length === 0) return
    const statuses = files.map((f) => f.status).join(',')
    const quarter = Math.floor(progress / 25)
    const names = files.map((f) => f.name).join(', ')
    let next: string | undefined
    if (statuses !== last.current.statuses) {
      const changed = files.find((f, i) => f.status !== last.current.statuses.split(',')[i])
      if (files.every((f) => f.status === 'uploading')) next = `Uploading ${names}`
      else if (files.every((f) => f.status === 'done')) next = `Uploaded ${names}`
      else if (files.some((f) => f.status === 'cancelled')) next = 'Upload cancelled'
      else if (files.some((f) => f.status === 'failed' || f.status === 'refused'))
        next = undefined // the error's alert says it
      else if (changed && changed.status !== 'uploading') next = `${STATUS_TEXT[changed.status]}: ${changed.name}`
    } else if (isUploading && quarter !== last.current.quarter && quarter > 0 && quarter < 4) {
      next = `${progress}% uploaded`
    }
    last.current = { quarter, statuses }
    if (next) setMessage(next)
  }, [files, progress, isUploading])
  useEffect(() => {
    if (files.length === 0) last.current = { quarter: -1, statuses: '' }
  }, [files.length])
  return message
}

function useUploadComponent(props: UploadComponentProps, variant: 'button' | 'dropzone') {
  const { endpoint, input, url = DEFAULT_URL, disabled, config, appearance, content, className, ...callbacks } = props
  const mode = config?.mode ?? (variant === 'button' ? 'auto' : 'manual')
  const { useUpload } = helpersFor(url)
  const upload = useUpload(endpoint, callbacks)
  const [pending, setPending] = useState<File[]>([])
  const [pickError, setPickError] = useState<string>()
  const [isDragOver, setDragOver] = useState(false)
  const announcement = useAnnouncement(upload.isUploading, upload.progress, upload.files)
  const id = useId()
  const ids = { input: `${id}input`, allowed: `${id}allowed`, error: `${id}error` }
  const ready = upload.routeConfig !== undefined && !disabled
  const entry = upload.routeConfig
  const errorText = pickError ?? upload.error?.message

  const start = (files: File[]) => {
    setPending([])
    void upload.startUpload(files, input)
  }
  const choose = (files: File[]) => {
    if (files.length === 0 || !entry) return
    setPickError(undefined)
    if (mode === 'auto') return start(files)
    // Manual mode keeps the choice, but says at once what the route would refuse.
    try {
      checkRouteFiles(files, entry)
    } catch (refusal) {
      setPending([])
      setPickError((refusal as CarcosaError).message)
      callbacks.onUploadError?.(refusal as CarcosaError)
      return
    }
    setPending(files)
  }

  const state: UploadRenderState = {
    ready,
    isUploading: upload.isUploading,
    isDragOver,
    progress: upload.progress,
    files: upload.files,
    pending,
  }
  const multiple = entry ? maxFilesOf(entry) > 1 : false
  const accept = entry ? routeAccepts(entry).join(',') : undefined
  const describedBy = [ids.allowed, errorText ? ids.error : undefined].filter(Boolean).join(' ')
  const dataState = disabled ? 'disabled' : !ready ? 'loading' : upload.isUploading ? 'uploading' : isDragOver ? 'drag-over' : 'ready'

  const picker = (
    <label htmlFor={ids.input} {...styleOf(appearance, 'button')} data-state={dataState}>
      {render(
        content?.button,
        state,
        variant === 'button'
          ? multiple
            ? 'Choose files'
            : 'Choose a file'
          : multiple
            ? 'Choose files or drag and drop'
            : 'Choose a file or drag and drop',
      )}
      <input
        id={ids.input}
        type="file"
        {...styleOf(appearance, 'input')}
        style={visuallyHidden}
        multiple={multiple}
        accept={accept || undefined}
        disabled={!ready || upload.isUploading}
        aria-describedby={describedBy}
        aria-invalid={errorText ? true : undefined}
        onChange={(event) => {
          choose(Array.from(event.currentTarget.files ?? []))
          event.currentTarget.value = ''
        }}
      />
    </label>
  )

  const body = (
    <>
      {picker}
      <p id={ids.allowed} {...styleOf(appearance, 'allowedContent')}>
        {render(
          content?.allowedContent,
          state,
          entry ? describeRoute(entry) : disabled ? 'Uploads are turned off' : 'Loading what this upload accepts…',
        )}
      </p>
      {mode === 'manual' && pending.length > 0 && !upload.isUploading ? (
        <button type="button" {...styleOf(appearance, 'uploadButton')} onClick={() => start(pending)} disabled={!ready}>
          {render(content?.uploadButton, state, `Upload ${pending.length === 1 ? pending[0]!.name : `${pending.length} files`}`)}
        </button>
      ) : null}
      {upload.isUploading ? (
        <button type="button" {...styleOf(appearance, 'cancelButton')} onClick={upload.abort}>
          {render(content?.cancelButton, state, 'Cancel upload')}
        </button>
      ) : null}
      {upload.files.length > 0 ? (
        <ul {...styleOf(appearance, 'fileList')} aria-label="Uploads">
          {upload.files.map((file, i) => (
            <li key={`${i}-${file.name}`} {...styleOf(appearance, 'file')} data-state={file.status}>
              <span>{file.name}</span> <span>({formatBytes(file.size)})</span>{' '}
              <progress {...styleOf(appearance, 'progress')} max={100} value={file.progress} aria-label={`${file.name}: ${file.progress}%`} />{' '}
              <span>
                {STATUS_TEXT[file.status]}
                {file.status === 'uploading' ? ` ${file.progress}%` : ''}
              </span>
            </li>
          ))}
        </ul>
      ) : mode === 'manual' && pending.length > 0 ? (
        <ul {...styleOf(appearance, 'fileList')} aria-label="Chosen files">
          {pending.map((file, i) => (
            <li key={`${i}-${file.name}`} {...styleOf(appearance, 'file')} data-state="pending">
              {file.name} ({formatBytes(file.size)})
            </li>
          ))}
        </ul>
      ) : null}
      {errorText ? (
        <p id={ids.error} role="alert" {...styleOf(appearance, 'error')}>
          {errorText}
        </p>
      ) : null}
      <p role="status" aria-live="polite" style={visuallyHidden} data-carcosa-element="announcement">
        {announcement}
      </p>
    </>
  )

  const drop = {
    onDragEnter: (event: DragEvent) => {
      event.preventDefault()
      if (ready && !upload.isUploading) setDragOver(true)
    },
    onDragOver: (event: DragEvent) => {
      event.preventDefault()
      if (ready && !upload.isUploading) event.dataTransfer.dropEffect = 'copy'
    },
    onDragLeave: (event: DragEvent) => {
      if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragOver(false)
    },
    onDrop: (event: DragEvent) => {
      event.preventDefault()
      setDragOver(false)
      if (ready && !upload.isUploading) choose(Array.from(event.dataTransfer.files))
    },
  }

  return { body, drop, dataState, container: styleOf(appearance, 'container', className) }
}

/** A file picker that uploads to a route: announces what it accepts, refuses what the route would, shows progress, cancels. */
export function UploadButton(props: UploadComponentProps) {
  const { body, dataState, container } = useUploadComponent(props, 'button')
  return (
    <div {...container} data-carcosa-element="upload-button" data-state={dataState}>
      {body}
    </div>
  )
}

/** A drop zone (with a keyboard-operable picker inside) that uploads to a route. */
export function UploadDropzone(props: UploadComponentProps) {
  const { body, drop, dataState, container } = useUploadComponent(props, 'dropzone')
  return (
    <div {...container} data-carcosa-element="upload-dropzone" data-state={dataState} {...drop}>
      {body}
    </div>
  )
}

/** Props of a component typed by your router: `endpoint` among its slugs, `input` and `serverData` from the route. */
export type TypedUploadProps<TRouter, TEndpoint extends inferRouteSlugs<TRouter>> = Omit<
  UploadComponentProps<inferRouteInput<TRouter, TEndpoint>, inferServerData<TRouter, TEndpoint>>,
  'endpoint' | 'onClientUploadComplete'
> & {
  endpoint: TEndpoint
  onClientUploadComplete?: (files: UploadedFile<inferServerData<TRouter, TEndpoint>>[]) => void
}

/** `const UploadButton = generateUploadButton<AppRouter>({ url: '/api/uploads' })`. */
export function generateUploadButton<TRouter>(options: { url?: string | URL } = {}) {
  return function TypedUploadButton<TEndpoint extends inferRouteSlugs<TRouter>>(props: TypedUploadProps<TRouter, TEndpoint>) {
    return <UploadButton url={options.url} {...(props as UploadComponentProps)} />
  }
}

/** `const UploadDropzone = generateUploadDropzone<AppRouter>({ url: '/api/uploads' })`. */
export function generateUploadDropzone<TRouter>(options: { url?: string | URL } = {}) {
  return function TypedUploadDropzone<TEndpoint extends inferRouteSlugs<TRouter>>(props: TypedUploadProps<TRouter, TEndpoint>) {
    return <UploadDropzone url={options.url} {...(props as UploadComponentProps)} />
  }
}
