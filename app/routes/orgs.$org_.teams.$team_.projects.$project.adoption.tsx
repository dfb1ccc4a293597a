import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, Link, useLoaderData, useRevalidator } from '@remix-run/react'
import { useEffect, useRef } from 'react'
import { DateTime } from '~/components/date-time'
import { ErrorList, IntentForm, SubmitButton, inputClass, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { useProjectEvents } from '~/components/use-project-events'
import { requireUser } from '~/services/accounts/session-cookie.server'
import {
  cancelAdoption,
  getAdoption,
  listAdoptionItems,
  listAdoptions,
  previewAdoption,
  resumeAdoption,
  startAdoption,
  type AdoptionRunView,
} from '~/services/adoption/adoption.server'
import { DEFAULT_PREVIEW_OBJECTS, adoptionFormSchema, runIdFormSchema, type AdoptionOptions } from '~/services/adoption/schemas'
import { hasPermission } from '~/services/api-keys/permissions'
import { DASHBOARD_PAGE, pageQuerySchema } from '~/services/pagination'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { toAppError } from '~/utils/errors.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { projectPath } from '~/utils/paths'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { formatBytes } from '~/utils/sizes'

/** Seconds between reloads of a run in progress when JavaScript is off. */
const REFRESH_SECONDS = 3

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project, permissions } = await projectFromParams(actor, params)
  const search = new URL(request.url).searchParams
  const runId = search.get('run')
  const run = runId ? await orRouteError(getAdoption(actor, runId, { projectId: project.id })) : null
  const failuresPage = pageQuerySchema.catch(DASHBOARD_PAGE).parse({ ...DASHBOARD_PAGE, cursor: search.get('failures') || undefined })
  const failures = run
    ? await orRouteError(listAdoptionItems(actor, run.id, { ...failuresPage, status: 'failed' }, { projectId: project.id }))
    : null
  const runs = await orRouteError(listAdoptions(actor, project.id, DASHBOARD_PAGE))

  // The preview is a GET form: it changes nothing, and its answer is a page that can be reloaded.
  let preview: Awaited<ReturnType<typeof previewAdoption>> | null = null
  let previewErrors: Record<string, string[]> = {}
  let previewError: string | null = null
  let options: AdoptionOptions | null = null
  if (search.get('preview') === '1') {
    const parsed = adoptionFormSchema.safeParse(Object.fromEntries(search))
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'form')
        previewErrors[field] = [...(previewErrors[field] ?? []), issue.message]
      }
    } else {
      options = parsed.data
      try {
        preview = await previewAdoption(actor, project.id, { ...options, limit: DEFAULT_PREVIEW_OBJECTS })
      } catch (error) {
        const known = toAppError(error)
        if (!known || known.code === 'NOT_FOUND') throw error
        previewError = known.message
        previewErrors = known.details.fieldErrors ?? {}
      }
    }
  }
  return {
    projectId: project.id,
    canWrite: hasPermission(permissions, 'projects:write'),
    form: Object.fromEntries(
      ['prefix', 'rule', 'tenantMap', 'unmatched', 'createTenants', 'mode', 'deleteOriginals'].map((name) => [name, search.get(name) ?? '']),
    ),
    options,
    preview,
    previewErrors,
    previewError,
    run,
    failures,
    runs: [...runs.items].reverse(),
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${projectPath(organization, team, project)}/adoption`
  const own = { projectId: project.id }
  switch (intent.split(':')[0]) {
    case 'start':
      return handleForm(formData, intent, adoptionFormSchema, async (options) => {
        const run = await startAdoption(actor, project.id, options)
        return redirectWithFlash(`${here}?run=${run.id}`, {
          kind: 'success',
          message: 'Adoption started: it runs in the background, and this page follows it.',
        })
      })
    case 'cancel':
      return handleForm(formData, intent, runIdFormSchema, async ({ runId }) => {
        await cancelAdoption(actor, runId, own)
        return redirectWithFlash(`${here}?run=${runId}`, { kind: 'success', message: 'Adoption cancelled; what it adopted stays.' })
      })
    case 'resume':
      return handleForm(formData, intent, runIdFormSchema, async ({ runId }) => {
        await resumeAdoption(actor, runId, own)
        return redirectWithFlash(`${here}?run=${runId}`, { kind: 'success', message: 'Adoption resumed from where it stopped.' })
      })
    default:
      throw redirect(here)
  }
}

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>

export default function ProjectAdoption() {
  const data = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      {data.run ? <RunProgress run={data.run} failures={data.failures} canWrite={data.canWrite} projectId={data.projectId} /> : null}
      <Card title="Adopt existing objects">
        <p className="mb-3 text-sm text-slate-600">
          Register objects that were in this project&apos;s bucket before Carcosa as files, each under the tenant its key names. Preview first:
          nothing changes until you start. The same operations are in <Link to="/docs/api">the API</Link>.
        </p>
        {data.canWrite ? (
          <OptionsForm form={data.form} errors={data.previewErrors} />
        ) : (
          <p className="text-sm text-slate-600">Your role can follow adoptions, not start them.</p>
        )}
      </Card>
      {data.previewError ? (
        <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {data.previewError}
        </p>
      ) : null}
      {data.preview && data.options ? (
        <PreviewResult preview={data.preview} options={data.options} form={data.form} canWrite={data.canWrite} />
      ) : null}
      <RunHistory runs={data.runs} />
    </div>
  )
}

/** The scan's options as a GET form: previewing is reading, and the answer is a page with these values in its URL. */
function OptionsForm({ form, errors }: { form: LoaderData['form']; errors: Record<string, string[]> }) {
  const invalid = (name: string) => (errors[name]?.length ? { 'aria-invalid': true, 'aria-describedby': `${name}-errors` } : {})
  return (
    <Form method="get" className="space-y-4">
      <input type="hidden" name="preview" value="1" />
      <div>
        <label htmlFor="adopt-prefix" className="block text-sm font-medium text-slate-700">
          Prefix to scan
        </label>
        <input id="adopt-prefix" name="prefix" defaultValue={form.prefix} placeholder="uploads/" className={inputClass} {...invalid('prefix')} />
        <p className="mt-1 text-xs text-slate-500">Empty for the whole bucket; otherwise ending with /.</p>
        <ErrorList id="prefix-errors" errors={errors.prefix} />
      </div>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Which tenant an object belongs to</legend>
        <div className="mt-2 space-y-1 text-sm">
          <label className="flex items-center gap-2">
            <input type="radio" name="rule" value="first-segment" defaultChecked={form.rule !== 'prefix-map'} />
            The first path segment after the prefix is the tenant&apos;s slug
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" name="rule" value="prefix-map" defaultChecked={form.rule === 'prefix-map'} />
            The prefixes listed below
          </label>
        </div>
      </fieldset>
      <div>
        <label htmlFor="adopt-map" className="block text-sm font-medium text-slate-700">
          Prefix to tenant map
        </label>
        <textarea
          id="adopt-map"
          name="tenantMap"
          rows={3}
          defaultValue={form.tenantMap}
          placeholder="customers/a/ = acme"
          className={inputClass}
          {...invalid('tenantMap')}
        />
        <p className="mt-1 text-xs text-slate-500">
          One per line: a key prefix ending with /, an equals sign, a tenant slug. The longest matching prefix wins.
        </p>
        <ErrorList id="tenantMap-errors" errors={errors.tenantMap} />
      </div>
      <div>
        <label htmlFor="adopt-unmatched" className="block text-sm font-medium text-slate-700">
          Objects no tenant matches
        </label>
        <select id="adopt-unmatched" name="unmatched" defaultValue={form.unmatched || 'skip'} className={inputClass}>
          <option value="skip">Leave them alone</option>
          <option value="project">Adopt them as project files without a tenant</option>
        </select>
      </div>
      <label className="flex items-center gap-2 text-sm text-slate-800">
        <input type="checkbox" name="createTenants" value="on" defaultChecked={form.createTenants === 'on'} />
        Create the tenants the keys name that do not exist yet
      </label>
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">How to adopt</legend>
        <div className="mt-2 space-y-1 text-sm">
          <label className="flex items-center gap-2">
            <input type="radio" name="mode" value="in-place" defaultChecked={form.mode !== 'copy'} />
            In place: register each object where it is
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" name="mode" value="copy" defaultChecked={form.mode === 'copy'} />
            Copy into Carcosa&apos;s key layout (the original is kept until its copy is verified)
          </label>
        </div>
      </fieldset>
      <div>
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input
            type="checkbox"
            name="deleteOriginals"
            value="on"
            defaultChecked={form.deleteOriginals === 'on'}
            {...invalid('deleteOriginals')}
          />
          When copying, delete each original once its copy is verified
        </label>
        <ErrorList id="deleteOriginals-errors" errors={errors.deleteOriginals} />
      </div>
      <SubmitButton variant="secondary">Preview</SubmitButton>
    </Form>
  )
}

function PreviewResult({
  preview,
  options,
  form,
  canWrite,
}: {
  preview: NonNullable<LoaderData['preview']>
  options: AdoptionOptions
  form: LoaderData['form']
  canWrite: boolean
}) {
  const [startForm] = useIntentForm('start', adoptionFormSchema)
  const adoptable = preview.perTenant.reduce((sum, entry) => sum + entry.objects, 0)
  return (
    <section aria-labelledby="preview-title" className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <h2 id="preview-title" className="mb-3 text-lg font-semibold">
        Preview
      </h2>
      <p className="mb-3 text-sm text-slate-700">
        {preview.scanned} object{preview.scanned === 1 ? '' : 's'} ({formatBytes(preview.scannedBytes)}) under{' '}
        <code>{options.prefix || '(the whole bucket)'}</code>
        {preview.truncated ? `: the preview stopped after ${preview.scanned}; the adoption goes through all of them` : ''}. {adoptable} would be
        adopted {options.mode === 'copy' ? 'by copy' : 'in place'}, {preview.alreadyAdopted} already are, {preview.skipped} match no tenant,{' '}
        {preview.conflicts} are in conflict.
      </p>
      {preview.perTenant.length > 0 ? (
        <table className="mb-4 min-w-full text-left text-sm">
          <caption className="sr-only">Objects to adopt per tenant</caption>
          <thead className="text-xs uppercase text-slate-500">
            <tr>
              <th scope="col" className="py-2 pr-3">
                Tenant
              </th>
              <th scope="col" className="py-2 pr-3">
                Objects
              </th>
              <th scope="col" className="py-2">
                Bytes
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {preview.perTenant.map((entry) => (
              <tr key={entry.tenant?.slug ?? ''}>
                <td className="py-2 pr-3">
                  {entry.tenant ? (
                    <>
                      <code>{entry.tenant.slug}</code>
                      {entry.tenant.created ? ' (will be created)' : ''}
                    </>
                  ) : (
                    'No tenant (project files)'
                  )}
                </td>
                <td className="py-2 pr-3">{entry.objects}</td>
                <td className="py-2">{formatBytes(entry.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <EmptyState>Nothing under this prefix would be adopted.</EmptyState>
      )}
      {preview.unknownSlugs.length > 0 ? (
        <p className="mb-3 text-sm text-amber-900">
          Keys name tenants this project does not have:{' '}
          {preview.unknownSlugs.map((entry) => (
            <span key={entry.slug} className="mr-2">
              <code>{entry.slug}</code> ({entry.objects})
            </span>
          ))}
          . Create them, tick &ldquo;Create the tenants&rdquo;, or they count as unmatched.
        </p>
      ) : null}
      {preview.conflictSample.length > 0 ? (
        <>
          <h3 className="mb-1 text-sm font-semibold">Conflicts (left alone)</h3>
          <ul className="mb-3 list-disc pl-5 text-sm">
            {preview.conflictSample.map((conflict) => (
              <li key={conflict.key}>
                <code className="break-all">{conflict.key}</code>: {conflict.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {preview.sample.length > 0 ? (
        <>
          <h3 className="mb-1 text-sm font-semibold">Examples</h3>
          <ul className="mb-4 list-disc pl-5 text-sm">
            {preview.sample.map((entry) => (
              <li key={entry.key}>
                <code className="break-all">{entry.key}</code> becomes <code className="break-all">{entry.path}</code>
                {entry.tenant ? ` of ${entry.tenant}` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {canWrite && adoptable > 0 ? (
        <IntentForm form={startForm} intent="start">
          {Object.entries(form).map(([name, value]) => (value ? <input key={name} type="hidden" name={name} value={value} /> : null))}
          <SubmitButton>Start adoption</SubmitButton>
        </IntentForm>
      ) : null}
    </section>
  )
}

const STATUS_LABELS: Record<AdoptionRunView['status'], string> = {
  running: 'In progress',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

type RunData = NonNullable<LoaderData['run']>

function RunProgress({
  run,
  failures,
  canWrite,
  projectId,
}: {
  run: RunData
  failures: LoaderData['failures']
  canWrite: boolean
  projectId: string
}) {
  const revalidator = useRevalidator()
  const pending = useRef(false)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  // With JavaScript the run's progress arrives over the WebSocket; the page reloads its data at most twice a second.
  const live = useProjectEvents(projectId, (message) => {
    if (message.type !== 'adoption.progress' || message.runId !== run.id || pending.current) return
    pending.current = true
    timer.current = setTimeout(() => {
      pending.current = false
      revalidator.revalidate()
    }, 500)
  })
  const running = run.status === 'running'
  // Progress published before the subscription took hold is not sent again: read the run once it has.
  const { revalidate } = revalidator
  useEffect(() => {
    if (live && running) revalidate()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per (re)subscription
  }, [live])
  const reload = `?run=${encodeURIComponent(run.id)}`
  return (
    <section aria-labelledby="run-title" className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      {/* Without JavaScript a run in progress reloads itself; the link does the same by hand. */}
      {running ? (
        <noscript>
          <meta httpEquiv="refresh" content={`${REFRESH_SECONDS};url=${reload}`} />
        </noscript>
      ) : null}
      <h2 id="run-title" className="mb-3 text-lg font-semibold">
        Adoption run {run.id}
      </h2>
      <p className="mb-3 text-sm" aria-live="polite">
        Status: <strong data-testid="run-status">{STATUS_LABELS[run.status]}</strong>
        {run.error ? <span className="text-red-800"> · {run.error}</span> : null}
        {running ? <> · {live ? 'updating live' : <Link to={reload}>Refresh</Link>}</> : null}
      </p>
      <dl className="mb-3 grid grid-cols-2 gap-2 text-sm sm:grid-cols-3">
        {(
          [
            ['Objects seen', run.counts.scanned],
            ['Adopted', `${run.counts.adopted} (${formatBytes(run.counts.adoptedBytes)})`],
            ['Already adopted', run.counts.alreadyAdopted],
            ['Skipped', run.counts.skipped],
            ['Failed', run.counts.failed],
          ] as const
        ).map(([label, value]) => (
          <div key={label}>
            <dt className="text-slate-500">{label}</dt>
            <dd className="font-semibold">{value}</dd>
          </div>
        ))}
      </dl>
      <p className="mb-3 text-sm text-slate-600">
        Prefix <code>{run.options.prefix || '(the whole bucket)'}</code>, {run.options.mode === 'copy' ? 'by copy' : 'in place'}, started{' '}
        <DateTime value={run.createdAt} />
        {run.completedAt ? (
          <>
            , ended <DateTime value={run.completedAt} />
          </>
        ) : null}
        .
      </p>
      {canWrite && running ? <RunButton intent={`cancel:${run.id}`} runId={run.id} label="Cancel adoption" /> : null}
      {canWrite && run.status === 'failed' ? <RunButton intent={`resume:${run.id}`} runId={run.id} label="Resume adoption" /> : null}
      {failures && failures.items.length > 0 ? (
        <>
          <h3 className="mb-1 mt-4 text-sm font-semibold">Objects that failed</h3>
          <ul className="list-disc pl-5 text-sm">
            {failures.items.map((item) => (
              <li key={item.id}>
                <code className="break-all">{item.key}</code>: {item.reason}
              </li>
            ))}
          </ul>
          {failures.nextCursor ? (
            <p className="mt-2 text-sm">
              <Link to={`${reload}&failures=${encodeURIComponent(failures.nextCursor)}`}>More failures</Link>
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  )
}

function RunButton({ intent, runId, label }: { intent: string; runId: string; label: string }) {
  const [form] = useIntentForm(intent, runIdFormSchema)
  return (
    <IntentForm form={form} intent={intent} className="space-y-2">
      <input type="hidden" name="runId" value={runId} />
      <SubmitButton variant="secondary">{label}</SubmitButton>
    </IntentForm>
  )
}

function RunHistory({ runs }: { runs: LoaderData['runs'] }) {
  return (
    <Card title="Adoption runs">
      {runs.length === 0 ? (
        <EmptyState>No adoptions in this project yet.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm">
          {runs.map((run) => (
            <li key={run.id} className="py-2">
              <Link to={`?run=${encodeURIComponent(run.id)}`}>
                <DateTime value={run.createdAt} />: <code>{run.options.prefix || '(whole bucket)'}</code>
              </Link>{' '}
              {STATUS_LABELS[run.status]}, {run.counts.adopted} adopted, {run.counts.failed} failed
            </li>
          ))}
        </ul>
      )}
    </Card>
  )
}
