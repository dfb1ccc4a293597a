import os from 'node:os'
import { remember } from '@epic-web/remember'
import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { AppError, notFound } from '~/utils/errors.server'
import { getRateLimiter, DEFAULT_TIER_LIMITS } from '~/utils/rate-limiter.server'
import { StorageError } from '~/storage/storage-adapter'
import { actorTenantId, type Actor } from '../actor'
import { countTenantTransform } from '../tenants/quota.server'
import { requireTenantReadable } from '../tenants/tenant-status.server'
import { bucketConnectionSelect, publicBaseUrl, storageFor } from '../buckets/bucket-storage.server'
import { rateLimitOverridesFor } from '../settings/settings.server'
import { meterTransform, meterTransformRefusal } from '../usage/meter.server'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import {
  cacheStats,
  rememberVariant,
  storeVariant,
  variantFromBucket,
  variantFromMemory,
  variantHash,
  variantKey,
  type Variant,
} from './cache.server'
import { createTransformLimiter, TransformsBusy, type TransformLimiter } from './limiter.server'
import { rememberSource } from './known-sources.server'
import { CONTENT_TYPES, chooseFormat } from './negotiate'
import { applyPreset, assertCombination, hasOwnParams, parseTransformQuery, TransformParamsError, type TransformParams } from './params'
import { renderVariant, SourceRefused } from './pipeline.server'
import { presetParams } from './presets.server'
import { filePathSchema } from './schemas'
import { readTransformSettings } from './settings.server'
import { activeSecrets, canonicalString, signatureMatches } from './signing.server'
import { cacheControlFor, matchesEtag, variantEtag, variantHeaders, withBody, type CacheOutcome } from './variant-headers'

/** Source types sharp decodes here; anything else is 415 (SVG included: no rendering of active content). */
export const TRANSFORMABLE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/gif', 'image/tiff']

// One bound on concurrent renders for the whole process.
function transformLimiter(): TransformLimiter {
  return remember('carcosa.transform-limiter', () => {
    const config = getConfig()
    return createTransformLimiter({
      concurrency: config.TRANSFORM_CONCURRENCY ?? os.availableParallelism(),
      queueLimit: config.TRANSFORM_QUEUE_LIMIT,
    })
  })
}

/** Identical requests arriving together share one render. */
const inFlight = remember('carcosa.transform-in-flight', () => new Map<string, Promise<Variant>>())

export type Credential = { kind: 'none' } | { kind: 'invalid' } | { kind: 'actor'; actor: Actor }

type Grant = { via: 'signature'; expires: number } | { via: 'credentials'; actor: Actor } | { via: 'public' }

export interface TransformRequest {
  request: Request
  projectId: string
  path: string
  credential: Credential
}

/**
 * GET /api/v1/transform/:projectId/<path>: resolves the project, authorizes (a valid signature, an
 * API key with transforms:execute or a user allowed the same, or an unsigned URL of a public file
 * when the project allows it), then answers from the memory cache, the bucket's stored variants,
 * or a fresh render within the concurrency bound.
 */
