import { randomUUID } from 'node:crypto'
import { StorageError, type ListedObject, type StorageAdapter } from '~/storage/storage-adapter'
import { getConfig } from '~/utils/config.server'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import { logger } from '~/utils/logger.server'
import { userActor, type Actor } from '../actor'
import { apiKeyActorById } from '../api-keys/api-keys.server'
import { projectAuditScope, recordAudit } from '../audit/record-audit.server'
import { bucketConnectionSelect, storageFor } from '../buckets/bucket-storage.server'
import { isUniqueViolation } from '../db-errors.server'
import { recordEvent } from '../events/record-event.server'
import { enqueueJob } from '../jobs/enqueue.server'
import { createTenant } from '../tenants/tenants.server'
import { contentTypeSchema } from '../uploads/schemas'
import { storedUploadRules } from '../uploads/upload-target.server'
import { effectiveMaxBytes, ruleViolation } from '../uploads/upload-rules'
import { readStart, sniffType, typeMismatch } from '../uploads/verify-object.server'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { LIST_PAGE_SIZE, requireAdopter, runSelect, storedOptions, toRunView, type RunRow } from './adoption.server'
import { publishAdoptionProgress } from './adoption-progress.server'
import { loadTenants, planPage, type AdoptionContext, type ObjectPlan } from './page-plan.server'
import type { AdoptionOptions } from './schemas'

/** Objects of a page worked on at once (each is a HEAD, a ranged GET, maybe a copy, and a transaction). */
export const ADOPTION_CONCURRENCY = 4
/** Objects between progress reports (and checks for a cancellation). */
const BATCH = 20
/** Storage failures that say nothing about the object: the page is retried later, as a whole. */
const TRANSIENT: StorageError['failure'][] = ['unreachable', 'credentials', 'permission', 'endpoint-refused', 'no-such-bucket']
/** How long a worker holds a run without renewing, and how often it renews while it works. */
const LEASE_SECONDS = 20
const LEASE_RENEW_MS = 5_000
/** Stored types that say nothing: the bytes decide instead. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream'])

interface PageWork {
  run: RunRow
  /** This worker's hold on the run (see claimRun). */
  lease: string
  /** False once the lease was lost: the worker stops. */
  holding: () => boolean
  options: AdoptionOptions
  actor: Actor
  /** Organization, team and project of the run's audit entries. */
  auditScope: ReturnType<typeof projectAuditScope>
  adapter: StorageAdapter
  context: AdoptionContext
  maxBytes: number
  rules: ReturnType<typeof storedUploadRules>
  /** Tenants being created by this page, so concurrent objects of a new tenant create it once. */
  creating: Map<string, Promise<string>>
}

/** Who the run acts for: the user or API key that started (or resumed) it, as they are now. */
async function runActor(run: RunRow): Promise<Actor> {
  const meta = { ipAddress: run.ipAddress, userAgent: run.userAgent }
  if (run.actorType === 'user' && run.actorId) return userActor(run.actorId, meta)
  if (run.actorType === 'api-key' && run.actorId) {
    const key = await apiKeyActorById(run.actorId)
    if (key) return { ...key.actor, ...meta }
  }
  throw new AppError('FORBIDDEN', 'The API key that started this adoption was revoked or has expired; resume the run with another credential.')
}

/**
 * The `adoption-page` job: adopts one listing page of a run (up to `pageSize` keys after the run's
 * `pageStartAfter`), then, in one transaction, advances the run to the next page and enqueues its
 * job, or completes it. Every object's outcome is an AdoptionItem written in the transaction of the
 * change it records, so a page redone after a crash (the job returns to the queue when its
 * instance dies) skips the objects already done; a job for a page the run has left does nothing,
 * and one for a run another worker holds (its lease, renewed while it works) is retried later.
 * A storage failure that is not the object's own is thrown for the queue to retry; on the last
 * attempt, and when the run's actor lost its access, the run fails (and can be resumed).
 */
