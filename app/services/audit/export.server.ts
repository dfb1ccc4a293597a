import { stringify } from 'csv-stringify/sync'
import { AppError } from '~/utils/errors.server'
import type { UserActor } from '../actor'
import { authorizeAuditExport, streamAuditEntries, type AuditEntryDetail } from './audit-log.server'
import { auditFilterSchema, withoutBlanks, type ExportFormat } from './schemas'

const CSV_COLUMNS = [
  'id',
  'seq',
  'createdAt',
  'organizationId',
  'teamId',
  'projectId',
  'tenantId',
  'actorType',
  'actorId',
  'ipAddress',
  'userAgent',
  'action',
  'targetType',
  'targetId',
  'before',
  'after',
  'prevHash',
  'hash',
] as const

const csvRow = (entry: AuditEntryDetail) =>
  stringify([
    [
      entry.id,
      entry.seq,
      new Date(entry.createdAt).toISOString(),
      entry.organizationId,
      entry.teamId,
      entry.projectId,
      entry.tenantId,
      entry.actor.type,
      entry.actor.id,
      entry.ipAddress,
      entry.userAgent,
      entry.action,
      entry.target.type,
      entry.target.id,
      entry.before === null ? '' : JSON.stringify(entry.before),
      entry.after === null ? '' : JSON.stringify(entry.after),
      entry.prevHash,
      entry.hash,
    ],
  ])

/**
 * The filtered audit log as a download, NDJSON (one entry per line, as the API's detail) or CSV
 * (before/after as JSON text). Authorized before the first byte; then streamed in batches as the
 * client reads, so memory stays bounded however long the log.
 */
export async function auditExport(actor: UserActor, search: URLSearchParams, format: ExportFormat): Promise<Response> {
  const parsed = auditFilterSchema.safeParse(withoutBlanks(Object.fromEntries(search)))
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'filters'}: ${issue.message}`).join('; ')
    throw new AppError('VALIDATION', `The export's filters did not validate: ${problems}`)
  }
  await authorizeAuditExport(actor, parsed.data)
  const entries = streamAuditEntries(actor, parsed.data)
  const encoder = new TextEncoder()
  let headerSent = format !== 'csv'
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true
        controller.enqueue(encoder.encode(stringify([[...CSV_COLUMNS]])))
        return
      }
      const next = await entries.next()
      if (next.done) return controller.close()
      controller.enqueue(encoder.encode(format === 'csv' ? csvRow(next.value) : `${JSON.stringify(next.value)}\n`))
    },
    async cancel() {
      await entries.return(undefined)
    },
  })
  const scope = parsed.data.projectId ? 'project' : parsed.data.teamId ? 'team' : 'organization'
  const name = `carcosa-audit-${scope}-${new Date().toISOString().slice(0, 10)}.${format}`
  return new Response(body, {
    headers: {
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'no-store',
    },
  })
}
