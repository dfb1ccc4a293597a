import { z } from 'zod'
import { prisma } from '~/utils/db.server'
import type { Actor } from '../actor'
import { pageQuerySchema, toPage, type Page, type PageQuery } from '../pagination'
import { projectAccess, requirePermission } from '../workspaces/access.server'

/** One attempt to POST an upload's `upload.completed` callback, as the delivery log shows it. */
export interface UploadCallbackAttemptView {
  id: string
  uploadId: string
  /** The upload's project-relative path and file route. */
  path: string
  routeSlug: string | null
  callbackUrl: string | null
  attemptedAt: Date
  /** HTTP status; null when no answer came. */
  statusCode: number | null
  latencyMs: number
  /** The first 1 KiB of the answer's body. */
  responseBody: string
  /** Why no answer came (timeout, refused address, connection error). */
  error: string | null
  /** Whether the callback has been settled (the application ran onUploadComplete), by this attempt or any other path. */
  callbackSettled: boolean
}

export const callbackAttemptsQuerySchema = pageQuerySchema.extend({
  uploadId: z.string().min(1).max(64).optional().describe('Only the attempts for this upload'),
  failed: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true')
    .describe('true: only attempts that got no 2xx answer'),
})

const failedOnly = { OR: [{ statusCode: null }, { statusCode: { lt: 200 } }, { statusCode: { gte: 300 } }] }

/**
 * The project's upload callback log (ADR 020), newest first: every attempt Carcosa made to POST a
 * reconciled upload's signed `upload.completed` to its callbackUrl, with time, status, latency and
 * the first 1 KiB of the answer. Read like webhook delivery logs (`projects:read`).
 */
export async function listUploadCallbackAttempts(
  actor: Actor,
  projectId: string,
  page: PageQuery,
  options: { uploadId?: string; failed?: boolean } = {},
): Promise<Page<UploadCallbackAttemptView>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'read the upload callback log of this project')
  // Newest first: the keyset is (attemptedAt, id) below the cursor's; a pruned cursor has nothing after it.
  const after = page.cursor
    ? await prisma.uploadCallbackAttempt.findFirst({ where: { id: page.cursor, projectId }, select: { id: true, attemptedAt: true } })
    : null
  if (page.cursor && !after) return { items: [], nextCursor: null }
  const rows = await prisma.uploadCallbackAttempt.findMany({
    where: {
      projectId,
      uploadId: options.uploadId,
      ...(options.failed ? failedOnly : {}),
      ...(after
        ? { AND: [{ OR: [{ attemptedAt: { lt: after.attemptedAt } }, { attemptedAt: after.attemptedAt, id: { lt: after.id } }] }] }
        : {}),
    },
    select: {
      id: true,
      uploadId: true,
      attemptedAt: true,
      statusCode: true,
      latencyMs: true,
      responseBody: true,
      error: true,
      upload: { select: { path: true, routeSlug: true, callbackUrl: true, callbackDoneAt: true } },
    },
    orderBy: [{ attemptedAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
  })
  const views = rows.map(({ upload, ...attempt }) => ({
    ...attempt,
    path: upload.path,
    routeSlug: upload.routeSlug,
    callbackUrl: upload.callbackUrl,
    callbackSettled: upload.callbackDoneAt !== null,
  }))
  return toPage(views, page)
}
