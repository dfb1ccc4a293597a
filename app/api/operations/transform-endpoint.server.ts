import { z } from 'zod'
import { FITS, FORMATS, MAX_DIMENSION, POSITIONS, ROTATIONS } from '~/services/transforms/params'
import { defineOperation } from '../operation.server'

/** The query a transform URL takes (ADR 010), for the documentation; `parseTransformQuery` is what reads it. */
export const transformQueryDocumentation = z.object({
  w: z.int().min(1).max(MAX_DIMENSION).optional().describe('Width in pixels (alias `width`)'),
  h: z.int().min(1).max(MAX_DIMENSION).optional().describe('Height in pixels (alias `height`)'),
  fit: z.enum(FITS).optional().describe('How the image fits w×h'),
  format: z.enum(FORMATS).optional().describe('Output format (alias `fm`); `auto` or none negotiates AVIF, then WebP, from Accept'),
  quality: z.int().min(1).max(100).optional().describe('Encoder quality (alias `q`)'),
  dpr: z.number().min(1).max(4).optional().describe('Device pixel ratio multiplying w and h, at most two decimals'),
  position: z.enum(POSITIONS).optional().describe('Crop anchor for cover (alias `gravity`)'),
  blur: z.number().min(0.3).max(100).optional().describe('Gaussian blur sigma'),
  sharpen: z.number().min(0.5).max(10).optional().describe('Sharpen sigma'),
  rotate: z
    .literal([...ROTATIONS])
    .optional()
    .describe('Degrees clockwise'),
  flip: z.boolean().optional().describe('Mirror vertically'),
  flop: z.boolean().optional().describe('Mirror horizontally'),
  background: z.string().optional().describe('Hex colour (rgb, rgba, rrggbb, rrggbbaa) for transparent areas and padding'),
  preset: z.string().optional().describe("A preset's name: its parameters, under any given here"),
  exp: z.int().optional().describe('Expiry of a signed URL, Unix seconds (part of the signature)'),
  sig: z.string().optional().describe('HMAC-SHA256 signature of the canonical URL, last in the query; from POST /api/v1/transforms/sign'),
})

/**
 * `GET /api/v1/transform/{projectId}/{path}` answers image bytes and is routed beside the table
 * (router.server.ts, handle.server.ts; a fast path in the host), so it is not in the operation table;
 * this entry documents it in the OpenAPI document and on /docs/api.
 */
export const transformEndpointDocumentation = defineOperation({
  id: 'transformImage',
  method: 'GET',
  path: '/api/v1/transform/{projectId}/{path}',
  summary:
    "An image file of the project, transformed: resized, cropped, converted, filtered. A signed URL (`sig`, `exp`) or a public file needs no credentials; otherwise an API key with `transforms:execute` or a member's token. Uncached renders count against the EXPENSIVE tier. Answers the image with a strong ETag (304 on `If-None-Match`) and `Vary: Accept`",
  tag: 'Transforms',
  auth: 'any',
  permission: 'transforms:execute',
  tier: 'EXPENSIVE',
  params: z.object({
    projectId: z.string().describe("The project's id"),
    path: z.string().describe("The file's project-relative path, e.g. `tenant-a/avatar.jpg` (slashes kept)"),
  }),
  query: transformQueryDocumentation,
  status: 200,
  responseMediaType: 'image/*',
  errors: [400, 403, 404, 422, 503],
  handler: () => {
    throw new Error('GET /api/v1/transform/... is served beside the operation table, not through it')
  },
})
