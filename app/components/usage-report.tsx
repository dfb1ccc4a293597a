import { Form } from '@remix-run/react'
import type { ReactNode } from 'react'
import type { UsagePage } from '~/services/usage/usage-page.server'
import { formatBytes } from '~/utils/sizes'
import { FilterProblems, Labeled, filterInputClass } from './filter-form'

type Page = UsagePage

const number = (value: number) => Math.round(value).toLocaleString('en-US')
const dollars = (value: number) => `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`

const GROUP_LABELS = { tenant: 'Tenant', project: 'Project', operation: 'Operation' } as const

/**
 * A Usage page's body: the range form (GET, works without JavaScript), headline figures, the
 * activity trend and the breakdown as server-rendered SVG charts, each with a title, a text summary
 * and a data table, and the cost estimate with the prices it used.
 */
export function UsageReport({
  page,
  groupBys,
  scopeLabel,
}: {
  page: Page
  groupBys: ('tenant' | 'project' | 'operation')[]
  scopeLabel: string
}) {
  const { overview, form, trend, breakdown, errors, csvHref } = page
  const { totals, storage, cost } = overview
  return (
    <div className="space-y-6">
      <FilterProblems title="Some of the range could not be used; the defaults are shown instead." errors={errors} />

      <Form
        method="get"
        className="flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
        aria-label="Usage range"
      >
        <Labeled label="From" htmlFor="usage-from">
          <input id="usage-from" name="from" type="date" defaultValue={form.from} className={filterInputClass} />
        </Labeled>
        <Labeled label="To (inclusive)" htmlFor="usage-to">
          <input id="usage-to" name="to" type="date" defaultValue={form.to} className={filterInputClass} />
        </Labeled>
        <Labeled label="Granularity" htmlFor="usage-granularity">
          <select id="usage-granularity" name="granularity" defaultValue={form.granularity} className={filterInputClass}>
            <option value="day">Per day</option>
            <option value="hour">Per hour</option>
          </select>
        </Labeled>
        <Labeled label="Break down by" htmlFor="usage-group">
          <select id="usage-group" name="groupBy" defaultValue={form.groupBy} className={filterInputClass}>
            {groupBys.map((groupBy) => (
              <option key={groupBy} value={groupBy}>
                {GROUP_LABELS[groupBy]}
              </option>
            ))}
          </select>
        </Labeled>
        <button type="submit" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700">
          Show usage
        </button>
        <a href={csvHref} download className="ml-auto text-sm font-medium" aria-label={`Download ${scopeLabel} usage as CSV`}>
          Download CSV
        </a>
      </Form>

      <dl className="grid grid-cols-2 gap-4 md:grid-cols-3 lg:grid-cols-6">
        <Stat label="API requests" value={number(totals.apiRequests)} detail={`${number(totals.rateLimited)} rate-limited`} />
        <Stat label="Uploads" value={number(totals.uploads)} detail={formatBytes(totals.uploadBytes)} />
        <Stat label="Downloads" value={number(totals.downloads)} detail={formatBytes(totals.downloadBytes)} />
        <Stat
          label="Transforms"
          value={number(totals.transforms + totals.transformCacheHits)}
          detail={`${number(totals.transforms)} rendered, ${number(totals.transformCacheHits)} cached`}
        />
        <Stat
          label="Stored"
          value={formatBytes(storage.bytes)}
          detail={`${number(storage.files)} files${storage.asOf ? ` on ${storage.asOf}` : ''}`}
        />
        <Stat
          label="Estimated cost"
          value={dollars(cost.total)}
          detail={cost.prices.length > 0 ? 'estimate, see prices below' : 'no prices known'}
        />
      </dl>

      <Figure
        key={`trend-${form.granularity}`}
        id="usage-trend"
        title={`Activity ${form.granularity === 'hour' ? 'per hour' : 'per day'}`}
        summary={
          trend.busiest
            ? `From ${form.from} to ${form.to}: ${trend.series.map((series) => `${number(series.total)} ${series.label.toLowerCase()}`).join(', ')}. The busiest ${form.granularity} was ${trend.busiest.label} with ${number(trend.busiest.value)} operations.`
            : `No activity from ${form.from} to ${form.to}.`
        }
        table={
          <table className="min-w-full text-sm">
            <caption className="sr-only">Activity {form.granularity === 'hour' ? 'per hour' : 'per day'}</caption>
            <thead>
              <tr>
                <th scope="col" className={cellClass}>
                  {form.granularity === 'hour' ? 'Hour (UTC)' : 'Day (UTC)'}
                </th>
                {trend.series.map((series) => (
                  <th key={series.key} scope="col" className={`${cellClass} text-right`}>
                    {series.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {trend.rows.map((row) => (
                <tr key={row.label} className="border-t border-slate-100">
                  <th scope="row" className={`${cellClass} font-normal`}>
                    {row.label}
                  </th>
                  {row.values.map((value, index) => (
                    <td key={trend.series[index]!.key} className={`${cellClass} text-right tabular-nums`}>
                      {number(value)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        }
      >
        <svg viewBox={`0 0 ${trend.width} ${trend.height}`} className="h-auto w-full" role="img" aria-labelledby="usage-trend-svg-title">
          <title id="usage-trend-svg-title">Line chart of API requests, uploads, downloads and transforms over time</title>
          {trend.yTicks.map((tick) => (
            <g key={tick.label}>
              <line x1={trend.plot.left} x2={trend.plot.right} y1={tick.y} y2={tick.y} stroke="#e2e8f0" />
              <text x={trend.plot.left - 8} y={tick.y} textAnchor="end" dominantBaseline="middle" fontSize="11" fill="#64748b">
                {tick.label}
              </text>
            </g>
          ))}
          {trend.xTicks.map((tick) => (
            <text key={tick.label} x={tick.x} y={trend.plot.bottom + 20} textAnchor="middle" fontSize="11" fill="#64748b">
              {tick.label}
            </text>
          ))}
          <line x1={trend.plot.left} x2={trend.plot.right} y1={trend.plot.bottom} y2={trend.plot.bottom} stroke="#94a3b8" />
          {trend.series.map((series) => (
            <path
              key={series.key}
              d={series.path}
              fill="none"
              stroke={series.color}
              strokeWidth="2"
              strokeLinejoin="round"
              strokeLinecap="round"
            />
          ))}
        </svg>
        <ul className="mt-2 flex flex-wrap gap-4 text-sm text-slate-700" aria-label="Legend">
          {trend.series.map((series) => (
            <li key={series.key} className="flex items-center gap-2">
              <svg width="14" height="4" aria-hidden="true">
                <rect width="14" height="4" rx="2" fill={series.color} />
              </svg>
              {series.label}
            </li>
          ))}
        </ul>
      </Figure>

      {/* Keyed so a new grouping starts with its table folded, with or without JavaScript. */}
      <Figure
        key={`breakdown-${breakdown.groupBy}`}
        id="usage-breakdown"
        title={`Breakdown by ${GROUP_LABELS[breakdown.groupBy].toLowerCase()}`}
        summary={
          breakdown.bars.length > 0 && breakdown.bars.some((bar) => bar.value > 0)
            ? `${breakdown.bars.length} ${breakdown.groupBy === 'operation' ? 'operations' : `${breakdown.groupBy}s`}, by ${breakdown.measure}. Largest: ${breakdown.bars
                .slice()
                .sort((a, b) => b.value - a.value)
                .slice(0, 3)
                .map((bar) => `${bar.label} (${number(bar.value)})`)
                .join(', ')}.`
            : `Nothing to break down from ${form.from} to ${form.to}.`
        }
        table={
          <table className="min-w-full text-sm">
            <caption className="sr-only">Breakdown by {GROUP_LABELS[breakdown.groupBy].toLowerCase()}</caption>
            <thead>
              <tr>
                <th scope="col" className={cellClass}>
                  {GROUP_LABELS[breakdown.groupBy]}
                </th>
                {breakdown.groupBy === 'operation' ? (
                  <>
                    <th scope="col" className={`${cellClass} text-right`}>
                      Count
                    </th>
                    <th scope="col" className={`${cellClass} text-right`}>
                      Bytes
                    </th>
                  </>
                ) : (
                  <>
                    <th scope="col" className={`${cellClass} text-right`}>
                      API requests
                    </th>
                    <th scope="col" className={`${cellClass} text-right`}>
                      Uploads
                    </th>
                    <th scope="col" className={`${cellClass} text-right`}>
                      Downloads
                    </th>
                    <th scope="col" className={`${cellClass} text-right`}>
                      Transforms
                    </th>
                    <th scope="col" className={`${cellClass} text-right`}>
                      Bytes uploaded
                    </th>
                  </>
                )}
              </tr>
            </thead>
            <tbody>
              {breakdown.bars.map((bar) => (
                <tr key={bar.key} className="border-t border-slate-100">
                  <th scope="row" className={`${cellClass} font-normal`}>
                    {bar.label}
                  </th>
                  {bar.totals ? (
                    <>
                      <td className={`${cellClass} text-right tabular-nums`}>{number(bar.totals.apiRequests)}</td>
                      <td className={`${cellClass} text-right tabular-nums`}>{number(bar.totals.uploads)}</td>
                      <td className={`${cellClass} text-right tabular-nums`}>{number(bar.totals.downloads)}</td>
                      <td className={`${cellClass} text-right tabular-nums`}>{number(bar.totals.transforms + bar.totals.transformCacheHits)}</td>
                      <td className={`${cellClass} text-right tabular-nums`}>{formatBytes(bar.totals.uploadBytes)}</td>
                    </>
                  ) : (
                    <>
                      <td className={`${cellClass} text-right tabular-nums`}>{number(bar.value)}</td>
                      <td className={`${cellClass} text-right tabular-nums`}>{bar.bytes === null ? '—' : formatBytes(bar.bytes)}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        }
      >
        {breakdown.bars.length === 0 ? (
          <p className="text-sm text-slate-600">
            No {breakdown.groupBy === 'operation' ? 'operations' : `${breakdown.groupBy}s`} with activity in this range.
          </p>
        ) : (
          <svg
            viewBox={`0 0 ${breakdown.width} ${breakdown.height}`}
            className="h-auto w-full"
            role="img"
            aria-labelledby="usage-breakdown-svg-title"
          >
            <title id="usage-breakdown-svg-title">{`Bar chart of activity by ${breakdown.groupBy}`}</title>
            {breakdown.bars.map((bar) => (
              <g key={bar.key}>
                <text
                  x={breakdown.left - 8}
                  y={bar.y + bar.barHeight / 2}
                  textAnchor="end"
                  dominantBaseline="middle"
                  fontSize="12"
                  fill="#334155"
                >
                  {bar.label.length > 26 ? `${bar.label.slice(0, 25)}…` : bar.label}
                </text>
                <rect
                  x={breakdown.left}
                  y={bar.y}
                  width={Math.max(bar.barWidth, bar.value > 0 ? 2 : 0)}
                  height={bar.barHeight}
                  rx="3"
                  fill="#6366f1"
                />
                <text x={breakdown.left + bar.barWidth + 6} y={bar.y + bar.barHeight / 2} dominantBaseline="middle" fontSize="12" fill="#475569">
                  {number(bar.value)}
                </text>
              </g>
            ))}
          </svg>
        )}
      </Figure>

      <section aria-labelledby="usage-cost-title" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <h2 id="usage-cost-title" className="mb-2 text-lg font-semibold text-slate-900">
          Estimated storage cost
        </h2>
        <p className="text-sm text-slate-600">{cost.basis}</p>
        <dl className="mt-3 grid grid-cols-2 gap-3 text-sm md:grid-cols-5">
          {(['storage', 'writes', 'reads', 'egress', 'total'] as const).map((line) => (
            <div key={line}>
              <dt className="text-slate-500">{line === 'total' ? 'Total (estimate)' : line[0]!.toUpperCase() + line.slice(1)}</dt>
              <dd className="font-semibold tabular-nums text-slate-900">{dollars(cost[line])}</dd>
            </div>
          ))}
        </dl>
        {cost.prices.length > 0 ? (
          <table className="mt-4 min-w-full text-sm">
            <caption className="mb-1 text-left font-medium text-slate-700">Prices used (USD)</caption>
            <thead>
              <tr>
                <th scope="col" className={cellClass}>
                  Project
                </th>
                <th scope="col" className={cellClass}>
                  Prices
                </th>
                <th scope="col" className={`${cellClass} text-right`}>
                  Storage / GB-month
                </th>
                <th scope="col" className={`${cellClass} text-right`}>
                  Writes / million
                </th>
                <th scope="col" className={`${cellClass} text-right`}>
                  Reads / million
                </th>
                <th scope="col" className={`${cellClass} text-right`}>
                  Egress / GB
                </th>
              </tr>
            </thead>
            <tbody>
              {cost.prices.map((price) => (
                <tr key={price.projectId} className="border-t border-slate-100">
                  <th scope="row" className={`${cellClass} font-normal`}>
                    {price.projectName}
                  </th>
                  <td className={cellClass}>{price.name}</td>
                  <td className={`${cellClass} text-right tabular-nums`}>{dollars(price.storagePerGbMonth)}</td>
                  <td className={`${cellClass} text-right tabular-nums`}>{dollars(price.writesPerMillion)}</td>
                  <td className={`${cellClass} text-right tabular-nums`}>{dollars(price.readsPerMillion)}</td>
                  <td className={`${cellClass} text-right tabular-nums`}>{dollars(price.egressPerGb)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {cost.unpriced.length > 0 ? (
          <ul className="mt-3 list-disc pl-5 text-sm text-slate-600">
            {cost.unpriced.map((project) => (
              <li key={project.projectId}>
                {project.projectName}: not priced ({project.reason}).
              </li>
            ))}
          </ul>
        ) : null}
      </section>
    </div>
  )
}

const cellClass = 'px-2 py-1 text-left'

function Stat({ label, value, detail }: { label: string; value: string; detail: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <dt className="text-sm text-slate-500">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums text-slate-900">{value}</dd>
      <dd className="mt-1 text-xs text-slate-500">{detail}</dd>
    </div>
  )
}

function Figure({ id, title, summary, table, children }: { id: string; title: string; summary: string; table: ReactNode; children: ReactNode }) {
  return (
    <figure aria-labelledby={`${id}-title`} className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 id={`${id}-title`} className="text-lg font-semibold text-slate-900">
        {title}
      </h2>
      <figcaption className="mb-3 mt-1 text-sm text-slate-600">{summary}</figcaption>
      {children}
      <details className="mt-3">
        <summary className="cursor-pointer text-sm font-medium text-indigo-700">Show the data as a table</summary>
        <div className="mt-2 max-h-96 overflow-auto">{table}</div>
      </details>
    </figure>
  )
}
