import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { EndpointRefused, assertEndpointAllowed } from '~/storage/endpoint-guard.server'
import { StorageError, type CorsRule, type StorageAdapter, type StorageFailure } from '~/storage/storage-adapter'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'
import type { UserActor } from '../actor'
import { recordAudit } from '../audit/record-audit.server'
import { bucketAccess, requireEdit } from './bucket-access.server'
import { createBucketAdapter, type BucketConnectionRow } from './bucket-storage.server'
import { endpointPolicy } from './buckets.server'

export type ConnectionFailure = StorageFailure | 'cors'

export interface ConnectionTestResult {
  ok: boolean
  /** What went wrong, as a code a client can switch on; null when ok. */
  failure: ConnectionFailure | null
  /** One sentence a person can act on; never a response body or a secret. */
  reason: string | null
  testedAt: Date
}

const PROBE_PREFIX = '.carcosa-probe/'

const CORS_MISSING =
  'No CORS configuration: browsers cannot upload directly to this bucket. Allow PUT (and GET) from your application origins in its CORS rules.'
const CORS_NO_PUT = 'The CORS rules allow no PUT: browsers cannot upload directly to this bucket. Add PUT to the allowed methods.'

const allowsPut = (rules: CorsRule[]) => rules.some((rule) => rule.allowedMethods.some((method) => method.toUpperCase() === 'PUT'))

/**
 * The adapter for a test: built fresh (never the cache), after checking the endpoint's resolved
 * addresses under the policy read now, so the test reports what a new connection would meet.
 */
async function adapterFor(row: Omit<BucketConnectionRow, 'updatedAt'>): Promise<StorageAdapter> {
  if (row.provider !== 'local' && row.endpoint) {
    try {
      await assertEndpointAllowed(row.endpoint, endpointPolicy())
    } catch (error) {
      if (error instanceof EndpointRefused) throw new StorageError('endpoint-refused', error.message)
      throw error
    }
  }
  return createBucketAdapter(row)
}

/** Heads the bucket, writes and deletes a probe object, and checks CORS for browser uploads. */
async function probe(row: Parameters<typeof adapterFor>[0]): Promise<{ failure: ConnectionFailure | null; reason: string | null }> {
  try {
    const adapter = await adapterFor(row)
    await adapter.headBucket()
    const key = `${PROBE_PREFIX}${randomBytes(12).toString('hex')}`
    const body = Buffer.from('carcosa connection test\n')
    await adapter.put(key, Readable.from([body]), { contentType: 'text/plain', contentLength: body.length })
    await adapter.delete(key)
    let rules: Awaited<ReturnType<StorageAdapter['corsRules']>>
    try {
      rules = await adapter.corsRules()
    } catch (error) {
      // Keys limited to objects may not read bucket settings: the bucket works, CORS is unknown.
      if (error instanceof StorageError && error.failure === 'permission') {
        return { failure: null, reason: 'Connected. These credentials may not read the CORS rules, so browser uploads could not be checked.' }
      }
      throw error
    }
    if (rules === null) return { failure: 'cors', reason: CORS_MISSING }
    if (rules !== 'not-applicable' && !allowsPut(rules)) return { failure: 'cors', reason: CORS_NO_PUT }
    return { failure: null, reason: null }
  } catch (error) {
    if (error instanceof StorageError) return { failure: error.failure, reason: error.message }
    // Anything else (a local directory we cannot write, a sealed value we cannot open) says no more than this.
    logger.warn({ err: error as Error, bucketId: row.id }, 'bucket connection test failed unexpectedly')
    return { failure: 'other', reason: 'The connection test failed for a reason Carcosa cannot report in detail; see the server log.' }
  }
}

/**
 * "Test connection": checks the bucket for real, stores the outcome on the bucket and audits it.
 * Allowed to whoever may edit the bucket (owning team admins, admins of a team with an ADMIN share).
 */
export async function testBucketConnection(actor: UserActor, bucketId: string): Promise<ConnectionTestResult> {
  const access = await bucketAccess(prisma, actor, bucketId)
  requireEdit(access, 'test this bucket')
  const row = await prisma.bucket.findUniqueOrThrow({
    where: { id: bucketId },
    select: { id: true, provider: true, bucketName: true, region: true, endpoint: true, forcePathStyle: true, credentials: true },
  })
  const { failure, reason } = await probe(row)
  const ok = failure === null
  const testedAt = new Date()
  await prisma.$transaction(async (tx) => {
    await tx.bucket.update({ where: { id: bucketId }, data: { lastTestedAt: testedAt, lastTestOk: ok, lastTestReason: reason } })
    await recordAudit(tx, actor, actor, {
      organizationId: access.bucket.organizationId,
      teamId: access.bucket.teamId,
      action: 'bucket.test',
      targetType: 'bucket',
      targetId: bucketId,
      after: { ok, failure },
    })
  })
  return { ok, failure, reason, testedAt }
}
