/**
 * The route files, the operation table and the OpenAPI document agree: every `app/routes/api.v1.*`
 * file serves a registered path, every registered path has its file, and /api/v1/openapi.json
 * documents every operation with its permission, parameters and the errors it can answer.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { before, describe, test } from 'node:test'
import { z } from 'zod'
import { OPERATIONS } from '~/api/registry.server'
import type { Operation } from '~/api/operation.server'
import { api, assertProblem, fillPath } from '../support/api-client'

const ROUTES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'app', 'routes')

/**
 * The URL path template a flat-routes file name serves: `.` separates segments, `[.]` (any
 * bracketed text) is literal, `$name` is the parameter `{name}`.
 * `api.v1.teams.$id.members.$userId.ts` -> `/api/v1/teams/{id}/members/{userId}`.
 */
function pathFromFileName(file: string) {
  const name = file.replace(/\.tsx?$/, '')
  const segments: string[] = []
  let current = ''
  for (let i = 0; i < name.length; i++) {
    const char = name[i]!
    if (char === '[') {
      const end = name.indexOf(']', i)
      current += name.slice(i + 1, end)
      i = end
    } else if (char === '.') {
      segments.push(current)
      current = ''
    } else {
      current += char
    }
  }
  segments.push(current)
  return '/' + segments.map((segment) => (segment.startsWith('$') ? `{${segment.slice(1)}}` : segment)).join('/')
}

const placeholders = (template: string) => Object.fromEntries([...template.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, 'placeholder']))

/**
 * Routes that sit beside the operation table: the image transform endpoint, which answers bytes
 * rather than JSON (ADR 010, tested in tests/integration/transforms*.test.ts), and the catch-all that
 * answers unknown paths under /api/v1 (tested below).
 */
const BESIDE_THE_TABLE = ['api.v1.transform.$projectId.$.ts', 'api.v1.$.ts']

let routeFiles: { file: string; path: string; source: string }[]
const registeredPaths = [...new Set(OPERATIONS.map((operation) => operation.path))]

before(async () => {
  const files = (await fs.readdir(ROUTES_DIR))
    .filter((file) => file.startsWith('api.v1.') && /\.tsx?$/.test(file) && !BESIDE_THE_TABLE.includes(file))
    .sort()
  routeFiles = await Promise.all(
    files.map(async (file) => ({ file, path: pathFromFileName(file), source: await fs.readFile(path.join(ROUTES_DIR, file), 'utf8') })),
  )
})