export async function transformImage({ request, projectId, path, credential }: TransformRequest): Promise<Response> {
  const url = new URL(request.url)
  let parsed: ReturnType<typeof parseTransformQuery>
  try {
    parsed = parseTransformQuery(url.searchParams)
  } catch (error) {
    if (error instanceof TransformParamsError) throw new AppError('VALIDATION', error.message, { fieldErrors: error.errors })
    throw error
  }
  if (!filePathSchema.safeParse(path).success || projectId.length > 64) throw notFound('File')

  const project = await prisma.project.findUnique({ where: { id: projectId }, select: { id: true, settings: true } })
  if (!project) throw notFound('Project')
  const settings = readTransformSettings(project.settings)

  const grant = await authorize(project.id, path, parsed, credential, settings.access)

  if (settings.presetsOnly && (hasOwnParams(parsed.params) || !parsed.params.preset)) {
    throw new AppError('VALIDATION', 'This project accepts presets only: name one with ?preset= and nothing else.', {
      fieldErrors: { preset: ['is required, alone: this project accepts presets only'] },
    })
  }
  let params: TransformParams = parsed.params
  if (params.preset) {
    const preset = await presetParams(project.id, params.preset)
    if (!preset)
      throw new AppError('VALIDATION', `There is no preset named ${params.preset} in this project.`, {
        fieldErrors: { preset: [`no preset named ${params.preset}`] },
      })
    params = applyPreset(preset, params)
    try {
      assertCombination(params)
    } catch (error) {
      if (error instanceof TransformParamsError) throw new AppError('VALIDATION', error.message, { fieldErrors: error.errors })
      throw error
    }
  }

  const file = await prisma.file.findUnique({
    where: { projectId_path: { projectId: project.id, path } },
    select: {
      id: true,
      tenantId: true,
      objectKey: true,
      contentType: true,
      size: true,
      etag: true,
      updatedAt: true,
      isPublic: true,
      bucket: { select: bucketConnectionSelect },
      tenant: { select: { slug: true, status: true, maxTransformsPerHour: true, plan: { select: { maxTransformsPerHour: true } } } },
    },
  })
  if (grant.via === 'public' && !file?.isPublic) throw unsignedRefusal()
  if (!file) throw notFound('File')
  // A tenant-scoped key transforms its tenant's files only.
  const keyTenant = grant.via === 'credentials' ? actorTenantId(grant.actor) : null
  if (keyTenant && file.tenantId !== keyTenant) throw notFound('File')
  requireTenantReadable(file.tenant)
  const transformsPerHour = file.tenant ? (file.tenant.maxTransformsPerHour ?? file.tenant.plan?.maxTransformsPerHour ?? null) : null
  if (file.tenant && file.tenantId) await countTenantTransform({ id: file.tenantId, slug: file.tenant.slug, transformsPerHour })
  if (!TRANSFORMABLE_TYPES.includes(file.contentType)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `The file is ${file.contentType}; transforms take JPEG, PNG, WebP, AVIF, GIF or TIFF images.`)
  }
  const config = getConfig()
  if (file.size > BigInt(config.TRANSFORM_MAX_SOURCE_BYTES)) {
    throw new AppError('UNPROCESSABLE', `The source image is larger than ${config.TRANSFORM_MAX_SOURCE_BYTES} bytes, the limit for transforms.`)
  }

  const { format, negotiated } = chooseFormat(params.format, request.headers.get('accept'), file.contentType)
  const renderParams: TransformParams = { ...params, format: undefined }
  const hash = variantHash(file, renderParams, format, { animated: settings.allowAnimated })
  // The host's fast path answers the next hits of this signed URL without the database (fast-path.server.ts);
  // not for a tenant whose transforms are counted against a limit, which each request must reach.
  if (grant.via === 'signature' && transformsPerHour === null) {
    const { id, updatedAt, etag, size, contentType } = file
    rememberSource(path, {
      id,
      updatedAt,
      etag,
      size,
      contentType,
      projectId: project.id,
      tenantId: file.tenantId,
      allowAnimated: settings.allowAnimated,
      presetsOnly: settings.presetsOnly,
    })
  }
  const headers = variantHeaders(format, negotiated, hash, cacheControlFor(grant))

  const sendsBody = request.method !== 'HEAD'
  const meter = (variant: Variant | null, renderMs?: number) =>
    meterTransform(project.id, file.tenantId, {
      rendered: renderMs !== undefined,
      bytes: variant && sendsBody ? variant.body.length : 0,
      renderMs,
    })
  if (matchesEtag(request.headers.get('if-none-match'), variantEtag(hash))) {
    meter(null)
    return new Response(null, { status: 304, headers })
  }

  const fromMemory = variantFromMemory(hash)
  if (fromMemory) {
    meter(fromMemory)
    return imageResponse(fromMemory, headers, 'memory')
  }

  try {
    const storage = await storageFor(file.bucket, publicBaseUrl(request))
    const key = variantKey(file.id, hash, format)
    // Stored variants are at most what a render could make; a generous cap bounds a corrupt object.
    const stored = await variantFromBucket(storage, key, format, 4 * config.TRANSFORM_MAX_SOURCE_BYTES)
    if (stored) {
      rememberVariant(hash, stored)
      meter(stored)
      return imageResponse(stored, headers, 'bucket')
    }

    const limited = await countExpensive(project.id, grant)
    limited.headers.forEach((value, name) => headers.set(name, value))

    let render = inFlight.get(hash)
    // Only the request that starts a render counts it; one that shares it is a cache hit.
    let renderMs: number | undefined
    if (!render) {
      render = transformLimiter()
        .run(async () => {
          const source = await storage.get(file.objectKey)
          if (!source) throw new AppError('NOT_FOUND', "The file's bytes are missing from its bucket")
          const started = performance.now()
          const body = await renderVariant(source.body, renderParams, format, {
            maxInputPixels: config.TRANSFORM_MAX_INPUT_PIXELS,
            maxSourceBytes: config.TRANSFORM_MAX_SOURCE_BYTES,
            allowAnimated: settings.allowAnimated,
          })
          renderMs = performance.now() - started
          cacheStats.renders++
          const variant = { body, contentType: CONTENT_TYPES[format] }
          rememberVariant(hash, variant)
          await storeVariant(storage, key, variant)
          return variant
        })
        .finally(() => inFlight.delete(hash))
      inFlight.set(hash, render)
    }
    const variant = await render
    meter(variant, renderMs)
    return imageResponse(variant, headers, 'render')
  } catch (error) {
    if (error instanceof TransformsBusy) {
      throw new AppError('UNAVAILABLE', error.message, { retryAfterSeconds: error.retryAfterSeconds })
    }
    if (error instanceof SourceRefused) throw new AppError(error.status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'UNPROCESSABLE', error.message)
    if (error instanceof StorageError) throw new AppError('STORAGE_FAILED', `The project's bucket could not be read: ${error.message}`)
    throw error
  }
}

