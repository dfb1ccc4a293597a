import { z } from 'zod'

export const MAX_PAGE_SIZE = 100
export const DEFAULT_PAGE_SIZE = 20

/** `?cursor=&limit=` for every list: the cursor is the last id of the previous page. */
export const pageQuerySchema = z.object({
  cursor: z.string().min(1).max(64).optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(MAX_PAGE_SIZE, `limit must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE),
})

export type PageQuery = z.output<typeof pageQuerySchema>

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/**
 * Prisma arguments for one page ordered by id, `where` included: `id > cursor` (keyset) so a page
 * still follows when the cursor's row was deleted meanwhile, as files do. One extra row tells whether
 * another page follows. Ids are cuids, so the order is stable (not chronological).
 */
export function pageArgs<W extends object>({ cursor, limit }: PageQuery, where: W) {
  return {
    where: cursor ? { AND: [where, { id: { gt: cursor } }] } : where,
    orderBy: { id: 'asc' as const },
    take: limit + 1,
  }
}

export function toPage<T extends { id: string }>(rows: T[], { limit }: PageQuery): Page<T> {
  const items = rows.slice(0, limit)
  return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null }
}

/** Dashboard lists show the first (largest) page, sorted by name for people. */
export const DASHBOARD_PAGE: PageQuery = { limit: MAX_PAGE_SIZE }
export const byName = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => a.name.localeCompare(b.name))