describe('route files and the operation table', () => {
  test('file names map to path templates as Remix flat routes do', () => {
    assert.equal(pathFromFileName('api.v1.teams.$id.members.$userId.ts'), '/api/v1/teams/{id}/members/{userId}')
    assert.equal(pathFromFileName('api.v1.openapi[.]json.ts'), '/api/v1/openapi.json')
    assert.equal(pathFromFileName('api.v1.projects.$id.rate-limits.ts'), '/api/v1/projects/{id}/rate-limits')
  })

  test('every route file under app/routes/api.v1.* serves a registered path', () => {
    assert.ok(routeFiles.length > 0)
    const unregistered = routeFiles.filter((route) => !registeredPaths.includes(route.path)).map((route) => `${route.file} (${route.path})`)
    assert.deepEqual(unregistered, [], 'route files without an operation in OPERATIONS (and so without documentation)')
  })

  test('every registered path has its route file', () => {
    const served = new Set(routeFiles.map((route) => route.path))
    assert.deepEqual(registeredPaths.filter((p) => !served.has(p)), [], 'paths in OPERATIONS that no route file serves')
  })

  test("each route file hands both its loader and its action to handleApiRequest with its own path", () => {
    for (const route of routeFiles) {
      const declared = /const PATH = '([^']+)'/.exec(route.source)?.[1]
      assert.equal(declared, route.path, `${route.file}: PATH names the path its file name serves`)
      assert.match(route.source, /export async function loader\(args: LoaderFunctionArgs\) \{\s*return handleApiRequest\(args, PATH\)/, route.file)
      assert.match(route.source, /export async function action\(args: ActionFunctionArgs\) \{\s*return handleApiRequest\(args, PATH\)/, route.file)
    }
  })

  test('each route file answers through the API handler (JSON or problem+json, never the HTML 404 page)', async () => {
    for (const route of routeFiles) {
      const response = await api('GET', fillPath(route.path, placeholders(route.path)))
      assert.match(response.headers.get('Content-Type') ?? '', /^application\/(?:problem\+)?json\b/, `GET ${route.path}: ${response.status}`)
      assert.notEqual(response.status, 404, `GET ${route.path} reaches its route`)
    }
  })

  test('the routes beside the table exist and answer problem+json, not the HTML 404 page', async () => {
    for (const file of BESIDE_THE_TABLE) await fs.access(path.join(ROUTES_DIR, file))
    const response = await api('GET', '/api/v1/transform/placeholder/some/file.jpg?w=100')
    assert.match(response.headers.get('Content-Type') ?? '', /^application\/problem\+json\b/)
    assert.equal(response.status, 404)
  })

  test('unknown paths under /api/v1 answer a problem+json 404 for every method, not the HTML page', async () => {
    const unknown = ['/api/v1', '/api/v1/', '/api/v1/no-such-thing', '/api/v1/files/placeholder/no-such-action', '/api/v1/teams/a/members/b/c?x=1']
    for (const url of unknown) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const response = await api(method, url, method === 'GET' || method === 'OPTIONS' ? {} : { body: { name: 'x' } })
        assertProblem(response, 404)
        assert.match(response.json.detail, /no API operation at \/api\/v1/, `${method} ${url}`)
      }
      const head = await api('HEAD', url)
      assert.equal(head.status, 404, `HEAD ${url}`)
      assert.match(head.headers.get('Content-Type') ?? '', /^application\/problem\+json\b/, `HEAD ${url}`)
    }
    // Known paths keep their own answers: 405 for a method they lack, not the catch-all's 404.
    assertProblem(await api('DELETE', '/api/v1/health'), 405)
  })

  test('operations an API key may call name the permission it needs', () => {
    assert.deepEqual(
      OPERATIONS.filter((operation) => operation.auth === 'any' && !operation.permission).map((operation) => operation.id),
      [],
    )
  })
})

// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>
interface DocumentedOperation {
  operationId: string
  parameters: { name: string; in: string; required: boolean; schema: Json }[]
  requestBody?: { required: boolean; content: Record<string, { schema: Json }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>
  security: unknown[]
  'x-carcosa-auth': string
  'x-carcosa-permission': string | null
  'x-carcosa-rate-limit-tier': string
}

/** The statuses an operation can answer besides success, from what it declares. */
function statusesItCanAnswer(operation: Operation) {
  const statuses = new Set<number>(operation.errors)
  statuses.add(429) // every operation is rate limited, anonymous ones by IP
  if (operation.auth !== 'none') statuses.add(401)
  if (operation.params || operation.query || operation.body) statuses.add(400)
  if (operation.body) {
    statuses.add(413)
    statuses.add(415)
  }
  if (operation.auth === 'user' || (operation.auth === 'any' && operation.permission)) statuses.add(403) // keys refused or short of the permission
  if (operation.auth === 'any') statuses.add(404) // a key of another project
  return [...statuses].sort((a, b) => a - b)
}

// A schema that transforms its input (a pipe) is documented by the object it reads.
const inputOf = (schema: z.ZodType | undefined): z.ZodType | undefined => (schema instanceof z.ZodPipe ? inputOf(schema.in as z.ZodType) : schema)
const shapeKeys = (schema: z.ZodType | undefined) => {
  const input = inputOf(schema)
  return input instanceof z.ZodObject ? Object.keys(input.shape).sort() : []
}

describe('the OpenAPI document at /api/v1/openapi.json', () => {
  let document: Json & {
    paths: Record<string, Record<string, DocumentedOperation>>
    components: { schemas: Record<string, Json>; securitySchemes: Json }
  }

  before(async () => {
    const response = await api('GET', '/api/v1/openapi.json')
    assert.equal(response.status, 200)
    assert.match(response.headers.get('Content-Type') ?? '', /^application\/json\b/)
    document = response.json
  })

  test('is OpenAPI 3.1 with info, a server, the bearer scheme and the Problem schema', () => {
    assert.match(String(document.openapi), /^3\.1\.\d+$/)
    const info = document.info as Json
    assert.ok(typeof info.title === 'string' && typeof info.version === 'string')
    assert.deepEqual(document.servers, [{ url: 'http://carcosa.test' }])
    assert.deepEqual(document.components.securitySchemes.bearer, {
      type: 'http',
      scheme: 'bearer',
      description: 'API key (ck_...) or user access token (cat_...)',
    })
    assert.deepEqual(document.components.schemas.Problem!.required, ['type', 'title', 'status', 'detail'])
  })

  test('lists exactly the operations of the table and the transform URL beside it, with unique operationIds', () => {
    const documented = Object.entries(document.paths).flatMap(([p, methods]) =>
      Object.entries(methods).map(([method, operation]) => `${operation.operationId} ${method.toUpperCase()} ${p}`),
    )
    const table = OPERATIONS.map((operation) => `${operation.id} ${operation.method} ${operation.path}`)
    assert.deepEqual(documented.sort(), [...table, 'transformImage GET /api/v1/transform/{projectId}/{path}'].sort())
  })

  test('every route file has a documented operation', () => {
    const undocumented = routeFiles.filter((route) => Object.keys(document.paths[route.path] ?? {}).length === 0)
    assert.deepEqual(undocumented.map((route) => route.file), [])
  })

  for (const operation of OPERATIONS) {
    test(`${operation.id} (${operation.method} ${operation.path}): permission, parameters, body and responses`, () => {
      const documented = document.paths[operation.path]?.[operation.method.toLowerCase()]
      assert.ok(documented, 'documented')
      assert.equal(documented.operationId, operation.id)
      assert.equal(documented['x-carcosa-permission'], operation.permission ?? null)
      assert.equal(documented['x-carcosa-auth'], operation.auth)
      assert.equal(documented['x-carcosa-rate-limit-tier'], operation.tier)
      assert.deepEqual(documented.security, operation.auth === 'none' ? [] : [{ bearer: [] }])

      const pathParameters = documented.parameters.filter((p) => p.in === 'path')
      const templateNames = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!).sort()
      assert.deepEqual(pathParameters.map((p) => p.name).sort(), templateNames, 'one path parameter per {name} of the template')
      assert.deepEqual(shapeKeys(operation.params), templateNames, 'the params schema validates each {name}')
      assert.ok(pathParameters.every((p) => p.required && typeof p.schema === 'object'))

      const queryParameters = documented.parameters.filter((p) => p.in === 'query')
      assert.deepEqual(queryParameters.map((p) => p.name).sort(), shapeKeys(operation.query))
      if (operation.query) {
        const required = (z.toJSONSchema(operation.query, { io: 'input', unrepresentable: 'any' }) as { required?: string[] }).required ?? []
        for (const parameter of queryParameters) assert.equal(parameter.required, required.includes(parameter.name), `?${parameter.name} required`)
      }

      if (operation.body) {
        assert.equal(documented.requestBody?.required, true)
        const schema = documented.requestBody?.content['application/json']?.schema as { type?: string; properties?: Json }
        assert.equal(schema.type, 'object')
        assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), shapeKeys(operation.body))
      } else if (operation.multipart) {
        assert.equal(documented.requestBody?.required, true)
        const schema = documented.requestBody?.content['multipart/form-data']?.schema as { type?: string; properties?: Record<string, Json> }
        assert.equal(schema.type, 'object')
        assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), shapeKeys(operation.multipart))
        assert.equal(schema.properties?.file?.format, 'binary', 'the file part is documented as binary')
      } else {
        assert.equal(documented.requestBody, undefined)
      }

      const statuses = Object.keys(documented.responses).map(Number)
      assert.ok(statuses.includes(operation.status), `documents its success status ${operation.status}`)
      const errors = statuses.filter((status) => status >= 400)
      const missing = statusesItCanAnswer(operation).filter((status) => !errors.includes(status))
      assert.deepEqual(missing, [], 'documents every error status it can answer')
      if (operation.auth !== 'none') assert.ok(errors.includes(401), 'an operation that needs credentials documents 401')
      for (const status of errors) {
        const documentedError: DocumentedOperation['responses'][string] = documented.responses[String(status)]!
        assert.ok(documentedError.description.length > 0)
        assert.deepEqual(documentedError.content?.['application/problem+json']?.schema, { $ref: '#/components/schemas/Problem' })
      }
    })
  }
})
