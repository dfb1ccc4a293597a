import { Form, Link } from '@remix-run/react'
import type { ReactNode } from 'react'
import type { AuditPage } from '~/services/audit/audit-page.server'
import type { DifferenceRow } from '~/services/audit/difference'
import { DateTime } from './date-time'
import { FilterProblems, Labeled, filterInputClass } from './filter-form'

type Page = Omit<AuditPage, 'entries' | 'verification'> & {
  entries: (Omit<AuditPage['entries'][number], 'createdAt'> & { createdAt: Date | string })[]
  verification:
    | (Omit<NonNullable<AuditPage['verification']>, 'anchor'> & {
        anchor: { seq: string; prunedCount: string; writtenAt: Date | string | null }
      })
    | null
}

const buttonClass = 'rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700'

/**
 * The audit log viewer: filters (a GET form, no JavaScript needed), the verification of the
 * organization's hash chain, export links with the same filters, and one page of entries.
 */
export function AuditLogView({ page, scopeLabel, projects }: { page: Page; scopeLabel: string; projects?: { id: string; name: string }[] }) {
  const { form, entries, errors, verification } = page
  return (
    <div className="space-y-6">
      <FilterProblems title="Some filters could not be used and were ignored." errors={errors} />

      <Form
        method="get"
        className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:grid-cols-2 lg:grid-cols-4"
        aria-label="Audit log filters"
      >
        <Labeled label="Action" htmlFor="audit-action" hint="e.g. file.delete, or bucket.* for every bucket action">
          <input id="audit-action" name="action" defaultValue={form.action} className={`${filterInputClass} w-full`} />
        </Labeled>
        <Labeled label="Actor kind" htmlFor="audit-actor-type">
          <select id="audit-actor-type" name="actorType" defaultValue={form.actorType} className={`${filterInputClass} w-full`}>
            <option value="">Anyone</option>
            <option value="user">People</option>
            <option value="api-key">API keys</option>
            <option value="anonymous">Anonymous (failed sign-ins, refused credentials)</option>
          </select>
        </Labeled>
        <Labeled label="Actor id" htmlFor="audit-actor-id" hint="A user's or API key's id">
          <input id="audit-actor-id" name="actorId" defaultValue={form.actorId} className={`${filterInputClass} w-full`} />
        </Labeled>
        <Labeled label="Target type" htmlFor="audit-target-type" hint="e.g. file, project, api_key, webhook_endpoint">
          <input id="audit-target-type" name="targetType" defaultValue={form.targetType} className={`${filterInputClass} w-full`} />
        </Labeled>
        <Labeled label="Target id" htmlFor="audit-target-id">
          <input id="audit-target-id" name="targetId" defaultValue={form.targetId} className={`${filterInputClass} w-full`} />
        </Labeled>
        {projects ? (
          <Labeled label="Project" htmlFor="audit-project">
            <select id="audit-project" name="projectId" defaultValue={form.projectId} className={`${filterInputClass} w-full`}>
              <option value="">All of the organization</option>
              {projects.map((project) => (
                <option key={project.id} value={project.id}>
                  {project.name}
                </option>
              ))}
            </select>
          </Labeled>
        ) : null}
        <Labeled label="Tenant id" htmlFor="audit-tenant">
          <input id="audit-tenant" name="tenantId" defaultValue={form.tenantId} className={`${filterInputClass} w-full`} />
        </Labeled>
        <Labeled label="From" htmlFor="audit-from">
          <input id="audit-from" name="from" type="date" defaultValue={form.from} className={`${filterInputClass} w-full`} />
        </Labeled>
        <Labeled label="To (inclusive)" htmlFor="audit-to">
          <input id="audit-to" name="to" type="date" defaultValue={form.to} className={`${filterInputClass} w-full`} />
        </Labeled>
        <div className="flex items-end gap-3">
          <button type="submit" className={buttonClass}>
            Filter
          </button>
          <Link to="?" className="text-sm font-medium">
            Clear filters
          </Link>
        </div>
      </Form>

      <section aria-labelledby="audit-integrity-title" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 id="audit-integrity-title" className="text-lg font-semibold text-slate-900">
          Integrity and export
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          Every entry of the organization is linked to the one before it by a hash. Verifying recomputes the chain and reports the first entry
          that no longer matches.
        </p>
        <div className="mt-3 flex flex-wrap items-center gap-4">
          <Form method="get">
            {[...new URLSearchParams(page.query)].map(([name, value]) => (
              <input key={name} type="hidden" name={name} value={value} />
            ))}
            <input type="hidden" name="verify" value="1" />
            <button type="submit" className={buttonClass}>
              Verify the chain
            </button>
          </Form>
          <a
            href={page.exports.ndjson}
            download
            className="text-sm font-medium"
            aria-label={`Export the filtered ${scopeLabel} audit log as NDJSON`}
          >
            Export NDJSON
          </a>
          <a href={page.exports.csv} download className="text-sm font-medium" aria-label={`Export the filtered ${scopeLabel} audit log as CSV`}>
            Export CSV
          </a>
        </div>
        {verification ? <VerificationResult verification={verification} /> : null}
      </section>

      <section aria-labelledby="audit-entries-title">
        <h2 id="audit-entries-title" className="mb-2 text-lg font-semibold text-slate-900">
          Entries
        </h2>
        {entries.length === 0 ? (
          <p className="rounded-lg border border-dashed border-slate-300 p-6 text-sm text-slate-600">No entries match these filters.</p>
        ) : (
          <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table className="min-w-full text-sm">
              <caption className="sr-only">Audit entries of the {scopeLabel}, newest first</caption>
              <thead className="bg-slate-50 text-left text-slate-700">
                <tr>
                  <th scope="col" className="px-3 py-2 font-medium">
                    When
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Action
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Actor
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Target
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    From
                  </th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id} className="border-t border-slate-100 align-top">
                    <td className="whitespace-nowrap px-3 py-2 text-slate-700">
                      <DateTime value={entry.createdAt} />
                    </td>
                    <td className="px-3 py-2">
                      <Link to={`${entry.id}${page.query ? `?${page.query}` : ''}`} className="font-mono font-medium">
                        {entry.action}
                      </Link>
                    </td>
                    <td className="px-3 py-2 text-slate-700">{entry.actorLabel}</td>
                    <td className="px-3 py-2 text-slate-700">
                      {entry.target.type}
                      {entry.target.id ? <span className="block font-mono text-xs text-slate-500">{entry.target.id}</span> : null}
                    </td>
                    <td className="px-3 py-2 text-xs text-slate-500">{entry.ipAddress ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav aria-label="Audit log pages" className="mt-3 flex gap-4 text-sm">
          {page.firstHref ? <Link to={page.firstHref}>Newest entries</Link> : null}
          {page.nextHref ? <Link to={page.nextHref}>Older entries</Link> : null}
        </nav>
      </section>
    </div>
  )
}

function VerificationResult({ verification }: { verification: NonNullable<Page['verification']> }) {
  const pruned = verification.anchor.prunedCount !== '0'
  if (verification.ok) {
    return (
      <div role="status" className="mt-3 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900">
        <p className="font-medium">
          The chain verifies: {verification.checked.toLocaleString('en-US')} entries checked, none altered or missing.
        </p>
        {pruned ? (
          <p className="mt-1">
            It starts after entry {verification.anchor.seq}: {Number(verification.anchor.prunedCount).toLocaleString('en-US')} older entries were
            removed by retention.
          </p>
        ) : null}
      </div>
    )
  }
  const broken = verification.firstBroken!
  return (
    <div role="alert" className="mt-3 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900">
      <p className="font-medium">
        The chain is broken at entry {broken.seq}
        {broken.id ? (
          <>
            {' '}
            (<Link to={broken.id}>{broken.id}</Link>)
          </>
        ) : null}
        .
      </p>
      <p className="mt-1">{broken.detail}</p>
    </div>
  )
}

const CHANGE_LABELS: Record<DifferenceRow['change'], string> = { added: 'Added', removed: 'Removed', changed: 'Changed', unchanged: 'Unchanged' }
const CHANGE_CLASSES: Record<DifferenceRow['change'], string> = {
  added: 'bg-emerald-50',
  removed: 'bg-red-50',
  changed: 'bg-amber-50',
  unchanged: '',
}

interface EntryDetail {
  id: string
  seq: string | null
  action: string
  actorLabel: string
  actor: { type: string; id: string | null }
  target: { type: string; id: string | null }
  ipAddress: string | null
  userAgent: string | null
  createdAt: Date | string
  organizationId: string | null
  teamId: string | null
  projectId: string | null
  tenantId: string | null
  prevHash: string
  hash: string
}

/** One entry: who, what, when and from where, its before/after difference, and its place in the chain. */
export function AuditEntryView({ entry, difference, backHref }: { entry: EntryDetail; difference: DifferenceRow[]; backHref: string }) {
  const facts: [string, ReactNode][] = [
    ['When', <DateTime key="when" value={entry.createdAt} />],
    ['Actor', `${entry.actorLabel}${entry.actor.id ? ` (${entry.actor.id})` : ''}`],
    ['Target', `${entry.target.type}${entry.target.id ? ` ${entry.target.id}` : ''}`],
    ['IP address', entry.ipAddress ?? '—'],
    ['User agent', entry.userAgent ?? '—'],
    ['Project', entry.projectId ?? '—'],
    ['Tenant', entry.tenantId ?? '—'],
    // Entries join the chain moments after they are written (ADR 028).
    ['Position in chain', entry.seq ?? 'Not sealed into the chain yet'],
    [
      'Hash',
      entry.seq === null ? (
        '—'
      ) : (
        <code key="hash" className="break-all text-xs">
          {entry.hash}
        </code>
      ),
    ],
    [
      'Previous hash',
      entry.seq === null ? (
        '—'
      ) : (
        <code key="prev" className="break-all text-xs">
          {entry.prevHash}
        </code>
      ),
    ],
  ]
  return (
    <div className="space-y-6">
      <p className="text-sm">
        <Link to={backHref}>Back to the audit log</Link>
      </p>
      <section aria-labelledby="audit-entry-title" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 id="audit-entry-title" className="font-mono text-lg font-semibold text-slate-900">
          {entry.action}
        </h2>
        <dl className="mt-3 grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[max-content_1fr]">
          {facts.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="font-medium text-slate-600">{label}</dt>
              <dd className="text-slate-900">{value}</dd>
            </div>
          ))}
        </dl>
      </section>
      <section aria-labelledby="audit-difference-title" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 id="audit-difference-title" className="mb-2 text-lg font-semibold text-slate-900">
          What changed
        </h2>
        {difference.length === 0 ? (
          <p className="text-sm text-slate-600">This entry records no state before or after.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm">
              <caption className="sr-only">Each field before and after the change</caption>
              <thead className="bg-slate-50 text-left text-slate-700">
                <tr>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Field
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Before
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    After
                  </th>
                  <th scope="col" className="px-3 py-2 font-medium">
                    Change
                  </th>
                </tr>
              </thead>
              <tbody>
                {difference.map((row) => (
                  <tr key={row.field} className={`border-t border-slate-100 align-top ${CHANGE_CLASSES[row.change]}`}>
                    <th scope="row" className="px-3 py-2 text-left font-mono font-medium text-slate-900">
                      {row.field}
                    </th>
                    <td className="break-all px-3 py-2 font-mono text-slate-800">
                      {row.before === null ? <span className="text-slate-500">—</span> : row.before}
                    </td>
                    <td className="break-all px-3 py-2 font-mono text-slate-800">
                      {row.after === null ? <span className="text-slate-500">—</span> : row.after}
                    </td>
                    <td className="px-3 py-2 text-slate-800">{CHANGE_LABELS[row.change]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  )
}