export async function adoptPage(runId: string, page: number, options: { pageSize?: number; lastAttempt?: boolean } = {}): Promise<void> {
  const lease = randomUUID()
  const claimed = await claimRun(runId, page, lease)
  if (claimed === 'stale') return
  if (claimed === 'busy') {
    // Another worker holds the run (a duplicate of this job whose instance is alive after all): it
    // finishes the page. Should it die, its lease lapses and a retry of this job takes over.
    if (options.lastAttempt) return
    throw new Error(`adoption run ${runId} is being worked on by another worker; retrying later`)
  }
  const run = claimed
  let lost = false
  const renewal = setInterval(() => {
    void prisma.adoptionRun
      .updateMany({ where: { id: runId, leaseId: lease }, data: { leaseUntil: new Date(Date.now() + LEASE_SECONDS * 1000) } })
      .then(({ count }) => (lost ||= count === 0))
      .catch((error: unknown) => logger.warn({ err: error, runId }, 'adoption lease not renewed'))
  }, LEASE_RENEW_MS)
  let work: PageWork | undefined
  try {
    work = await prepare(run, lease, () => !lost)
    const listed = await work.adapter.list(run.prefix, { startAfter: run.pageStartAfter, limit: options.pageSize ?? LIST_PAGE_SIZE })
    const finished = await adoptObjects(work, listed.objects)
    if (finished) await finishPage(work, page, listed.truncated ? listed.objects.at(-1) : undefined)
  } catch (error) {
    if (error instanceof AppError) return await failRun(run, error.message, work?.actor)
    if (error instanceof StorageError && (options.lastAttempt || !TRANSIENT.includes(error.failure))) {
      return await failRun(run, `The bucket could not be read: ${error.message}`, work?.actor)
    }
    throw error
  } finally {
    clearInterval(renewal)
    await prisma.adoptionRun.updateMany({ where: { id: runId, leaseId: lease }, data: { leaseId: null, leaseUntil: null } }).catch(() => {})
  }
}

