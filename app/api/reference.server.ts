import type { z } from 'zod'
import { PERMISSIONS, PERMISSION_DESCRIPTIONS } from '~/services/api-keys/permissions'
import { DEFAULT_TIER_LIMITS, RATE_LIMIT_TIERS } from '~/utils/rate-limiter.server'
import { errorStatuses, jsonSchema } from './openapi.server'
import type { Operation, OperationAuth } from './operation.server'
import { problemTitle } from './problem.server'
import { DOCUMENTED_OPERATIONS } from './registry.server'
import { tryableOperation } from './try-it.server'

/** One path parameter, query parameter or body field of an operation, as the reference page lists it. */
export interface FieldDoc {
  name: string
  in: 'path' | 'query' | 'body'
  required: boolean
  type: string
  description: string | null
}

export interface OperationDoc {
  id: string
  method: string
  path: string
  summary: string
  auth: OperationAuth
  /** What an API key needs; null when keys are refused or no permission applies. */
  permission: string | null
  tier: string
  fields: FieldDoc[]
  status: number
  errors: { status: number; title: string }[]
  /** Whether the `/api-docs` console can send it (a file's bytes cannot go through a form field there). */
  tryable: boolean
  /** A JSON body with the required fields to fill in, for the console; null without a JSON body. */
  bodyExample: string | null
}

interface JsonSchema {
  type?: string
  format?: string
  enum?: unknown[]
  items?: JsonSchema
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  default?: unknown
  description?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
}

const range = (min: number | undefined, max: number | undefined, unit = '') =>
  min !== undefined && max !== undefined
    ? `${min}–${max}${unit}`
    : min !== undefined
      ? `at least ${min}${unit}`
      : max !== undefined
        ? `at most ${max}${unit}`
        : null

/** A short, readable type: `string, 1–80 characters`, `array of permission, 1–17 items`. */
function describeType(schema: JsonSchema): string {
  const isPermission = schema.enum?.length === PERMISSIONS.length && PERMISSIONS.every((p) => schema.enum?.includes(p))
  const base = isPermission
    ? 'permission'
    : schema.enum
      ? `one of ${schema.enum.join(', ')}`
      : schema.type === 'array'
        ? `array of ${schema.items ? describeType(schema.items) : 'values'}`
        : [schema.type ?? 'any', schema.format].filter(Boolean).join(', ')
  const details = [
    range(schema.minLength, schema.maxLength, ' characters'),
    range(schema.minimum, schema.maximum),
    range(schema.minItems, schema.maxItems, ' items'),
    // A format already says what a long generated pattern would.
    schema.pattern && !schema.format ? `pattern ${schema.pattern}` : null,
    schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : null,
  ].filter(Boolean)
  return [base, ...details].join(', ')
}

function fieldsOf(schema: z.ZodType | undefined, location: FieldDoc['in']): FieldDoc[] {
  if (!schema) return []
  const json = jsonSchema(schema) as JsonSchema
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    type: describeType(property),
    description: property.description ?? null,
  }))
}

function describeOperation(operation: Operation): OperationDoc {
  return {
    id: operation.id,
    method: operation.method,
    path: operation.path,
    summary: operation.summary,
    auth: operation.auth,
    permission: operation.auth === 'any' ? (operation.permission ?? null) : null,
    tier: operation.tier,
    fields: [
      ...fieldsOf(operation.params, 'path'),
      ...fieldsOf(operation.query, 'query'),
      ...fieldsOf(operation.body, 'body'),
      ...fieldsOf(operation.multipart, 'body'),
    ],
    status: operation.status,
    errors: errorStatuses(operation).map((status) => ({ status, title: problemTitle(status) })),
    tryable: tryableOperation(operation.id) !== undefined,
    bodyExample: operation.body ? JSON.stringify(exampleOf(jsonSchema(operation.body) as JsonSchema), null, 2) : null,
  }
}

/** The shape of a body with its required fields left blank: a starting point, not a valid request. */
function exampleOf(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return schema.default
  if (schema.enum?.length) return schema.enum[0]
  switch (schema.type) {
    case 'object':
      return Object.fromEntries((schema.required ?? []).map((name) => [name, exampleOf(schema.properties?.[name] ?? {})]))
    case 'array':
      return []
    case 'integer':
    case 'number':
      return schema.minimum ?? 0
    case 'boolean':
      return false
    case 'string':
      return ''
    default:
      return null
  }
}

let reference: ReturnType<typeof buildReference> | undefined

/** The `/docs/api` page's content, derived from the operation table like the OpenAPI document. */
export function apiReference() {
  reference ??= buildReference()
  return reference
}

function buildReference() {
  const groups = new Map<string, OperationDoc[]>()
  for (const operation of DOCUMENTED_OPERATIONS) groups.set(operation.tag, [...(groups.get(operation.tag) ?? []), describeOperation(operation)])
  return {
    groups: [...groups].map(([tag, operations]) => ({ tag, operations })),
    tiers: RATE_LIMIT_TIERS.map((tier) => ({ tier, limit: DEFAULT_TIER_LIMITS[tier] })),
    permissions: PERMISSIONS.map((name) => ({ name, description: PERMISSION_DESCRIPTIONS[name] })),
  }
}

/** One operation's reference entry, by its id. */
export function operationDoc(id: string): OperationDoc | undefined {
  for (const group of apiReference().groups) {
    const found = group.operations.find((operation) => operation.id === id)
    if (found) return found
  }
  return undefined
}
