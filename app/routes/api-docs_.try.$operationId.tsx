import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { operationDoc, type FieldDoc } from '~/api/reference.server'
import { tryableOperation, tryOperation, type TryItAnswer } from '~/api/try-it.server'
import { ApiOperation } from '~/components/api-operation'
import { ErrorList, inputClass, SubmitButton } from '~/components/forms'
import { Card, PageHeader } from '~/components/layout'
import { DEFAULT_TIER_LIMITS } from '~/utils/rate-limiter.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Try ${data.operation.method} ${data.operation.path} · Carcosa` : 'API console · Carcosa' },
]

function findOperation(id: string | undefined) {
  const doc = id ? operationDoc(id) : undefined
  if (!doc || !doc.tryable) throw data({ message: 'No operation of the API has this id.' }, { status: 404 })
  return doc
}

export async function loader({ params }: LoaderFunctionArgs) {
  const operation = findOperation(params.operationId)
  return { operation, tierLimit: DEFAULT_TIER_LIMITS[operation.tier as keyof typeof DEFAULT_TIER_LIMITS] ?? 0 }
}

const text = (max: number) => z.string().max(max, `At most ${max} characters.`)
const formSchema = z.object({
  // Bearer tokens are one word: whitespace or control characters would break the header.
  credential: text(1024).regex(/^[\x21-\x7e]*$/, 'A key or token is one word of printable characters.'),
  body: text(256 * 1024),
})

type Reply =
  | { answer: TryItAnswer; errors?: undefined; values: Record<string, string> }
  | { answer?: undefined; errors: Record<string, string[]>; values: Record<string, string> }

export async function action({ request, context, params }: ActionFunctionArgs) {
  const doc = findOperation(params.operationId)
  const operation = tryableOperation(doc.id)!
  const form = await request.formData()
  const field = (name: string) => {
    const value = form.get(name)
    return typeof value === 'string' ? value : ''
  }
  // What comes back to the page: every field but the credential, which is never sent back.
  const values: Record<string, string> = {}
  const errors: Record<string, string[]> = {}
  const pick = (location: 'path' | 'query') =>
    Object.fromEntries(
      doc.fields
        .filter((f) => f.in === location)
        .map((f) => {
          const value = field(fieldName(f))
          values[fieldName(f)] = value
          if (value.length > 2048) errors[fieldName(f)] = ['At most 2048 characters.']
          return [f.name, value]
        }),
    )
  const input = { params: pick('path'), query: pick('query') }
  const parsed = formSchema.safeParse({ credential: field('credential').trim(), body: field('body') })
  values.body = field('body')
  if (!parsed.success) for (const issue of parsed.error.issues) (errors[String(issue.path[0])] ??= []).push(issue.message)
  if (Object.keys(errors).length > 0 || !parsed.success) return data<Reply>({ errors, values }, { status: 400 })

  const result = await tryOperation(operation, { ...input, credential: parsed.data.credential, body: parsed.data.body }, { request, context })
  if ('errors' in result) {
    const named = Object.fromEntries(Object.entries(result.errors).map(([name, messages]) => [`param:${name}`, messages]))
    return data<Reply>({ errors: named, values }, { status: 400 })
  }
  return data<Reply>({ answer: result, values }, { headers: { 'Cache-Control': 'no-store' } })
}

const fieldName = (field: FieldDoc) => (field.in === 'path' ? `param:${field.name}` : `query:${field.name}`)

