import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { data } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react'
import { Card } from '~/components/layout'
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
  return orRouteError(uploadFormContext(actor, project.id))
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  try {
    // The body is never parsed into memory here: the service streams it into the bucket.
    const { file } = await receiveStreamedUpload(actor, { projectId: project.id, request })
    return redirectWithFlash(`${projectPath(organization, team, project)}/files`, { kind: 'success', message: `Uploaded ${file.name} as ${file.path}.` })
  } catch (error) {
    // The project was resolved above, so a refusal here (a tenant gone, a rule, the size) is the form's to show.
    if (error instanceof AppError) return data({ error: error.message }, { status: error.status })
    if (error instanceof StorageError) return data({ error: `The bucket could not store the file: ${error.message}` }, { status: 502 })
    throw error
  }
}

const sizeLabel = (bytes: number) =>
  bytes >= 1024 ** 3 ? `${Number((bytes / 1024 ** 3).toFixed(2))} GiB` : bytes >= 1024 ** 2 ? `${Number((bytes / 1024 ** 2).toFixed(2))} MiB` : `${bytes} bytes`

export default function UploadFile() {
  const { canUpload, hasBucket, tenants, allowedContentTypes, maxBytes } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const busy = useNavigation().state === 'submitting'
  return (
    <Card title="Upload a file">
      {!canUpload ? (
        <p className="text-sm text-slate-700">Your role cannot upload files to this project.</p>
      ) : !hasBucket ? (
        <p className="text-sm text-slate-700">
          This project has no bucket yet; choose one in its <Link to="../../settings" relative="path">settings</Link>.
        </p>
      ) : (
        // Field order matters: the tenant must reach the server before the file's bytes do.
        <Form method="post" encType="multipart/form-data" className="space-y-4">
          {actionData && 'error' in actionData ? (
            <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
              {actionData.error}
            </div>
          ) : null}
          <div>
            <label htmlFor="upload-tenant" className="block text-sm font-medium text-slate-700">
              Tenant
            </label>
            <select id="upload-tenant" name="tenantId" className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
              <option value="">No tenant (project-wide)</option>
              {tenants.map((tenant) => (
                <option key={tenant.id} value={tenant.id}>
                  {tenant.name} ({tenant.slug})
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="upload-file" className="block text-sm font-medium text-slate-700">
              File
            </label>
            <input
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
