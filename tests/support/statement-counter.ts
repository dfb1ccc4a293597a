import pg from 'pg'

/**
 * Counts the SQL statements this process sends, whoever sends them (Prisma through its pg adapter,
 * the hot paths' own SQL, BEGIN and COMMIT included), by wrapping pg's Client#query. Import it
 * before the app's modules.
 */
const statements: string[] = []
const original = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const [config] = args
  const text = typeof config === 'string' ? config : ((config as { text?: string } | undefined)?.text ?? '')
  statements.push(text.replace(/\s+/g, ' ').trim())
  return original.apply(this, args)
} as typeof pg.Client.prototype.query

/** Runs `fn` and returns its result with the statements sent meanwhile (nothing else may run then). */
export async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const start = statements.length
  const result = await fn()
  return { result, statements: statements.slice(start) }
}
