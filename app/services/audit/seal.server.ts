import { remember } from '@epic-web/remember'
import { logger } from '~/utils/logger.server'
import { sql } from '~/utils/sql.server'

/**
 * Sealing (ADR 028): audit entries are written unsealed, so that writers in one organization never
 * queue on its chain's head, and sealed into the chain moments later by carcosa_audit_seal, in
 * batches. The process that wrote an entry seals its chain shortly after (again a little later, for
 * a transaction that had not committed yet); a sweep seals what any process left behind (one killed
 * in between, another instance's).
 */

/** After a write to a chain, it is sealed after each of these delays (ms); a later write starts over. */
const SEAL_DELAYS_MS = [25, 250, 2_000]
/** Entries sealed per statement: a long backlog is sealed in several short transactions. */
const SEAL_BATCH = 500
/** How often the sweep looks for unsealed entries of any chain. */
const SWEEP_INTERVAL_MS = 30_000

const warnLater = (what: string) => (error: unknown) => logger.warn({ err: error as Error }, `${what}; a later attempt or the sweep will`)

/** The chains this process wrote to, and when each is sealed next. */
class AuditSealer {
  private readonly due = new Map<string, { attempt: number; at: number }>()
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

  note(chain: string) {
    // A chain already due keeps its time: under a steady stream of writes it is still sealed every
    // SEAL_DELAYS_MS[0], each time with what arrived meanwhile, instead of waiting for a pause.
    const at = Date.now() + SEAL_DELAYS_MS[0]!
    const current = this.due.get(chain)
    this.due.set(chain, { attempt: 0, at: current ? Math.min(current.at, at) : at })
    this.schedule()
  }

  private schedule() {
    if (this.timer || this.running || this.due.size === 0) return
    let next = Infinity
    for (const entry of this.due.values()) next = Math.min(next, entry.at)
    this.timer = setTimeout(
      () => {
        this.timer = null
        this.running = this.sealDue().finally(() => {
          this.running = null
          this.schedule()
        })
      },
      Math.max(0, next - Date.now()),
    )
    // Never what keeps a process alive; shutdown seals explicitly (flush).
    this.timer.unref()
  }

  private async sealDue() {
    const now = Date.now()
    for (const [chain, entry] of [...this.due]) {
      if (entry.at > now) continue
      await sealAuditChain(chain).catch(warnLater('could not seal audit entries'))
      // A write noted while sealing started the chain's attempts over: its new schedule stands.
      if (this.due.get(chain) !== entry) continue
      const attempt = entry.attempt + 1
      if (attempt >= SEAL_DELAYS_MS.length) this.due.delete(chain)
      else this.due.set(chain, { attempt, at: Date.now() + SEAL_DELAYS_MS[attempt]! })
    }
  }

  /** Seals every chain still due, now. */
  async flush() {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
    for (const chain of [...this.due.keys()]) {
      this.due.delete(chain)
      await sealAuditChain(chain)
    }
  }
}

const sealer = () => remember('carcosa.audit-sealer', () => new AuditSealer())

/** Called as an audit entry is written (the organization's id; none for entries outside any): its chain is sealed shortly. */
export function noteAuditWrite(organizationId: string | null | undefined) {
  sealer().note(organizationId ?? '')
}

/** Seals every unsealed entry of one chain (an organization's id, or "" for entries outside any) that is committed now. */
export async function sealAuditChain(chain: string): Promise<number> {
  let total = 0
  for (;;) {
    const [row] = await sql<{ sealed: number }>('SELECT carcosa_audit_seal($1, $2) AS sealed', [chain, SEAL_BATCH])
    const sealed = row?.sealed ?? 0
    total += sealed
    if (sealed < SEAL_BATCH) return total
  }
}

/** Seals the unsealed entries of every chain: the sweep. A chain has its head from its first entry on. */
export async function sealAllAuditChains(): Promise<number> {
  const chains = await sql<{ key: string }>(
    `SELECT c.key FROM "AuditChain" c WHERE EXISTS (SELECT 1 FROM "AuditLog" a WHERE a."chainKey" = c.key AND a.seq IS NULL)`,
  )
  let total = 0
  for (const { key } of chains) total += await sealAuditChain(key)
  return total
}

/** Starts the sweep (and runs it once now); returns what stops it and seals what this process still owes. */
export function startAuditSealing(): () => Promise<void> {
  const sweep = () => void sealAllAuditChains().catch(warnLater('the audit sealing sweep failed'))
  const interval = setInterval(sweep, SWEEP_INTERVAL_MS)
  interval.unref()
  // Whatever an earlier run left unsealed (a process killed between a write and its sealing).
  sweep()
  return async () => {
    clearInterval(interval)
    await sealer().flush().catch(warnLater('could not seal audit entries at shutdown'))
  }
}
