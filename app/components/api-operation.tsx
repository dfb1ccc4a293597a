import { Link } from '@remix-run/react'
import type { OperationAuth } from '~/api/operation.server'
import type { OperationDoc } from '~/api/reference.server'

const AUTH_LABELS: Record<OperationAuth, string> = {
  none: 'None',
  user: 'User token',
  any: 'User token or API key',
}

const METHOD_TONES: Record<string, string> = {
  GET: 'bg-sky-100 text-sky-800',
  POST: 'bg-emerald-100 text-emerald-800',
  PUT: 'bg-amber-100 text-amber-800',
  DELETE: 'bg-red-100 text-red-800',
}

/** Text with `backticks` around code, as the operation table's summaries are written. */
function WithCode({ text }: { text: string }) {
  return <>{text.split('`').map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}</>
}

/** One REST operation of the API reference: what it does, who may call it, its inputs and its answers. */
export function ApiOperation({ operation, tierLimit, offerTryIt = true }: { operation: OperationDoc; tierLimit: number; offerTryIt?: boolean }) {
  const headingId = `op-${operation.id}`
  const facts = [
    { term: 'Authentication', value: AUTH_LABELS[operation.auth] },
    { term: 'API key permission', value: operation.permission ?? (operation.auth === 'user' ? 'API keys are refused' : 'None') },
    { term: 'Rate-limit tier', value: `${operation.tier} (${tierLimit.toLocaleString('en-US')} per hour)` },
    { term: 'Success', value: String(operation.status) },
    { term: 'Errors', value: operation.errors.map((error) => `${error.status} ${error.title}`).join(', ') || 'None' },
  ]
  return (
    <section aria-labelledby={headingId} className="border-t border-slate-100 py-4 first:border-t-0 first:pt-0">
      <h3 id={headingId} className="flex flex-wrap items-center gap-2 text-base font-semibold">
        <span className={`rounded px-1.5 py-0.5 font-mono text-xs ${METHOD_TONES[operation.method] ?? ''}`}>{operation.method}</span>{' '}
        <code className="text-sm">{operation.path}</code>
      </h3>
      <p className="mt-1 text-sm text-slate-700">
        <WithCode text={operation.summary} />
      </p>
      {offerTryIt && operation.tryable ? (
        <p className="mt-1 text-sm">
          <Link to={`/api-docs/try/${operation.id}`} aria-label={`Try it: ${operation.method} ${operation.path}`}>
            Try it
          </Link>
        </p>
      ) : null}
      <dl className="mt-2 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
        {facts.map((fact) => (
          <div key={fact.term} className="contents">
            <dt className="text-slate-500">{fact.term}</dt>
            <dd className={fact.term === 'API key permission' && operation.permission ? 'font-mono' : undefined}>{fact.value}</dd>
          </div>
        ))}
      </dl>
      {operation.fields.length > 0 ? (
        <table className="mt-3 w-full table-fixed text-left text-sm">
          <caption className="sr-only">
            Parameters of {operation.method} {operation.path}
          </caption>
          <thead className="text-xs uppercase text-slate-500">
            <tr>
              <th scope="col" className="w-1/4 py-1 pr-3 font-medium">
                Name
              </th>
              <th scope="col" className="w-1/12 py-1 pr-3 font-medium">
                In
              </th>
              <th scope="col" className="py-1 pr-3 font-medium">
                Type
              </th>
              <th scope="col" className="w-24 py-1 font-medium">
                Required
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 align-top">
            {operation.fields.map((field) => (
              <tr key={`${field.in}-${field.name}`}>
                <td className="break-words py-1 pr-3 font-mono">{field.name}</td>
                <td className="py-1 pr-3">{field.in}</td>
                <td className="py-1 pr-3">
                  <span className="break-all">{field.type}</span>
                  {field.description ? <span className="block text-xs text-slate-500">{field.description}</span> : null}
                </td>
                <td className="py-1">{field.required ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}
