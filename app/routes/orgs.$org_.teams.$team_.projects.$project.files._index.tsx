import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, Link, useLoaderData, useRevalidator } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { z } from 'zod'
import { Card, EmptyState } from '~/components/layout'
import { useProjectEvents } from '~/components/use-project-events'
import { hasPermission } from '~/services/api-keys/permissions'
import { THUMBNAIL_TYPES } from '~/services/files/download-headers.server'
import { listFiles, storageTotals } from '~/services/files/files.server'
import { fileFiltersSchema } from '~/services/files/schemas'
import { listTenantNames } from '~/services/tenants/tenants.server'
import { orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { formatBytes } from '~/utils/sizes'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { DateTime } from '~/components/date-time'

/** Files per page of the browser. */
const PAGE_SIZE = 25
/** Tenants offered in the filter; a project with more is filtered from its tenant's page. */
const TENANT_OPTIONS = 100

const TYPE_OPTIONS = [
  { value: '', label: 'All types' },
  { value: 'image/*', label: 'Images' },
  { value: 'video/*', label: 'Videos' },
  { value: 'audio/*', label: 'Audio' },
  { value: 'application/pdf', label: 'PDF' },
  { value: 'text/*', label: 'Text' },
]

const emptyAsMissing = (value: unknown) => (value === '' ? undefined : value)
const browserQuerySchema = z.object({
  tenant: z.preprocess(emptyAsMissing, fileFiltersSchema.shape.tenantId),
  type: z.preprocess(emptyAsMissing, fileFiltersSchema.shape.contentType),
  q: z.preprocess(emptyAsMissing, fileFiltersSchema.shape.namePrefix),
  cursor: z.preprocess(emptyAsMissing, z.string().max(64).optional()),
  before: z.preprocess(emptyAsMissing, z.string().max(64).optional()),
})

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project, permissions } = await projectFromParams(actor, params)
  const base = `${projectPath(organization, team, project)}/files`
  const parsed = browserQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams))
  const query = parsed.success ? parsed.data : {}
  const filterError = parsed.success ? null : parsed.error.issues.map((issue) => issue.message).join(' ')
  const filters = { tenantId: query.tenant, contentType: query.type, namePrefix: query.q }

  const [page, tenants, totals, projectTotals] = await orRouteError(
    Promise.all([
      listFiles(actor, project.id, filters, { limit: PAGE_SIZE, cursor: query.cursor, before: query.before }),
      listTenantNames(actor, project.id, { limit: TENANT_OPTIONS }),
      storageTotals(actor, project.id, { tenantId: query.tenant }),
      query.tenant ? storageTotals(actor, project.id) : null,
    ]),
  )
  const tenantNames = new Map(tenants.map((tenant) => [tenant.id, tenant.name]))
  return {
    projectId: project.id,
    base,
    filters: { tenant: query.tenant ?? '', type: query.type ?? '', q: query.q ?? '' },
    filterError,
    files: page.items.map((file) => ({
      id: file.id,
      name: file.name,
      path: file.path,
      size: file.size,
      contentType: file.contentType,
      createdAt: file.createdAt,
      version: new Date(file.updatedAt).getTime(),
      tenant: file.tenantId ? (tenantNames.get(file.tenantId) ?? file.tenantId) : null,
      hasThumbnail: THUMBNAIL_TYPES.has(file.contentType.toLowerCase()),
    })),
    nextCursor: page.nextCursor,
    previousBefore: page.hasPrevious ? (page.items[0]?.id ?? null) : null,
    tenants: tenants.map((tenant) => ({ id: tenant.id, label: `${tenant.name} (${tenant.slug})` })),
    totals,
    projectTotals,
    canUpload: hasPermission(permissions, 'files:write'),
    canDelete: hasPermission(permissions, 'files:delete'),
  }
}

const controlClass =
  'mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500'

/** Loads the page again (at most every half second) when files arrive or go elsewhere; JavaScript only. */
function useLiveFiles(projectId: string) {
  const revalidator = useRevalidator()
  const [notice, setNotice] = useState('')
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  const live = useProjectEvents(projectId, (message) => {
    if (message.type !== 'file.uploaded' && message.type !== 'file.deleted') return
    setNotice(
      message.type === 'file.uploaded' ? `New file: ${message.data?.file?.name ?? 'a file'}` : `A file was deleted: ${message.data?.path ?? ''}`,
    )
    if (timer.current) return
    timer.current = setTimeout(() => {
      timer.current = undefined
      revalidator.revalidate()
    }, 500)
  })
  return { live, notice }
}

