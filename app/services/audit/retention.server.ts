import { getConfig } from '~/utils/config.server'
import { prisma } from '~/utils/db.server'
import { logger } from '~/utils/logger.server'

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Deletes audit entries older than AUDIT_RETENTION_DAYS, chain by chain. Each chain first records its
 * newest pruned entry as its anchor (carcosa_audit_prune, in the database: the triggers allow no other
 * deletion), so what remains still verifies. Returns how many entries went.
 */
export async function pruneAuditLogs(options: { now?: Date; retentionDays?: number } = {}): Promise<{ deleted: number; chains: number }> {
  const retentionDays = options.retentionDays ?? getConfig().AUDIT_RETENTION_DAYS
  const cutoff = new Date((options.now ?? new Date()).getTime() - retentionDays * DAY_MS)
  const chains = await prisma.auditChain.findMany({ select: { key: true } })
  let deleted = 0
  let touched = 0
  for (const { key } of chains) {
    const [row] = await prisma.$queryRaw<{ deleted: bigint }[]>`
      SELECT carcosa_audit_prune(${key}, ${cutoff.toISOString()}::timestamptz AT TIME ZONE 'UTC') AS deleted`
    const count = Number(row?.deleted ?? 0n)
    if (count > 0) touched += 1
    deleted += count
  }
  if (deleted > 0) logger.info({ deleted, chains: touched, retentionDays }, 'pruned audit entries past their retention')
  return { deleted, chains: touched }
}