export default function TryOperation() {
  const { operation, tierLimit } = useLoaderData<typeof loader>()
  const reply = useActionData<typeof action>()
  const inputs = operation.fields.filter((field) => field.in === 'path' || field.in === 'query')
  const hasBody = operation.bodyExample !== null
  const errors = reply?.errors ?? {}
  const invalid = Object.keys(errors).length > 0
  return (
    <>
      <PageHeader
        title={`Try ${operation.method} ${operation.path}`}
        crumbs={[
          { label: 'API reference', to: '/api-docs' },
          { label: operation.id, to: `/api-docs/try/${operation.id}` },
        ]}
        description="Sends one real call to this Carcosa with the key or token you give, and shows the answer."
      />
      <div className="space-y-6">
        <Card title="Operation">
          <ApiOperation operation={operation} tierLimit={tierLimit} offerTryIt={false} />
        </Card>
        <Card title="Request">
          <Form method="post" className="space-y-4" aria-describedby={invalid ? 'request-errors' : undefined}>
            {invalid ? (
              <p id="request-errors" role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                Nothing was sent: a field below needs attention.
              </p>
            ) : null}
            <div>
              <label htmlFor="credential" className="block text-sm font-medium text-slate-700">
                API key or user access token{operation.auth === 'none' ? ' (optional)' : ''}
              </label>
              <input
                id="credential"
                name="credential"
                type="password"
                autoComplete="off"
                spellCheck={false}
                aria-describedby="credential-hint credential-errors"
                aria-invalid={errors.credential ? true : undefined}
                className={inputClass}
              />
              <p id="credential-hint" className="mt-1 text-xs text-slate-500">
                Used for this one call and never kept or shown again: prefer a key with just the permissions you are trying. Without JavaScript,
                type it again for each call.
              </p>
              <ErrorList id="credential-errors" errors={errors.credential} />
            </div>
            {inputs.map((field) => {
              const name = fieldName(field)
              const id = name.replace(':', '-')
              return (
                <div key={name}>
                  <label htmlFor={id} className="block text-sm font-medium text-slate-700">
                    <code>{field.name}</code> ({field.in === 'path' ? 'path' : 'query'}
                    {field.required ? ', required' : ''})
                  </label>
                  <input
                    id={id}
                    name={name}
                    defaultValue={reply?.values[name] ?? ''}
                    required={field.in === 'path'}
                    aria-describedby={`${id}-hint ${id}-errors`}
                    aria-invalid={errors[name] ? true : undefined}
                    className={inputClass}
                  />
                  <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
                    {field.type}
                    {field.description ? `. ${field.description}` : ''}
                  </p>
                  <ErrorList id={`${id}-errors`} errors={errors[name]} />
                </div>
              )
            })}
            {hasBody ? (
              <div>
                <label htmlFor="body" className="block text-sm font-medium text-slate-700">
                  Body (JSON)
                </label>
                <textarea
                  id="body"
                  name="body"
                  rows={8}
                  spellCheck={false}
                  defaultValue={reply?.values.body ?? operation.bodyExample ?? ''}
                  aria-describedby="body-errors"
                  aria-invalid={errors.body ? true : undefined}
                  className={`${inputClass} font-mono`}
                />
                <ErrorList id="body-errors" errors={errors.body} />
              </div>
            ) : null}
            <SubmitButton>Send {operation.method} request</SubmitButton>
          </Form>
        </Card>
        {reply?.answer ? <Answer answer={reply.answer} /> : null}
        <p className="text-sm">
          <Link to="/api-docs">Back to the API reference</Link>
        </p>
      </div>
    </>
  )
}

function Answer({ answer }: { answer: TryItAnswer }) {
  return (
    <section aria-labelledby="answer-heading" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 id="answer-heading" className="mb-2 text-lg font-semibold text-slate-900" tabIndex={-1}>
        {`Answer: ${answer.status} ${answer.statusText}`}
      </h2>
      <p className="text-sm text-slate-700">
        <code>{`${answer.method} ${answer.url}`}</code>
      </p>
      {answer.headers.length > 0 ? (
        <dl className="mt-3 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
          {answer.headers.map(([name, value]) => (
            <div key={name} className="contents">
              <dt className="font-mono text-slate-500">{name}</dt>
              <dd className="break-all font-mono">{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {answer.body.kind === 'text' ? (
        <>
          <pre
            className="mt-3 max-h-[32rem] overflow-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"
            tabIndex={0}
            aria-label="Response body"
          >
            {answer.body.text}
          </pre>
          {answer.body.truncated ? <p className="mt-1 text-xs text-slate-500">The answer was longer: only its first 64 KiB are shown.</p> : null}
        </>
      ) : answer.body.kind === 'binary' ? (
        <p className="mt-3 text-sm text-slate-700">
          A {answer.body.contentType || 'binary'} body
          {answer.body.bytes !== null ? ` of ${answer.body.bytes.toLocaleString('en-US')} bytes` : ''}, not shown here.
        </p>
      ) : (
        <p className="mt-3 text-sm text-slate-700">No body.</p>
      )}
    </section>
  )
}
