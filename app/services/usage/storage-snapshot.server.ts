import { prisma } from '~/utils/db.server'

/**
 * Records today's (UTC) stored files and bytes per project and tenant, plus each project's total
 * (tenantKey "*", written for every project, 0 when empty). Run by housekeeping; running it again
 * the same day replaces the day's figures, so several instances only repeat the work.
 */
export async function snapshotStorage(): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO "UsageStorageDaily" ("projectId", "tenantKey", "day", "files", "bytes", "takenAt")
    SELECT p.id,
           CASE WHEN GROUPING(f."tenantId") = 1 THEN '*' ELSE COALESCE(f."tenantId", '') END,
           (now() AT TIME ZONE 'UTC')::date,
           COUNT(f.id),
           COALESCE(SUM(f.size), 0),
           now() AT TIME ZONE 'UTC'
    FROM "Project" p LEFT JOIN "File" f ON f."projectId" = p.id
    GROUP BY GROUPING SETS ((p.id, f."tenantId"), (p.id))
    HAVING GROUPING(f."tenantId") = 1 OR COUNT(f.id) > 0
    ON CONFLICT ("projectId", "tenantKey", "day") DO UPDATE SET "files" = excluded."files", "bytes" = excluded."bytes", "takenAt" = excluded."takenAt"`
}
