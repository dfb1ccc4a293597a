import type { TenantStatus } from '~/generated/prisma/enums'
import type { ListedObject } from '~/storage/storage-adapter'
import { toAppError } from '~/utils/errors.server'
import { prisma } from '~/utils/db.server'
import { tenantSlugSchema } from '../tenants/schemas'
import { requireTenantWritable } from '../tenants/tenant-status.server'
import type { KeyScope } from '../uploads/object-keys'
import { adoptedLocation, classifyKey, slugCandidate, type AdoptedLocation } from './classify'
import type { AdoptionOptions } from './schemas'

/** A project's tenants by slug, as the rule sees them. */
export type TenantsBySlug = Map<string, { id: string; slug: string; name: string; status: TenantStatus }>

/** What a scan knows of the project and bucket it adopts into. */
export interface AdoptionContext {
  projectId: string
  bucketId: string
  scope: Omit<KeyScope, 'tenantSlug'>
  options: AdoptionOptions
  tenants: TenantsBySlug
}

/** What will happen to one listed object, decided before anything changes. */
export type ObjectPlan = { object: ListedObject } & (
  | { action: 'adopt'; tenantSlug: string | null; location: AdoptedLocation }
  /** Already a file of this project (adopted before, or uploaded): nothing to do. */
  | { action: 'already'; fileId: string; fileObjectKey: string; fileSize: number }
  | { action: 'skip'; reason: string; kind: 'rule' | 'conflict' }
)

export async function loadTenants(projectId: string): Promise<TenantsBySlug> {
  const rows = await prisma.tenant.findMany({ where: { projectId }, select: { id: true, slug: true, name: true, status: true } })
  return new Map(rows.map((row) => [row.slug, row]))
}

/** Whether the rule may file objects under `slug`: an existing tenant, or a valid slug when the run creates tenants. */
export function tenantUsable(context: Pick<AdoptionContext, 'tenants' | 'options'>, slug: string): boolean {
  return context.tenants.has(slug) || (context.options.createTenants && tenantSlugSchema.safeParse(slug).success)
}

/**
 * Plans a page of listed objects: classifies each by the rule and checks it against what the
 * database already holds, in three queries for the whole page: files of this bucket at (or adopted
 * from) these keys, uploads in progress at them, and files of the project at the planned paths.
 * `plannedPaths` carries the paths planned so far in the same scan (a clash within it is a conflict too).
 */
export async function planPage(context: AdoptionContext, objects: ListedObject[], plannedPaths = new Set<string>()): Promise<ObjectPlan[]> {
  const keys = objects.map((object) => object.key)
  const [files, uploads] = await Promise.all([
    prisma.file.findMany({
      where: { bucketId: context.bucketId, OR: [{ objectKey: { in: keys } }, { adoptedFromKey: { in: keys } }] },
      select: { id: true, projectId: true, objectKey: true, adoptedFromKey: true, size: true },
    }),
    prisma.upload.findMany({ where: { bucketId: context.bucketId, status: 'PENDING', objectKey: { in: keys } }, select: { objectKey: true } }),
  ])
  const fileByKey = new Map<string, (typeof files)[number]>()
  for (const file of files) {
    if (file.adoptedFromKey) fileByKey.set(file.adoptedFromKey, file)
    if (!fileByKey.has(file.objectKey)) fileByKey.set(file.objectKey, file)
  }
  const uploading = new Set(uploads.map((upload) => upload.objectKey))

  const plans: ObjectPlan[] = objects.map((object) => {
    const file = fileByKey.get(object.key)
    if (file && file.projectId === context.projectId) {
      return { object, action: 'already', fileId: file.id, fileObjectKey: file.objectKey, fileSize: Number(file.size) }
    }
    if (file) return { object, action: 'skip', kind: 'conflict', reason: 'It is already a file of another project using this bucket' }
    if (uploading.has(object.key)) return { object, action: 'skip', kind: 'conflict', reason: 'An upload in progress is writing it' }
    const classification = classifyKey(object.key, context.options, (slug) => tenantUsable(context, slug))
    if (classification.kind === 'skip') return { object, action: 'skip', kind: 'rule', reason: classification.reason }
    // A suspended or archived tenant takes no new files, adopted ones included.
    const refusal = classification.kind === 'tenant' ? tenantRefusal(context.tenants.get(classification.slug)) : null
    if (refusal) return { object, action: 'skip', kind: 'conflict', reason: refusal }
    const location = adoptedLocation(object.key, classification, context.options.mode, { ...context.scope, bucketId: context.bucketId })
    return { object, action: 'adopt', tenantSlug: classification.kind === 'tenant' ? classification.slug : null, location }
  })

  const wanted = plans.flatMap((plan) => (plan.action === 'adopt' ? [plan.location.path] : []))
  const taken = new Set(
    (await prisma.file.findMany({ where: { projectId: context.projectId, path: { in: wanted } }, select: { path: true } })).map(
      (file) => file.path,
    ),
  )
  return plans.map((plan) => {
    if (plan.action !== 'adopt') return plan
    if (taken.has(plan.location.path) || plannedPaths.has(plan.location.path)) {
      return { object: plan.object, action: 'skip', kind: 'conflict', reason: `Its path ${plan.location.path} is already taken by another file` }
    }
    plannedPaths.add(plan.location.path)
    return plan
  })
}

function tenantRefusal(tenant: { slug: string; status: TenantStatus } | undefined): string | null {
  try {
    requireTenantWritable(tenant, 'adopt files into it')
    return null
  } catch (error) {
    const known = toAppError(error)
    if (!known) throw error
    return known.message
  }
}

/** The slug the rule names for an object that it could not file under a tenant (the preview's unknown slugs). */
export function unknownSlug(context: AdoptionContext, plan: ObjectPlan): string | null {
  if (plan.action !== 'skip' && !(plan.action === 'adopt' && plan.tenantSlug === null)) return null
  const slug = slugCandidate(plan.object.key, context.options)
  return slug && !context.tenants.has(slug) ? slug : null
}
