import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { useRef, useState } from 'react'
import { Card } from '~/components/layout'
import { useProjectEvents, type LiveMessage } from '~/components/use-project-events'
import { receiveStreamedUpload } from '~/services/uploads/streamed-upload.server'
import { uploadFormContext } from '~/services/uploads/upload-form.server'
import { StorageError } from '~/storage/storage-adapter'
import { AppError } from '~/utils/errors.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { projectPath } from '~/utils/paths'
import { orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'

export const meta: MetaFunction = () => [{ title: 'Upload a file · Carcosa' }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project } = await projectFromParams(actor, params)
  return { projectId: project.id, ...(await orRouteError(uploadFormContext(actor, project.id))) }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  try {
    // The body is never parsed into memory here: the service streams it into the bucket.
    const { file } = await receiveStreamedUpload(actor, { projectId: project.id, request })
    return redirectWithFlash(`${projectPath(organization, team, project)}/files`, {
      kind: 'success',
      message: `Uploaded ${file.name} as ${file.path}.`,
    })
  } catch (error) {
    // The project was resolved above, so a refusal here (a tenant gone, a rule, the size) is the form's to show.
    if (error instanceof AppError) return data({ error: error.message }, { status: error.status })
    if (error instanceof StorageError) return data({ error: `The bucket could not store the file: ${error.message}` }, { status: 502 })
    throw error
  }
}

const sizeLabel = (bytes: number) =>
  bytes >= 1024 ** 3
    ? `${Number((bytes / 1024 ** 3).toFixed(2))} GiB`
    : bytes >= 1024 ** 2
      ? `${Number((bytes / 1024 ** 2).toFixed(2))} MiB`
      : `${bytes} bytes`

type Phase =
  { phase: 'uploading'; bytes: number; total: number | null } | { phase: 'verifying' } | { phase: 'done' } | { phase: 'failed'; reason: string }

/** The steps an upload passes, in order; the page marks each one reached, so a quick step is never lost. */
const STEPS = [
  { step: 'uploading', label: 'Received by Carcosa' },
  { step: 'verifying', label: 'Checked (size and type)' },
  { step: 'done', label: 'In the project' },
] as const
type Step = (typeof STEPS)[number]['step']

interface UploadProgress {
  phase: Phase
  /** Every step reached so far: messages can arrive together and be rendered at once. */
  reached: ReadonlySet<Step>
}

/**
 * With JavaScript, the form tags its upload (a random `clientReference` and the file's `size`, set
 * just before it is sent) and follows it on the project's live channel: bytes received by Carcosa,
 * then the server's checks, then done. Without JavaScript those fields stay empty and nothing changes.
 */
function useUploadPhase(projectId: string) {
  const [progress, setProgress] = useState<UploadProgress | null>(null)
  const reference = useRef<string | null>(null)
  const uploadId = useRef<string | null>(null)
  const advance = (phase: Phase) =>
    setProgress((previous) => {
      const reached = new Set(previous?.reached)
      if (phase.phase !== 'failed')
        for (const { step } of STEPS.slice(0, STEPS.findIndex(({ step }) => step === phase.phase) + 1)) reached.add(step)
      return { phase, reached }
    })
  const live = useProjectEvents(projectId, (message: LiveMessage) => {
    // Progress and verifying carry the page's reference: either one names the upload, so a missed
    // progress message (a small file sends one) does not lose the rest.
    if (reference.current && message.clientReference === reference.current && typeof message.uploadId === 'string')
      uploadId.current = message.uploadId
    const ours = (id: unknown) => id !== undefined && id === uploadId.current
    if (message.type === 'upload.progress' && ours(message.uploadId)) advance({ phase: 'uploading', bytes: message.bytes, total: message.total })
    else if (message.type === 'upload.verifying' && ours(message.uploadId)) advance({ phase: 'verifying' })
    else if (message.type === 'file.uploaded' && ours(message.data?.uploadId)) advance({ phase: 'done' })
    else if (message.type === 'upload.failed' && ours(message.data?.uploadId)) advance({ phase: 'failed', reason: message.data.reason })
  })
  const start = () => {
    reference.current = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
    uploadId.current = null
    setProgress({ phase: { phase: 'uploading', bytes: 0, total: null }, reached: new Set() })
    return reference.current
  }
  return { progress, live, start }
}

