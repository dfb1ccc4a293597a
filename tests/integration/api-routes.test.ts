/**
 * The operation table, its router and the OpenAPI document agree: every registered path is routed to
 * its own operations (literal segments before parameters, parameters decoded), nothing under /api/v1
 * is left to Remix's route files, and /api/v1/openapi.json documents every operation with its
 * permission, parameters and the errors it can answer.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { before, describe, test } from 'node:test'
import { z } from 'zod'
import { OPERATIONS, routeApiPath } from '~/api/registry.server'
import { isApiPath } from '~/api/router.server'
import type { Operation } from '~/api/operation.server'
import { api, assertProblem, fillPath } from '../support/api-client'

const ROUTES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'app', 'routes')

const placeholders = (template: string) =>
  Object.fromEntries([...template.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, `placeholder-${name}`]))
const registeredPaths = [...new Set(OPERATIONS.map((operation) => operation.path))]

describe('the operation table and its router', () => {
  test('every registered path is routed to its own operations, with its parameters', () => {
    for (const template of registeredPaths) {
      const route = routeApiPath(fillPath(template, placeholders(template)))
      assert.ok(route?.kind === 'operations', template)
      assert.equal(route.path, template)
      assert.deepEqual(
        route.operations.map((operation) => operation.id).sort(),
        OPERATIONS.filter((o) => o.path === template)
          .map((o) => o.id)
          .sort(),
      )
      assert.deepEqual({ ...route.params }, placeholders(template), template)
    }
  })

  test('a literal segment wins over a parameter; case and one trailing slash are ignored; parameters arrive decoded', () => {
    const upload = routeApiPath('/api/v1/files/upload')
    assert.ok(upload?.kind === 'operations')
    assert.equal(upload.path, '/api/v1/files/upload')
    const file = routeApiPath('/api/v1/files/f%20one%2Fb')
    assert.ok(file?.kind === 'operations')
    assert.equal(file.path, '/api/v1/files/{id}')
    assert.equal(file.params.id, 'f one/b')
    const upper = routeApiPath('/API/V1/Projects/AbC/')
    assert.ok(upper?.kind === 'operations')
    assert.equal(upper.path, '/api/v1/projects/{id}')
    assert.equal(upper.params.id, 'AbC', 'parameters keep their case')
    assert.equal(routeApiPath('/api/v1/files/a/b/c'), null)
    const transform = routeApiPath('/api/v1/transform/p1/photos/2024/cat%20x.jpg')
    assert.deepEqual(transform, { kind: 'transform', params: { projectId: 'p1', path: 'photos/2024/cat x.jpg' } })
  })

  test('the API claims everything under /api/v1 and nothing else', () => {
    for (const claimed of ['/api/v1', '/api/v1/', '/api/v1/files', '/API/V1/files', '/api/v1/transform/p/x.jpg'])
      assert.ok(isApiPath(claimed), claimed)
    for (const other of ['/', '/api', '/api/v10', '/api/v1x/files', '/api-docs.json', '/orgs/a', '/storage/local/x'])
      assert.ok(!isApiPath(other), other)
  })

  test('no Remix route file serves a path under /api/v1: the host answers them all (ADR 027)', async () => {
    const files = (await fs.readdir(ROUTES_DIR)).filter((file) => /^api\.v1(\.|$)/.test(file))
    assert.deepEqual(files, [])
  })

  test('each registered path answers through the API handler (JSON or problem+json, never the HTML 404 page)', async () => {
    for (const template of registeredPaths) {
      const response = await api('GET', fillPath(template, placeholders(template)))
      assert.match(response.headers.get('Content-Type') ?? '', /^application\/(?:problem\+)?json\b/, `GET ${template}: ${response.status}`)
      assert.ok(!(response.status === 404 && /no API operation/.test(response.json?.detail ?? '')), `GET ${template} reaches its operation`)
    }
  })

  test('the transform endpoint beside the table answers problem+json, not the HTML 404 page', async () => {
    const response = await api('GET', '/api/v1/transform/placeholder/some/file.jpg?w=100')
    assert.match(response.headers.get('Content-Type') ?? '', /^application\/problem\+json\b/)
    assert.equal(response.status, 404)
    const post = await api('POST', '/api/v1/transform/placeholder/some/file.jpg')
    assertProblem(post, 405)
    assert.equal(post.headers.get('Allow'), 'GET, HEAD')
  })

  test('unknown paths under /api/v1 answer a problem+json 404 for every method, not the HTML page', async () => {
    const unknown = [
      '/api/v1',
      '/api/v1/',
      '/api/v1/no-such-thing',
      '/api/v1/files/placeholder/no-such-action',
      '/api/v1/teams/a/members/b/c?x=1',
    ]
    for (const url of unknown) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const response = await api(method, url, method === 'GET' || method === 'OPTIONS' ? {} : { body: { name: 'x' } })
        assertProblem(response, 404)
        assert.match(response.json.detail, /no API operation at \/api\/v1/, `${method} ${url}`)
      }
      const head = await api('HEAD', url)
      assert.equal(head.status, 404, `HEAD ${url}`)
      assert.match(head.headers.get('Content-Type') ?? '', /^application\/problem\+json\b/, `HEAD ${url}`)
      assert.equal(head.text, '', `HEAD ${url} has no body`)
    }
    // Known paths keep their own answers: 405 for a method they lack, not the catch-all's 404.
    assertProblem(await api('DELETE', '/api/v1/health'), 405)
    assertProblem(await api('OPTIONS', '/api/v1/health'), 405)
  })

  test('the OpenAPI document answers at its old address too', async () => {
    const old = await api('GET', '/api-docs.json')
    assert.equal(old.status, 200)
    assert.equal(old.json.openapi, (await api('GET', '/api/v1/openapi.json')).json.openapi)
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
const inputOf = (schema: z.ZodType | undefined): z.ZodType | undefined =>
  schema instanceof z.ZodPipe ? inputOf(schema.in as z.ZodType) : schema
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
        for (const parameter of queryParameters)
          assert.equal(parameter.required, required.includes(parameter.name), `?${parameter.name} required`)
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
