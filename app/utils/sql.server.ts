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

/**
 * One parameterised statement on the shared pool, for the hot paths where Prisma's per-query CPU
 * cost dominates (API credentials, upload init, file pages, dashboard access). Rows come back with
 * Prisma's types: DateTime as Date, BigInt as bigint, Json parsed. Values are always parameters.
 */
export async function sql<Row>(text: string, values: unknown[] = []): Promise<Row[]> {
  try {
    const result = await pool().query<Row & pg.QueryResultRow>({ text, values, types })
    return result.rows
  } catch (error) {
    throw asOverloadError(error)
  }
}