/** Takes the run for this worker, when it is still at `page` and nobody holds it (or their hold lapsed). */
async function claimRun(runId: string, page: number, lease: string): Promise<RunRow | 'stale' | 'busy'> {
  const now = new Date()
  const { count } = await prisma.adoptionRun.updateMany({
    where: { id: runId, status: 'RUNNING', pagesDone: page, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
    data: { leaseId: lease, leaseUntil: new Date(now.getTime() + LEASE_SECONDS * 1000) },
  })
  const run = await prisma.adoptionRun.findUnique({ where: { id: runId }, select: runSelect })
  if (!run || run.status !== 'RUNNING' || run.pagesDone !== page) return 'stale'
  return count === 1 ? run : 'busy'
}

async function prepare(run: RunRow, lease: string, holding: () => boolean): Promise<PageWork> {
  const options = storedOptions(run)
  const actor = await runActor(run)
  const access = await projectAccess(prisma, actor, run.projectId).catch((error: unknown) => {
    throw error instanceof AppError && error.code === 'NOT_FOUND'
      ? new AppError('FORBIDDEN', 'Whoever started this adoption no longer has access to the project.')
      : error
  })
  requireAdopter(actor, access, 'adopt bucket objects into this project')
  if (options.deleteOriginals) requirePermission(access, 'files:delete', 'delete the original objects after copying them')
  const project = await prisma.project.findUniqueOrThrow({
    where: { id: run.projectId },
    select: { slug: true, settings: true, bucketId: true, team: { select: { slug: true, organization: { select: { slug: true } } } } },
  })
  if (project.bucketId !== run.bucketId) throw new AppError('CONFLICT', "The project's bucket changed since this adoption started.")
  const bucket = await prisma.bucket.findUniqueOrThrow({ where: { id: run.bucketId }, select: bucketConnectionSelect })
  const rules = storedUploadRules(project.settings)
  return {
    run,
    lease,
    holding,
    options,
    actor,
    auditScope: projectAuditScope(access),
    adapter: await storageFor(bucket),
    context: {
      projectId: run.projectId,
      bucketId: run.bucketId,
      scope: { organizationSlug: project.team.organization.slug, teamSlug: project.team.slug, projectSlug: project.slug },
      options,
      tenants: await loadTenants(run.projectId),
    },
    rules,
    maxBytes: effectiveMaxBytes(rules, { uploadMaxBytes: getConfig().UPLOAD_MAX_BYTES }),
    creating: new Map(),
  }
}

/** Works through the page's objects not yet done by this run; false when the run was cancelled meanwhile. */
async function adoptObjects(work: PageWork, objects: ListedObject[]): Promise<boolean> {
  const done = new Set(
    (
      await prisma.adoptionItem.findMany({
        where: { runId: work.run.id, key: { in: objects.map((object) => object.key) } },
        select: { key: true },
      })
    ).map((item) => item.key),
  )
  const plans = await planPage(
    work.context,
    objects.filter((object) => !done.has(object.key)),
  )
  for (let start = 0; start < plans.length; start += BATCH) {
    // Objects that need no storage call (skipped, or already files with nothing left to do) are recorded together.
    const quick = plans
      .slice(start, start + BATCH)
      .filter((plan) => plan.action === 'skip' || (plan.action === 'already' && !originalLeft(work, plan)))
    const batch = plans.slice(start, start + BATCH).filter((plan) => !quick.includes(plan))
    await prisma.$transaction(async (tx) => {
      for (const status of ['SKIPPED', 'ALREADY_ADOPTED'] as const) {
        const entries = quick.flatMap((plan): Array<{ object: ListedObject; outcome: Outcome }> =>
          plan.action === 'skip' && status === 'SKIPPED'
            ? [{ object: plan.object, outcome: { status, reason: plan.reason } }]
            : plan.action === 'already' && status === 'ALREADY_ADOPTED'
              ? [{ object: plan.object, outcome: { status, fileId: plan.fileId } }]
              : [],
        )
        if (entries.length > 0) await recordItems(tx, work, entries)
      }
    })
    let next = 0
    const worker = async () => {
      while (next < batch.length) await adoptOne(work, batch[next++]!)
    }
    await Promise.all(Array.from({ length: ADOPTION_CONCURRENCY }, worker))
    const current = await prisma.adoptionRun.findUniqueOrThrow({ where: { id: work.run.id }, select: runSelect })
    publishAdoptionProgress(toRunView(current))
    if (current.status !== 'RUNNING' || !work.holding()) return false
  }
  return true
}

type Outcome = { status: 'ADOPTED' | 'ALREADY_ADOPTED' | 'SKIPPED' | 'FAILED'; fileId?: string; tenantId?: string | null; reason?: string }

/** An object already a file by copy whose original this run is to delete (a crash came between the two). */
const originalLeft = (work: PageWork, plan: Extract<ObjectPlan, { action: 'already' }>) =>
  work.options.deleteOriginals && plan.fileObjectKey !== plan.object.key

const COUNTER = { ADOPTED: 'adopted', ALREADY_ADOPTED: 'alreadyAdopted', SKIPPED: 'skipped', FAILED: 'failed' } as const

/**
 * Records outcomes of one status once per run each, and counts only those newly recorded. Adopted
 * objects are recorded one at a time (their bytes are counted too).
 */
async function recordItems(tx: Transaction, work: PageWork, entries: Array<{ object: ListedObject; outcome: Outcome }>) {
  const status = entries[0]!.outcome.status
  const { count } = await tx.adoptionItem.createMany({
    data: entries.map(({ object, outcome }) => ({
      runId: work.run.id,
      key: object.key,
      size: object.size,
      status: outcome.status,
      fileId: outcome.fileId,
      tenantId: outcome.tenantId,
      reason: outcome.reason,
    })),
    skipDuplicates: true,
  })
  if (count === 0) return
  await tx.adoptionRun.update({
    where: { id: work.run.id },
    data: {
      scanned: { increment: count },
      [COUNTER[status]]: { increment: count },
      ...(status === 'ADOPTED' ? { adoptedBytes: { increment: entries[0]!.object.size } } : {}),
    },
  })
}

const recordItem = (tx: Transaction, work: PageWork, object: ListedObject, outcome: Outcome) => recordItems(tx, work, [{ object, outcome }])

const record = (work: PageWork, object: ListedObject, outcome: Outcome) => prisma.$transaction((tx) => recordItem(tx, work, object, outcome))

async function adoptOne(work: PageWork, plan: ObjectPlan): Promise<void> {
  const { object } = plan
  if (plan.action === 'skip') {
    await record(work, object, { status: 'SKIPPED', reason: plan.reason })
    return
  }
  if (plan.action === 'already') {
    if (originalLeft(work, plan)) await deleteOriginal(work, object, plan.fileObjectKey)
    await record(work, object, { status: 'ALREADY_ADOPTED', fileId: plan.fileId })
    return
  }
  try {
    await adoptNew(work, plan)
  } catch (error) {
    if (error instanceof StorageError && !TRANSIENT.includes(error.failure)) {
      const reason = error.failure === 'not-found' ? 'The object disappeared after it was listed.' : error.message
      await record(work, object, { status: 'FAILED', reason })
      return
    }
    throw error
  }
}

/** The type an object is adopted as, after the same checks an upload's completion makes; or why it cannot be. */
async function inspect(
  work: PageWork,
  key: string,
  listedSize: number,
): Promise<{ contentType: string; etag: string | undefined } | { reason: string }> {
  const info = await work.adapter.head(key)
  if (!info) return { reason: 'The object disappeared after it was listed.' }
  if (info.size !== listedSize)
    return { reason: `The object changed while being adopted (${listedSize} bytes when listed, ${info.size} now); run the adoption again.` }
  const head = await readStart(work.adapter, key, info.size)
  if (!head) return { reason: 'The object disappeared after it was listed.' }
  const stored = contentTypeSchema.safeParse(info.contentType ?? '')
  const contentType = stored.success && !GENERIC_TYPES.has(stored.data) ? stored.data : ((await sniffType(head)) ?? 'application/octet-stream')
  const mismatch = await typeMismatch(head, contentType)
  if (mismatch) return { reason: mismatch }
  const violation = ruleViolation(work.rules, work.maxBytes, { contentType, size: info.size })
  if (violation) return { reason: violation.message }
  return { contentType, etag: info.etag }
}

/** The tenant an adopted object goes to, created first when the run creates tenants. */
async function tenantIdFor(work: PageWork, slug: string | null): Promise<string | null> {
  if (slug === null) return null
  const known = work.context.tenants.get(slug)
  if (known) return known.id
  let creating = work.creating.get(slug)
  if (!creating) {
    creating = createTenant(work.actor, { projectId: work.run.projectId, slug, name: slug }).then(
      (tenant) => tenant.id,
      async (error: unknown) => {
        // Created meanwhile (by a person, or an earlier attempt of this page): use it.
        const existing = await prisma.tenant.findUnique({
          where: { projectId_slug: { projectId: work.run.projectId, slug } },
          select: { id: true },
        })
        if (existing) return existing.id
        throw error
      },
    )
    work.creating.set(slug, creating)
  }
  return creating
}

async function adoptNew(work: PageWork, plan: Extract<ObjectPlan, { action: 'adopt' }>) {
  const { object, location } = plan
  const copying = work.options.mode === 'copy'
  const checked = await inspect(work, object.key, object.size)
  if ('reason' in checked) {
    await record(work, object, { status: 'FAILED', reason: checked.reason })
    return
  }
  let etag = checked.etag
  if (copying) {
    try {
      await work.adapter.copy(object.key, location.objectKey, checked.etag ? { ifMatch: checked.etag } : {})
    } catch (error) {
      if (error instanceof StorageError && error.failure === 'changed') {
        await record(work, object, { status: 'FAILED', reason: 'The object changed while being copied; run the adoption again.' })
        return
      }
      throw error
    }
    // The copy is verified before anything refers to it; the original stays until then (and after, unless deleteOriginals).
    const copied = await work.adapter.head(location.objectKey)
    if (!copied || copied.size !== object.size) {
      await discardCopy(work, location.objectKey)
      await record(work, object, {
        status: 'FAILED',
        reason: `The copy is ${copied?.size ?? 'missing'} bytes instead of ${object.size}; the original was kept.`,
      })
      return
    }
    etag = copied.etag
  }
  let tenantId: string | null
  try {
    tenantId = await tenantIdFor(work, plan.tenantSlug)
  } catch (error) {
    if (!(error instanceof AppError)) throw error
    if (copying) await discardCopy(work, location.objectKey)
    await record(work, object, { status: 'FAILED', reason: `Tenant ${plan.tenantSlug} could not be created: ${error.message}` })
    return
  }
  try {
    await prisma.$transaction(async (tx) => {
      const file = await tx.file.create({
        data: {
          projectId: work.run.projectId,
          tenantId,
          bucketId: work.run.bucketId,
          objectKey: location.objectKey,
          path: location.path,
          name: location.name,
          contentType: checked.contentType,
          size: object.size,
          etag: etag ?? null,
          adoptedFromKey: object.key,
        },
        select: { id: true },
      })
      await recordAudit(tx, work.actor, work.actor, {
        ...work.auditScope,
        tenantId,
        action: 'file.adopt',
        targetType: 'file',
        targetId: file.id,
        after: {
          projectId: work.run.projectId,
          tenantId,
          path: location.path,
          contentType: checked.contentType,
          size: object.size,
          adoptedFrom: object.key,
          runId: work.run.id,
          mode: work.options.mode,
        },
      })
      // Last: it locks the run's row (its counters) until the commit, which the other workers wait for.
      await recordItem(tx, work, object, { status: 'ADOPTED', fileId: file.id, tenantId })
    })
  } catch (error) {
    if (!isUniqueViolation(error)) throw error
    // Another worker adopted it first (a redone page), or its path was taken meanwhile.
    const existing = await prisma.file.findFirst({
      where: { bucketId: work.run.bucketId, OR: [{ adoptedFromKey: object.key }, { objectKey: object.key }] },
      select: { id: true, projectId: true },
    })
    if (copying) await discardCopy(work, location.objectKey)
    if (existing?.projectId === work.run.projectId) await record(work, object, { status: 'ALREADY_ADOPTED', fileId: existing.id })
    else await record(work, object, { status: 'FAILED', reason: `Its path ${location.path} was taken by another file meanwhile.` })
    return
  }
  if (copying && work.options.deleteOriginals) await deleteOriginal(work, object, location.objectKey)
}

/** Removes a copy nothing refers to (a file registered at that key keeps it). */
async function discardCopy(work: PageWork, key: string) {
  const registered = await prisma.file.count({ where: { bucketId: work.run.bucketId, objectKey: key } })
  if (registered === 0)
    await work.adapter
      .delete(key)
      .catch((error: unknown) => logger.warn({ err: error, runId: work.run.id }, 'adoption: unused copy not removed'))
}

/** Deletes an original once its registered copy is in place with the same size. */
async function deleteOriginal(work: PageWork, object: ListedObject, copyKey: string) {
  const copy = await work.adapter.head(copyKey)
  if (copy && copy.size === object.size) await work.adapter.delete(object.key)
}

/** Moves the run past the page (or completes it) and enqueues the next page's job, in one transaction, once. */
async function finishPage(work: PageWork, page: number, last: ListedObject | undefined) {
  const { run } = work
  const updated = await prisma.$transaction(async (tx) => {
    const released = { leaseId: null, leaseUntil: null }
    const { count } = await tx.adoptionRun.updateMany({
      where: { id: run.id, status: 'RUNNING', pagesDone: page, leaseId: work.lease },
      data: last
        ? { pagesDone: page + 1, pageStartAfter: last.key, ...released }
        : { pagesDone: page + 1, status: 'COMPLETED', completedAt: new Date(), ...released },
    })
    if (count === 0) return null
    const row = await tx.adoptionRun.findUniqueOrThrow({ where: { id: run.id }, select: runSelect })
    if (last) {
      await enqueueJob(tx, 'adoption-page', { runId: run.id, page: page + 1 })
    } else {
      const counts = toRunView(row).counts
      await recordAudit(tx, work.actor, work.actor, {
        ...work.auditScope,
        action: 'adoption.complete',
        targetType: 'adoption',
        targetId: run.id,
        after: counts,
      })
      await recordEvent(tx, { type: 'adoption.completed', data: { projectId: run.projectId, runId: run.id, counts } })
    }
    return row
  })
  if (updated) publishAdoptionProgress(toRunView(updated))
}

async function failRun(run: RunRow, reason: string, actor?: Actor) {
  const updated = await prisma.$transaction(async (tx) => {
    const { count } = await tx.adoptionRun.updateMany({
      where: { id: run.id, status: 'RUNNING' },
      data: { status: 'FAILED', error: reason, completedAt: new Date(), leaseId: null, leaseUntil: null },
    })
    if (count === 0) return null
    const row = await tx.adoptionRun.findUniqueOrThrow({ where: { id: run.id }, select: runSelect })
    const project = await tx.project.findUnique({
      where: { id: run.projectId },
      select: { teamId: true, team: { select: { organizationId: true } } },
    })
    await recordAudit(
      tx,
      actor ?? null,
      { ipAddress: run.ipAddress, userAgent: run.userAgent },
      {
        organizationId: project?.team.organizationId ?? null,
        teamId: project?.teamId ?? null,
        projectId: run.projectId,
        action: 'adoption.fail',
        targetType: 'adoption',
        targetId: run.id,
        after: { reason },
      },
    )
    await recordEvent(tx, { type: 'adoption.failed', data: { projectId: run.projectId, runId: run.id, reason, counts: toRunView(row).counts } })
    return row
  })
  logger.warn({ runId: run.id, reason }, 'adoption run failed')
  if (updated) publishAdoptionProgress(toRunView(updated))
}
