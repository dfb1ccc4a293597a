import type { MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { apiReference } from '~/api/reference.server'
import { ApiOperation } from '~/components/api-operation'
import { Card, PageHeader } from '~/components/layout'

export const meta: MetaFunction = () => [{ title: 'API reference · Carcosa' }]

export async function loader() {
  return apiReference()
}

const tagId = (tag: string) => `tag-${tag.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`

export default function ApiReference() {
  const { groups, tiers, permissions } = useLoaderData<typeof loader>()
  const limits = Object.fromEntries(tiers.map(({ tier, limit }) => [tier, limit]))
  return (
    <>
      <PageHeader
        title="API reference"
        description={
          <>
            Every operation of the REST API under <code>/api/v1</code>. The same description as OpenAPI 3.1:{' '}
            <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.
          </>
        }
      />
      <div className="space-y-6">
        <Card title="Conventions">
          <div className="space-y-3 text-sm text-slate-700">
            <p>
              <strong>Authentication.</strong> Send <code>Authorization: Bearer &lt;token&gt;</code>. A project API key (<code>ck_…</code>,
              created on a project&apos;s API keys page) reaches its own project only, within its permissions. A user access token (
              <code>cat_…</code>, from <code>POST /api/v1/auth/login</code>, valid 15 minutes and renewed with the refresh token at{' '}
              <code>POST /api/v1/tokens/refresh</code>) reaches what the user&apos;s roles allow.
            </p>
            <p>
              <strong>Errors.</strong> Every error is <code>application/problem+json</code> with <code>type</code>, <code>title</code>,{' '}
              <code>status</code>, <code>detail</code> and, for invalid input (400), <code>errors</code> per field. 401: no valid credentials;
              403: credentials without the permission; 404: anything the caller may not see.
            </p>
            <p>
              <strong>Pagination.</strong> Lists take <code>?limit=</code> (1–100, default 20) and <code>?cursor=</code>, and answer{' '}
              <code>{'{ "items": [...], "nextCursor": "..." }'}</code>; pass <code>nextCursor</code> as the next <code>cursor</code> until it is{' '}
              <code>null</code>.
            </p>
            <p>
              <strong>Rate limits.</strong> Each operation belongs to a tier, counted per API key, user, or IP address for anonymous calls, over
              a sliding hour. Responses carry <code>X-RateLimit-Limit</code>, <code>X-RateLimit-Remaining</code> and{' '}
              <code>X-RateLimit-Reset</code> (Unix seconds); a refused call answers 429 with <code>Retry-After</code>. A project&apos;s admins
              can change its keys&apos; limits in the project settings.
            </p>
          </div>
          <div className="mt-4 grid items-start gap-6 md:grid-cols-2">
            <TwoColumnTable
              caption="Rate-limit tiers (defaults)"
              headings={['Tier', 'Requests per hour']}
              rows={tiers.map(({ tier, limit }) => [tier, limit.toLocaleString('en-US')])}
            />
            <TwoColumnTable
              caption="API key permissions"
              headings={['Permission', 'Allows']}
              rows={permissions.map(({ name, description }) => [name, description])}
            />
          </div>
        </Card>
        <nav aria-label="API sections" className="text-sm">
          <ul className="flex flex-wrap gap-x-4 gap-y-1">
            {groups.map(({ tag }) => (
              <li key={tag}>
                <a href={`#${tagId(tag)}`}>{tag}</a>
              </li>
            ))}
          </ul>
        </nav>
        {groups.map(({ tag, operations }) => (
          <div key={tag} id={tagId(tag)}>
            <Card title={tag}>
              {operations.map((operation) => (
                <ApiOperation key={operation.id} operation={operation} tierLimit={limits[operation.tier] ?? 0} />
              ))}
            </Card>
          </div>
        ))}
      </div>
    </>
  )
}

/** A small reference table whose first column holds names (tiers, permissions). */
function TwoColumnTable({ caption, headings, rows }: { caption: string; headings: [string, string]; rows: [string, string][] }) {
  return (
    <table className="w-full text-left text-sm">
      <caption className="mb-1 text-left font-medium text-slate-900">{caption}</caption>
      <thead className="text-xs uppercase text-slate-500">
        <tr>
          {headings.map((heading) => (
            <th key={heading} scope="col" className="py-1 font-medium">
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map(([name, value]) => (
          <tr key={name}>
            <td className="py-1 pr-3 font-mono">{name}</td>
            <td className="py-1">{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
