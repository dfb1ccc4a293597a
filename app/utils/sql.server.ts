import { createHash } from 'node:crypto'
import pg from 'pg'
import { pool } from './db.server'
import { asOverloadError } from './db-overload.server'

// Prisma stores DateTime as `timestamp(3)` in UTC; pg would read it as local time.
const TIMESTAMP = 1114
const INT8 = 20
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP) return (text: string) => new Date(`${text.replace(' ', 'T')}Z`)
    if (oid === INT8) return (text: string) => BigInt(text)
    return pg.types.getTypeParser(oid, format)
  },
} as pg.CustomTypesConfig

// Statements are prepared once per connection under a name derived from their text: PostgreSQL then
// parses once and reuses the plan, instead of planning every call (a nine-table join took ~2.7 ms to
// plan, more than it took to run). The texts are the code's own, a few dozen shapes; past this
// bound a text runs unnamed, so a caller building unbounded texts cannot grow every connection.
const MAX_PREPARED = 256
const statementNames = new Map<string, string>()

function statementName(text: string): string | undefined {
  let name = statementNames.get(text)
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `carcosa_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
    statementNames.set(text, name)
  }
  return name
}

/**
 * One parameterised statement on the shared pool, for the hot paths where Prisma's per-query CPU
 * cost dominates (API credentials, upload init, file pages, dashboard access). Rows come back with
 * Prisma's types: DateTime as Date, BigInt as bigint, Json parsed. Values are always parameters.
 */
export async function sql<Row>(text: string, values: unknown[] = []): Promise<Row[]> {
  try {
    const result = await pool().query<Row & pg.QueryResultRow>({ name: statementName(text), text, values, types })
    return result.rows
  } catch (error) {
    throw asOverloadError(error)
  }
}
