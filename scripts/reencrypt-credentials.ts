/**
 * `npm run credentials:reencrypt`: after a new CREDENTIALS_ENCRYPTION_KEY is set (the old one moved to
 * CREDENTIALS_ENCRYPTION_OLD_KEYS), re-seals every bucket's credentials and every transform signing
 * secret still sealed with a retired key. Each row is written only if it is unchanged since it was
 * read, so a rotation running beside the app never overwrites a newer value. Safe to run again.
 * Prints counts and exits non-zero when a row could not be opened.
 */
import { prepareRuntime } from '../app/utils/boot.server'
import { ConfigError } from '../app/utils/config.server'
import { openSecret, sealSecret, sealedWithOldKey } from '../app/utils/credentials.server'
import { prisma } from '../app/utils/db.server'

const BATCH = 100
const log = { info: (message: string) => console.log(message), warn: (message: string) => console.warn(`warning: ${message}`) }

interface Counts {
  resealed: number
  current: number
  /** Changed by someone else between our read and our write: already re-sealed by them. */
  changed: number
  failed: string[]
}

/**
 * Walks a table by id in batches; `write` updates one row only if its sealed value is still `sealed`
 * and returns how many rows it updated.
 */
async function reseal(
  read: (cursor: string | undefined) => Promise<{ id: string; sealed: string }[]>,
  write: (id: string, sealed: string, resealed: string) => Promise<number>,
): Promise<Counts> {
  const counts: Counts = { resealed: 0, current: 0, changed: 0, failed: [] }
  let cursor: string | undefined
  for (;;) {
    const rows = await read(cursor)
    if (rows.length === 0) return counts
    cursor = rows[rows.length - 1]!.id
    for (const { id, sealed } of rows) {
      if (!sealedWithOldKey(sealed)) {
        counts.current += 1
        continue
      }
      let resealed: string
      try {
        resealed = await sealSecret(await openSecret(sealed))
      } catch (error) {
        counts.failed.push(`${id} (${(error as Error).message})`)
        continue
      }
      if ((await write(id, sealed, resealed)) === 1) counts.resealed += 1
      else counts.changed += 1
    }
  }
}

const page = (cursor: string | undefined) => ({
  orderBy: { id: 'asc' as const },
  take: BATCH,
  ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
})

async function main() {
  const runtime = await prepareRuntime(log)
  try {
    const buckets = await reseal(
      async (cursor) =>
        (await prisma.bucket.findMany({ where: { credentials: { not: null } }, select: { id: true, credentials: true }, ...page(cursor) })).map(
          (row) => ({ id: row.id, sealed: row.credentials! }),
        ),
      async (id, sealed, resealed) =>
        (await prisma.bucket.updateMany({ where: { id, credentials: sealed }, data: { credentials: resealed } })).count,
    )
    const secrets = await reseal(
      async (cursor) =>
        (await prisma.transformSigningSecret.findMany({ select: { id: true, secret: true }, ...page(cursor) })).map((row) => ({
          id: row.id,
          sealed: row.secret,
        })),
      async (id, sealed, resealed) =>
        (await prisma.transformSigningSecret.updateMany({ where: { id, secret: sealed }, data: { secret: resealed } })).count,
    )
    for (const [label, counts] of [
      ['bucket credentials', buckets],
      ['transform signing secrets', secrets],
    ] as const) {
      console.log(
        `credentials:reencrypt: ${label}: ${counts.resealed} re-encrypted, ${counts.current} already under the current key, ` +
          `${counts.changed} changed meanwhile (left as they are), ${counts.failed.length} failed`,
      )
      for (const failure of counts.failed) console.error(`credentials:reencrypt: could not open ${label} row ${failure}`)
    }
    return buckets.failed.length + secrets.failed.length === 0
  } finally {
    await prisma.$disconnect()
    await runtime.stop()
  }
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    console.error(`credentials:reencrypt failed: ${error instanceof ConfigError ? error.problems.join('; ') : (error as Error).message}`)
    process.exit(1)
  },
)
