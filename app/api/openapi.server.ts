import { z } from 'zod'
import { PERMISSIONS } from '~/services/api-keys/permissions'
import { EVENT_DATA, EVENT_TYPES, eventMessageSchema } from '~/services/events/event-types'
import { DEFAULT_TIER_LIMITS } from '~/utils/rate-limiter.server'
import type { Operation } from './operation.server'
import { problemTitle } from './problem.server'

const COMMON_ERRORS = [401, 429, 500]

export function jsonSchema(schema: z.ZodType) {
  // Input shapes: what a client sends (before transforms), not what the server derives.
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' })
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return []
  const json = jsonSchema(schema) as { properties?: Record<string, object>; required?: string[] }
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: property,
    ...('description' in property ? { description: (property as { description: string }).description } : {}),
  }))
}

/** Form fields as OpenAPI describes them; the `file` part is binary. */
function multipartProperties(schema: z.ZodObject) {
  const properties = (jsonSchema(schema) as { properties?: Record<string, object> }).properties ?? {}
  return Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [name, name === 'file' ? { ...property, type: 'string', format: 'binary' } : property]),
  )
}

/** The error statuses an operation documents: its own plus, unless anonymous, 401, 429 and 500. */
export function errorStatuses(operation: Operation) {
  return [...new Set([...(operation.auth === 'none' ? [] : COMMON_ERRORS), ...operation.errors])].sort()
}

/** The OpenAPI 3.1 document, built from the operation table and its zod schemas. */
export function buildOpenApiDocument(operations: Operation[], serverUrl: string) {
  const paths: Record<string, Record<string, object>> = {}
  for (const operation of operations) {
    const responses: Record<string, object> = {
      [operation.status]:
        operation.status === 204
          ? { description: 'Done; no body.' }
          : {
              description: 'Success',
              ...(operation.response ? { content: { 'application/json': { schema: jsonSchema(operation.response) } } } : {}),
              ...(operation.responseMediaType
                ? { content: { [operation.responseMediaType]: { schema: { type: 'string', format: 'binary' } } } }
                : {}),
            },
    }
    for (const status of errorStatuses(operation)) {
      responses[status] = {
        description: problemTitle(status),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      }
    }
    ;(paths[operation.path] ??= {})[operation.method.toLowerCase()] = {
      operationId: operation.id,
      summary: operation.summary,
      tags: [operation.tag],
      security: operation.auth === 'none' ? [] : [{ bearer: [] }],
      parameters: [...parameters(operation.params, 'path'), ...parameters(operation.query, 'query')],
      ...(operation.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: jsonSchema(operation.body) },
                ...(operation.textBody
                  ? {
                      [operation.textBody.contentType]: {
                        schema: {
                          type: 'string',
                          description: `The same as the JSON body's \`${operation.textBody.field}\`; other fields as query parameters.`,
                        },
                      },
                    }
                  : {}),
              },
            },
          }
        : {}),
      ...(operation.multipart
        ? {
            requestBody: {
              required: true,
              content: {
                'multipart/form-data': { schema: { ...jsonSchema(operation.multipart), properties: multipartProperties(operation.multipart) } },
              },
            },
          }
        : {}),
      responses,
      'x-carcosa-auth': operation.auth,
      'x-carcosa-permission': operation.permission ?? null,
      'x-carcosa-rate-limit-tier': operation.tier,
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Carcosa API',
      version: '1.0.0',
      description:
        'Management API of Carcosa. Authenticate with `Authorization: Bearer <token>`: a project API key (`ck_...`, ' +
        'limited to its project and permissions) or a user access token (`cat_...`, from POST /api/v1/auth/login). ' +
        `Rate-limit tiers per hour: ${Object.entries(DEFAULT_TIER_LIMITS)
          .map(([tier, limit]) => `${tier} ${limit}`)
          .join(', ')}.`,
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (ck_...) or user access token (cat_...)' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            errors: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
          },
        },
        Permission: { type: 'string', enum: [...PERMISSIONS] },
      },
    },
    paths,
    webhooks: eventWebhooks(),
  }
}

const SIGNATURE_HEADERS = [
  { name: 'webhook-id', description: 'The delivery id (`msg_...`), the same on every attempt: deduplicate by it.' },
  { name: 'webhook-timestamp', description: 'Unix seconds of this attempt; refuse ones far from your clock.' },
  {
    name: 'webhook-signature',
    description:
      '`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by the base64 part of the `whsec_` secret; two, space-separated, during a secret rotation.',
  },
].map((header) => ({ ...header, in: 'header', required: true, schema: { type: 'string' } }))

/**
 * The events Carcosa POSTs to webhook endpoints (Standard Webhooks) and publishes on `project:<id>`
 * live channels, as OpenAPI 3.1 `webhooks`: one per event type, its body `{type, timestamp, data}`.
 */
function eventWebhooks() {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: EVENT_DATA[type].description ?? type,
          tags: ['Events'],
          parameters: SIGNATURE_HEADERS,
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(eventMessageSchema(type)) } } },
          responses: {
            '2XX': {
              description: 'Received. Any other answer (or none within the timeout) is retried on the schedule; 410 disables the endpoint.',
            },
          },
        },
      },
    ]),
  )
}