const imageResponse = (variant: Variant, headers: Headers, outcome: CacheOutcome) =>
  new Response(variant.body as Uint8Array<ArrayBuffer>, { status: 200, headers: withBody(headers, variant.body.length, outcome) })

const unsignedRefusal = () =>
  new AppError(
    'UNAUTHENTICATED',
    'This transform needs a signed URL or an API key with transforms:execute (unsigned URLs reach only public files of projects that allow them).',
  )

async function authorize(
  projectId: string,
  path: string,
  parsed: ReturnType<typeof parseTransformQuery>,
  credential: Credential,
  access: 'signed' | 'public',
): Promise<Grant> {
  if (parsed.signature !== undefined && parsed.expires !== undefined) {
    const now = Math.floor(Date.now() / 1000)
    if (parsed.expires <= now) throw new AppError('FORBIDDEN', `This signed URL expired at ${new Date(parsed.expires * 1000).toISOString()}.`)
    const secrets = (await activeSecrets(projectId)).map((s) => s.secret)
    // Rebuilt from what was parsed: the canonical text is what the URL means, not what it spells.
    const text = canonicalString(projectId, path, parsed.params, parsed.expires)
    if (!signatureMatches(secrets, text, parsed.signature)) throw new AppError('FORBIDDEN', 'The signature does not match this URL.')
    return { via: 'signature', expires: parsed.expires }
  }
  if (credential.kind === 'invalid') {
    throw new AppError('UNAUTHENTICATED', 'The bearer token is invalid, expired or revoked.')
  }
  if (credential.kind === 'actor') {
    const projectGrant = await projectAccess(prisma, credential.actor, projectId)
    requirePermission(projectGrant, 'transforms:execute', 'request image transforms in this project')
    return { via: 'credentials', actor: credential.actor }
  }
  if (access === 'public') return { via: 'public' }
  throw unsignedRefusal()
}

/**
 * Counts uncached work against the EXPENSIVE tier: per API key or user, and for signed and public
 * URLs per project (the project's own EXPENSIVE override applies to those and to its keys).
 */
async function countExpensive(projectId: string, grant: Grant) {
  const actor = grant.via === 'credentials' ? grant.actor : null
  const subject = actor?.type === 'api-key' ? `key:${actor.apiKeyId}` : actor ? `user:${actor.userId}` : `transform-project:${projectId}`
  const limit =
    actor?.type === 'user'
      ? DEFAULT_TIER_LIMITS.EXPENSIVE
      : ((await rateLimitOverridesFor(projectId)).EXPENSIVE ?? DEFAULT_TIER_LIMITS.EXPENSIVE)
  const decision = await getRateLimiter().consume(`EXPENSIVE:${subject}`, limit)
  const headers = new Headers({
    'X-RateLimit-Limit': String(decision.limit),
    'X-RateLimit-Remaining': String(decision.remaining),
    'X-RateLimit-Reset': String(Math.ceil(decision.resetAt / 1000)),
  })
  if (!decision.allowed) {
    meterTransformRefusal(projectId)
    const retryAfter = String(Math.max(1, decision.retryAfterSeconds))
    throw new AppError(
      'RATE_LIMITED',
      `The EXPENSIVE rate limit of ${decision.limit} uncached transforms per hour is spent; retry in ${retryAfter} s.`,
      {
        retryAfterSeconds: Number(retryAfter),
        headers: Object.fromEntries(headers),
      },
    )
  }
  return { headers }
}
