import { randomBytes } from 'node:crypto'
import { slugSchema } from './schemas'

/** A slug derived from a display name: "Acme Media, Inc." -> "acme-media-inc". */
export function slugify(name: string, fallback: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '')
  return slug.length >= 2 ? slug : fallback
}

/**
 * The slug to use when the user gave none: the name's slug, or that plus a short random suffix when
 * it is taken (or reserved). An explicit slug that is taken is an error instead.
 */
export async function availableSlug(name: string, fallback: string, isTaken: (slug: string) => Promise<boolean>) {
  const usable = async (slug: string) => slugSchema.safeParse(slug).success && !(await isTaken(slug))
  const base = slugify(name, fallback)
  if (await usable(base)) return base
  for (let i = 0; i < 5; i++) {
    const candidate = `${base}-${randomBytes(3).toString('hex')}`
    if (await usable(candidate)) return candidate
  }
  throw new Error('could not find a free slug')
}