export default function FileBrowser() {
  const { projectId, base, filters, filterError, files, nextCursor, previousBefore, tenants, totals, projectTotals, canUpload, canDelete } =
    useLoaderData<typeof loader>()
  const { live, notice } = useLiveFiles(projectId)
  // Page links keep the filters; only one of cursor/before is set at a time.
  const pageLink = (key: 'cursor' | 'before', id: string) => {
    const search = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ''))
    search.set(key, id)
    return `?${search}`
  }
  const typeOptions = TYPE_OPTIONS.some((option) => option.value === filters.type)
    ? TYPE_OPTIONS
    : [...TYPE_OPTIONS, { value: filters.type, label: filters.type }]
  return (
    <div className="space-y-6" data-live={live ? 'on' : 'off'}>
      <p aria-live="polite" className="sr-only">
        {notice}
      </p>
      <Card title="Files">
        <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-slate-700" data-testid="storage-totals">
            {filters.tenant ? 'This tenant stores ' : 'This project stores '}
            <strong>{formatBytes(totals.bytes)}</strong> in <strong>{totals.fileCount}</strong> {totals.fileCount === 1 ? 'file' : 'files'}
            {projectTotals ? ` (the whole project: ${formatBytes(projectTotals.bytes)} in ${projectTotals.fileCount})` : ''}.
          </p>
          {canUpload ? (
            <Link
              to={`${base}/upload`}
              className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white no-underline hover:bg-indigo-700"
            >
              Upload
            </Link>
          ) : null}
        </div>

        {/* Keyed by the filters: after a navigation the controls show the URL's filters, not stale choices. */}
        <Form key={JSON.stringify(filters)} method="get" className="mb-4 grid gap-3 sm:grid-cols-4 sm:items-end" aria-label="Filter files">
          <div>
            <label htmlFor="filter-tenant" className="block text-sm font-medium text-slate-700">
              Tenant
            </label>
            <select id="filter-tenant" name="tenant" defaultValue={filters.tenant} className={controlClass}>
              <option value="">All tenants</option>
              {tenants.map((tenant) => (
                <option key={tenant.id} value={tenant.id}>
                  {tenant.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="filter-type" className="block text-sm font-medium text-slate-700">
              Type
            </label>
            <select id="filter-type" name="type" defaultValue={filters.type} className={controlClass}>
              {typeOptions.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="filter-name" className="block text-sm font-medium text-slate-700">
              Name starts with
            </label>
            <input id="filter-name" name="q" type="search" defaultValue={filters.q} className={controlClass} />
          </div>
          <div className="flex items-center gap-2">
            <button type="submit" className="h-10 rounded-md bg-slate-800 px-3 text-sm font-semibold text-white hover:bg-slate-900">
              Filter
            </button>
            {filters.tenant || filters.type || filters.q ? (
              <Link to={base} className="px-2 py-2 text-sm">
                Clear filters
              </Link>
            ) : null}
          </div>
        </Form>
        {filterError ? (
          <p role="alert" className="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {filterError}
          </p>
        ) : null}

        {files.length === 0 ? (
          <EmptyState>
            {filters.tenant || filters.type || filters.q ? 'No files match these filters.' : 'No files in this project yet.'}
          </EmptyState>
        ) : (
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Files</caption>
            <thead className="border-b border-slate-200 text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">
                  <span className="sr-only">Preview</span>
                </th>
                <th scope="col" className="py-2 pr-3">
                  Name
                </th>
                <th scope="col" className="py-2 pr-3">
                  Type
                </th>
                <th scope="col" className="py-2 pr-3">
                  Size
                </th>
                <th scope="col" className="py-2 pr-3">
                  Tenant
                </th>
                <th scope="col" className="py-2 pr-3">
                  Uploaded
                </th>
                <th scope="col" className="py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {files.map((file) => (
                <tr key={file.id}>
                  <td className="py-2 pr-3">
                    {file.hasThumbnail ? (
                      <img
                        src={`${base}/${file.id}/thumbnail?v=${file.version}`}
                        alt={`Thumbnail of ${file.name}`}
                        width={48}
                        height={48}
                        loading="lazy"
                        className="h-12 w-12 rounded object-cover"
                      />
                    ) : (
                      <span aria-hidden="true" className="block h-12 w-12 rounded bg-slate-100" />
                    )}
                  </td>
                  <td className="py-2 pr-3">
                    <Link to={`${base}/${file.id}`} className="font-medium">
                      {file.name}
                    </Link>
                    <span className="block text-xs text-slate-500">{file.path}</span>
                  </td>
                  <td className="py-2 pr-3">
                    <code className="text-xs">{file.contentType}</code>
                  </td>
                  <td className="py-2 pr-3">{formatBytes(file.size)}</td>
                  <td className="py-2 pr-3">{file.tenant ?? '—'}</td>
                  <td className="py-2 pr-3">
                    <DateTime value={file.createdAt} />
                  </td>
                  <td className="space-x-3 whitespace-nowrap py-2">
                    {/* A document request: the route answers with a redirect to the signed URL. */}
                    <a href={`${base}/${file.id}/download`}>
                      Download<span className="sr-only"> {file.name}</span>
                    </a>
                    {canDelete ? (
                      <Link to={`${base}/${file.id}#section-delete-file`}>
                        Delete…<span className="sr-only"> {file.name}</span>
                      </Link>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {previousBefore || nextCursor ? (
          <nav aria-label="Pages of files" className="mt-4 flex gap-4 text-sm">
            {previousBefore ? <Link to={pageLink('before', previousBefore)}>Previous page</Link> : null}
            {nextCursor ? <Link to={pageLink('cursor', nextCursor)}>Next page</Link> : null}
          </nav>
        ) : null}
      </Card>
    </div>
  )
}