function PhaseStatus({ progress: { phase, reached } }: { progress: UploadProgress }) {
  const percent = phase.phase === 'uploading' && phase.total ? Math.min(100, Math.round((phase.bytes / phase.total) * 100)) : null
  return (
    <div
      aria-live="polite"
      data-phase={phase.phase}
      className="space-y-1 rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-800"
    >
      {phase.phase === 'uploading' ? (
        <>
          <p>
            Uploading{percent !== null ? ` ${percent}%` : '…'}
            {phase.total ? ` (${sizeLabel(phase.bytes)} of ${sizeLabel(phase.total)})` : ''}
          </p>
          <progress
            aria-label="Upload progress"
            max={phase.total ?? undefined}
            value={phase.total ? phase.bytes : undefined}
            className="w-full"
          />
        </>
      ) : phase.phase === 'verifying' ? (
        <p>Verifying the file (size and type)…</p>
      ) : phase.phase === 'done' ? (
        <p>Done: the file is in the project.</p>
      ) : (
        <p>Failed: {phase.reason}</p>
      )}
      <ol aria-label="Upload steps" className="flex flex-wrap gap-x-4 text-xs text-slate-600">
        {STEPS.map(({ step, label }) => (
          <li key={step} data-step={step} data-reached={reached.has(step) || undefined}>
            {reached.has(step) ? '✓ ' : '○ '}
            {label}
          </li>
        ))}
      </ol>
    </div>
  )
}

export default function UploadFile() {
  const { projectId, canUpload, hasBucket, tenants, allowedContentTypes, maxBytes } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const busy = useNavigation().state === 'submitting'
  const { progress, live, start } = useUploadPhase(projectId)
  const sizeField = useRef<HTMLInputElement>(null)
  const referenceField = useRef<HTMLInputElement>(null)
  const fileField = useRef<HTMLInputElement>(null)
  // Set on the elements themselves: the form data is read right after this handler returns.
  const tagUpload = () => {
    const file = fileField.current?.files?.[0]
    if (!file || !sizeField.current || !referenceField.current) return
    sizeField.current.value = String(file.size)
    referenceField.current.value = start()
  }
  return (
    <Card title="Upload a file">
      {!canUpload ? (
        <p className="text-sm text-slate-700">Your role cannot upload files to this project.</p>
      ) : !hasBucket ? (
        <p className="text-sm text-slate-700">
          This project has no bucket yet; choose one in its{' '}
          <Link to="../../settings" relative="path">
            settings
          </Link>
          .
        </p>
      ) : (
        // Field order matters: the tenant must reach the server before the file's bytes do.
        <Form method="post" encType="multipart/form-data" className="space-y-4" onSubmit={tagUpload} data-live={live ? 'on' : 'off'}>
          {progress && !(actionData && 'error' in actionData && progress.phase.phase === 'uploading') ? (
            <PhaseStatus progress={progress} />
          ) : null}
          {actionData && 'error' in actionData ? (
            <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
              {actionData.error}
            </div>
          ) : null}
          <div>
            <label htmlFor="upload-tenant" className="block text-sm font-medium text-slate-700">
              Tenant
            </label>
            <select
              id="upload-tenant"
              name="tenantId"
              className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm"
            >
              <option value="">No tenant (project-wide)</option>
              {tenants.map((tenant) => (
                <option key={tenant.id} value={tenant.id}>
                  {tenant.name} ({tenant.slug})
                </option>
              ))}
            </select>
          </div>
          {/* Filled in by JavaScript only; they must precede the file part. */}
          <input ref={sizeField} type="hidden" name="size" defaultValue="" />
          <input ref={referenceField} type="hidden" name="clientReference" defaultValue="" />
          <div>
            <label htmlFor="upload-file" className="block text-sm font-medium text-slate-700">
              File
            </label>
            <input
              ref={fileField}
              id="upload-file"
              name="file"
              type="file"
              required
              accept={allowedContentTypes.length > 0 ? allowedContentTypes.join(',') : undefined}
              aria-describedby="upload-file-hint"
              className="mt-1 block w-full text-sm"
            />
            <p id="upload-file-hint" className="mt-1 text-xs text-slate-500">
              At most {sizeLabel(maxBytes)}
              {allowedContentTypes.length > 0 ? `; accepted types: ${allowedContentTypes.join(', ')}` : ''}. The file is checked (size and type
              by its first bytes) before it appears in the project.
            </p>
          </div>
          <button
            type="submit"
            aria-disabled={busy || undefined}
            className="inline-flex items-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700"
          >
            {busy ? 'Uploading…' : 'Upload'}
          </button>
        </Form>
      )}
    </Card>
  )
}
