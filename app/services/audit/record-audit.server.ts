import cuid from 'cuid'
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

/**
 * The same entry as recordAudit, as an INSERT ... SELECT that a hand-written statement can chain
 * after its own change (`WITH change AS (...) <this> FROM change`), so both land in one statement.
 * Parameters are numbered from `first`; `targetId` may name a column of the chained row.
 */
export function auditInsertSql(actor: Actor, meta: RequestMeta, entry: Omit<AuditEntry, 'targetId'> & { targetIdColumn: string }, first: number) {
  const values = [
    cuid(),
    entry.organizationId ?? null,
    actor.type,
    actorId(actor),
    meta.ipAddress,
    meta.userAgent,
    entry.action,
    entry.targetType,
    entry.before === undefined ? null : JSON.stringify(entry.before),
    entry.after === undefined ? null : JSON.stringify(entry.after),
    new Date().toISOString(),
  ]
  const $ = (i: number) => `$${first + i}`
  const text = `INSERT INTO "AuditLog" (id, "organizationId", "actorType", "actorId", "ipAddress", "userAgent", action, "targetType", "targetId", before, after, "createdAt")
    SELECT ${$(0)}, ${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}, ${$(6)}, ${$(7)}, ${entry.targetIdColumn}, ${$(8)}::jsonb, ${$(9)}::jsonb, ${$(10)}::timestamptz AT TIME ZONE 'UTC'`
  return { text, values }
}
