import cuid from 'cuid'
import type { Prisma } from '~/generated/prisma/client'
import type { Transaction } from '~/utils/db.server'
import type { RequestMeta } from '~/utils/request.server'
import { actorId, type Actor } from '../actor'
import { noteAuditWrite } from './seal.server'

export interface AuditEntry {
  /** Where the entry belongs: the organization's chain, and the team, project and tenant readers filter by. */
  organizationId?: string | null
  teamId?: string | null
  projectId?: string | null
  tenantId?: string | null
  action: string
  targetType: string
  targetId?: string | null
  before?: Prisma.InputJsonValue
  after?: Prisma.InputJsonValue
}

/** The organization, team and project of an entry about something inside a project. */
export const projectAuditScope = (access: { project: { id: string; teamId: string }; team: { organizationId: string } }) => ({
  organizationId: access.team.organizationId,
  teamId: access.project.teamId,
  projectId: access.project.id,
})

/**
 * Writes one audit entry; it joins its organization's hash chain when sealed, moments later (ADR 024,
 * ADR 028). Call it inside the transaction that makes the change, so the change and its record land
 * together or not at all. `actor` is null for anonymous events (failed sign-ins).
 */
export async function recordAudit(tx: Transaction, actor: Actor | null, meta: RequestMeta, entry: AuditEntry) {
  noteAuditWrite(entry.organizationId)
  await tx.auditLog.create({
    data: {
      organizationId: entry.organizationId ?? null,
      teamId: entry.teamId ?? null,
      projectId: entry.projectId ?? null,
      tenantId: entry.tenantId ?? null,
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
export function auditInsertSql(
  actor: Actor,
  meta: RequestMeta,
  entry: Omit<AuditEntry, 'targetId'> & { targetIdColumn: string },
  first: number,
) {
  noteAuditWrite(entry.organizationId)
  const values = [
    cuid(),
    entry.organizationId ?? null,
    entry.teamId ?? null,
    entry.projectId ?? null,
    entry.tenantId ?? null,
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
  const text = `INSERT INTO "AuditLog" (id, "organizationId", "teamId", "projectId", "tenantId", "actorType", "actorId", "ipAddress", "userAgent", action, "targetType", "targetId", before, after, "createdAt")
    SELECT ${$(0)}, ${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}, ${$(6)}, ${$(7)}, ${$(8)}, ${$(9)}, ${$(10)}, ${entry.targetIdColumn}, ${$(11)}::jsonb, ${$(12)}::jsonb, ${$(13)}::timestamptz AT TIME ZONE 'UTC'`
  return { text, values }
}
