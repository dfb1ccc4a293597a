import type { Prisma } from '~/generated/prisma/client'
import type { Transaction } from '~/utils/db.server'
import type { RequestMeta } from '~/utils/request.server'
import { actorId, type Actor } from '../actor'

export interface AuditEntry {
  organizationId?: string | null
  action: string
  targetType: string
  targetId?: string | null
  before?: Prisma.InputJsonValue
  after?: Prisma.InputJsonValue
}

/**
 * Writes one audit entry. Call it inside the transaction that makes the change, so the change and
 * its record land together or not at all. `actor` is null for anonymous events (failed sign-ins).
 */
export async function recordAudit(tx: Transaction, actor: Actor | null, meta: RequestMeta, entry: AuditEntry) {
  await tx.auditLog.create({
    data: {
      organizationId: entry.organizationId ?? null,
      actorType: actor?.type ?? 'anonymous',
      actorId: actor ? actorId(actor) : null,
      ipAddress: meta.ipAddress,
      userAgent: meta.userAgent,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      before: entry.before,
      after: entry.after,
    },
  })
}
