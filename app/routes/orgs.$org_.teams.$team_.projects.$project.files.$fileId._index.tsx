import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { ConfirmCheckbox, IntentForm, SubmitButton, useIntentForm } from '~/components/forms'
import { Card } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { THUMBNAIL_TYPES } from '~/services/files/download-headers.server'
import { deleteFile, getFile } from '~/services/files/files.server'
import { confirmFileDeletionSchema } from '~/services/files/schemas'
import { getTenant } from '~/services/tenants/tenants.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { formatBytes } from '~/utils/sizes'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.file.name ?? 'File'} · Carcosa` }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project, permissions } = await projectFromParams(actor, params)
  const file = await orRouteError(getFile(actor, params.fileId ?? '', { projectId: project.id }))
  const tenant = file.tenantId ? await orRouteError(getTenant(actor, file.tenantId)) : null
  const files = `${projectPath(organization, team, project)}/files`
  return {
    files,
    file: { ...file, hasThumbnail: THUMBNAIL_TYPES.has(file.contentType.toLowerCase()) },
    tenant: tenant ? { id: tenant.id, name: tenant.name, slug: tenant.slug } : null,
    tenantsPath: `${projectPath(organization, team, project)}/tenants`,
    canDelete: hasPermission(permissions, 'files:delete'),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const files = `${projectPath(organization, team, project)}/files`
  if (formData.get('intent') !== 'delete') throw redirect(files)
  return handleForm(formData, 'delete', confirmFileDeletionSchema, async () => {
    const deleted = await deleteFile(actor, params.fileId ?? '', { projectId: project.id })
    return redirectWithFlash(files, { kind: 'success', message: `File ${deleted.name} deleted.` })
  })
}

export default function FileDetails() {
  const { files, file, tenant, tenantsPath, canDelete } = useLoaderData<typeof loader>()
  const details = [
    { label: 'Path', value: <code>{file.path}</code> },
    { label: 'Type', value: <code>{file.contentType}</code> },
    { label: 'Size', value: `${formatBytes(file.size)} (${file.size} bytes)` },
    { label: 'Tenant', value: tenant ? <Link to={`${tenantsPath}/${tenant.id}`}>{`${tenant.name} (${tenant.slug})`}</Link> : 'None' },
    { label: 'Uploaded', value: <DateTime value={file.createdAt} /> },
    { label: 'File ID', value: <code>{file.id}</code> },
  ]
  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link to={files}>← All files</Link>
      </p>
      <Card title={file.name}>
        <div className="flex flex-wrap gap-6">
          {file.hasThumbnail ? (
            <img
              src={`${files}/${file.id}/thumbnail?v=${new Date(file.updatedAt).getTime()}`}
              alt={`Thumbnail of ${file.name}`}
              className="h-40 w-40 rounded object-contain"
            />
          ) : null}
          <dl className="grid flex-1 grid-cols-1 gap-3 text-sm sm:grid-cols-2">
            {details.map((detail) => (
              <div key={detail.label}>
                <dt className="text-slate-500">{detail.label}</dt>
                <dd>{detail.value}</dd>
              </div>
            ))}
          </dl>
        </div>
        <p className="mt-4">
          <a href={`${files}/${file.id}/download`} className="font-medium">
            Download {file.name}
          </a>
        </p>
      </Card>
      <DeleteFileCard name={file.name} allowed={canDelete} />
    </div>
  )
}

/** Deleting asks for a ticked box: a plain form (no JavaScript) cannot delete on one stray click. */
function DeleteFileCard({ name, allowed }: { name: string; allowed: boolean }) {
  const [form, fields] = useIntentForm('delete', confirmFileDeletionSchema)
  return (
    <Card title="Delete file" tone="danger">
      <IntentForm form={form} intent="delete">
        <p className="text-sm text-slate-700">Deleting removes the file from the bucket and from Carcosa. This cannot be undone.</p>
        {allowed ? null : <p className="text-sm font-medium text-slate-700">Your role cannot delete files in this project.</p>}
        <ConfirmCheckbox field={fields.confirm}>Yes, delete {name} permanently</ConfirmCheckbox>
        <SubmitButton variant="danger">Delete file</SubmitButton>
      </IntentForm>
    </Card>
  )
}
