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

/** Background work that may land while a call is counted and is never the call's: the sealing of audit entries written earlier (ADR 028). */
const BACKGROUND = /carcosa_audit_seal\(/

/** Runs `fn` and returns its result with the statements it sent meanwhile (nothing else of the test may run then). */
export async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const start = statements.length
  const result = await fn()
  return { result, statements: statements.slice(start).filter((text) => !BACKGROUND.test(text)) }
}
