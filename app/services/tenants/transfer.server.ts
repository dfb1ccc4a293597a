import { isDeepStrictEqual } from 'node:util'
import { parse as parseCsv } from 'csv-parse/sync'
import { stringify as csvLine } from 'csv-stringify/sync'
import type { Prisma } from '~/generated/prisma/client'
import { prisma, type Transaction } from '~/utils/db.server'
import { AppError } from '~/utils/errors.server'
import type { Actor } from '../actor'
import { isUniqueViolation } from '../db-errors.server'
import { projectAccess, requirePermission } from '../workspaces/access.server'
import { statusName } from './tenant-status.server'
import { afterTenantChange, changeTenant, insertTenant, tenantSelect } from './tenants.server'
import { importRowSchema, MAX_IMPORT_ROWS, TRANSFER_COLUMNS, type ImportRow, type ImportTenantsInput } from './transfer-schemas'

export interface ImportChange {
  slug: string
  action: 'create' | 'update' | 'unchanged'
  /** The fields that change (all given ones for a new tenant). */
  fields: string[]
}

export interface ImportReport {
  dryRun: boolean
  created: number
  updated: number
  unchanged: number
  tenants: ImportChange[]
}

/** Field errors reported at most (a broken file should not answer with a megabyte of errors). */
const MAX_REPORTED_ERRORS = 50

class RowErrors {
  readonly errors: Record<string, string[]> = {}
  private count = 0
  add(field: string, message: string) {
    if (this.count++ >= MAX_REPORTED_ERRORS) return
    ;(this.errors[field] ??= []).push(message)
  }
  get empty() {
    return this.count === 0
  }
  throwIfAny(what: string) {
    if (this.empty) return
    const more = this.count > MAX_REPORTED_ERRORS ? ` (the first ${MAX_REPORTED_ERRORS} of ${this.count} shown)` : ''
    throw new AppError('VALIDATION', `The ${what} did not validate; nothing was imported${more}.`, { fieldErrors: this.errors })
  }
}

/** CSV records as rows for importRowSchema: empty cells are left out, metadata is JSON text. */
function csvRecords(text: string, errors: RowErrors): Array<{ where: string; value: Record<string, unknown> }> {
  let records: Array<Record<string, string>>
  try {
    records = parseCsv(text, {
      columns: (header: string[]) => header.map((name) => name.trim()),
      skip_empty_lines: true,
      bom: true,
      trim: true,
      max_record_size: 64 * 1024,
    })
  } catch (error) {
    throw new AppError('VALIDATION', `The CSV could not be read: ${(error as Error).message}`, {
      fieldErrors: { csv: [(error as Error).message] },
    })
  }
  if (records.length > MAX_IMPORT_ROWS)
    throw new AppError('PAYLOAD_TOO_LARGE', `At most ${MAX_IMPORT_ROWS} tenants per import; this CSV has ${records.length}.`)
  return records.map((record, index) => {
    const where = `row ${index + 2}`
    const value: Record<string, unknown> = {}
    for (const column of ['slug', 'name', 'status'] as const) if (record[column]) value[column] = record[column]
    // An empty plan cell is "no plan", as the export writes it.
    if (record.plan !== undefined) value.plan = record.plan
    if (record.metadata) {
      try {
        value.metadata = JSON.parse(record.metadata)
      } catch {
        errors.add(`${where}.metadata`, 'Metadata is not valid JSON')
      }
    }
    return { where, value }
  })
}

function importRows(input: ImportTenantsInput): ImportRow[] {
  const errors = new RowErrors()
  const raw =
    input.csv !== undefined ? csvRecords(input.csv, errors) : (input.tenants ?? []).map((value, index) => ({ where: `tenants.${index}`, value }))
  const rows: ImportRow[] = []
  const seen = new Set<string>()
  for (const { where, value } of raw) {
    const parsed = importRowSchema.safeParse(value)
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.add([where, ...issue.path].join('.'), issue.message)
      continue
    }
    if (seen.has(parsed.data.slug)) errors.add(`${where}.slug`, `Slug ${parsed.data.slug} appears more than once`)
    seen.add(parsed.data.slug)
    rows.push(parsed.data)
  }
  errors.throwIfAny(input.csv !== undefined ? 'CSV' : 'tenants')
  if (rows.length === 0) throw new AppError('VALIDATION', 'There are no tenants to import.', { fieldErrors: { tenants: ['No rows'] } })
  return rows
}

type Plan = { id: string; name: string }

/** What importing `row` changes on `current` (null: a new tenant). */
function fieldsChanged(
  row: ImportRow,
  current: Prisma.TenantGetPayload<{ select: typeof tenantSelect }> | null,
  planId: string | null | undefined,
): string[] {
  if (!current) return Object.keys(row).filter((key) => row[key as keyof ImportRow] !== undefined)
  const fields: string[] = []
  if (row.name !== current.name) fields.push('name')
  if (row.status !== undefined && row.status !== statusName(current.status)) fields.push('status')
  if (planId !== undefined && planId !== (current.plan?.id ?? null)) fields.push('plan')
  if (row.metadata !== undefined && !isDeepStrictEqual(row.metadata, current.metadata)) fields.push('metadata')
  return fields
}

/**
 * Creates or updates a project's tenants by slug from JSON rows or CSV, all or nothing: every row is
 * checked before anything is written, and the writes (each audited, with its events) share one
 * transaction. `dryRun` reports the same changes and writes nothing.
 */
export async function importTenants(actor: Actor, projectId: string, input: ImportTenantsInput): Promise<ImportReport> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'tenants:manage', 'import tenants into this project')
  const rows = importRows(input)

  const plan = async (db: Transaction) => {
    const [existing, plans] = await Promise.all([
      db.tenant.findMany({ where: { projectId, slug: { in: rows.map((row) => row.slug) } }, select: tenantSelect }),
      db.plan.findMany({ where: { projectId }, select: { id: true, name: true } }),
    ])
    const bySlug = new Map(existing.map((tenant) => [tenant.slug, tenant]))
    const planByName = new Map(plans.map((p: Plan) => [p.name, p.id]))
    const errors = new RowErrors()
    const steps = rows.map((row, index) => {
      const planId = row.plan === undefined ? undefined : row.plan === null ? null : planByName.get(row.plan)
      if (planId === undefined && row.plan) errors.add(`tenants.${index}.plan`, `There is no plan named ${row.plan} in this project`)
      const current = bySlug.get(row.slug) ?? null
      const fields = fieldsChanged(row, current, planId)
      const action: ImportChange['action'] = !current ? 'create' : fields.length > 0 ? 'update' : 'unchanged'
      return { row, planId, current, change: { slug: row.slug, action, fields } satisfies ImportChange }
    })
    errors.throwIfAny('tenants')
    return steps
  }

  const report = (steps: Array<{ change: ImportChange }>): ImportReport => ({
    dryRun: input.dryRun,
    created: steps.filter((step) => step.change.action === 'create').length,
    updated: steps.filter((step) => step.change.action === 'update').length,
    unchanged: steps.filter((step) => step.change.action === 'unchanged').length,
    tenants: steps.map((step) => step.change),
  })

  if (input.dryRun) return report(await plan(prisma as unknown as Transaction))

  const changed: Array<{ id: string; statusChanged: boolean; limitsChanged: boolean }> = []
  let steps: Awaited<ReturnType<typeof plan>>
  try {
    steps = await prisma.$transaction(
      async (tx) => {
        const planned = await plan(tx)
        for (const { row, planId, current, change } of planned) {
          if (change.action === 'create') {
            await insertTenant(tx, actor, access, {
              projectId,
              slug: row.slug,
              name: row.name,
              metadata: row.metadata,
              status: row.status,
              planId: planId ?? undefined,
            })
          } else if (change.action === 'update' && current) {
            const result = await changeTenant(tx, actor, access, current, { name: row.name, metadata: row.metadata, status: row.status, planId })
            changed.push({ id: current.id, statusChanged: result.statusChanged, limitsChanged: result.limitsChanged })
          }
        }
        return planned
      },
      { timeout: 120_000, maxWait: 10_000 },
    )
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError('CONFLICT', 'A tenant with one of these slugs was created meanwhile; nothing was imported. Try again.')
    throw error
  }
  for (const { id, ...change } of changed) await afterTenantChange(id, change)
  return report(steps)
}

const EXPORT_PAGE = 500

/**
 * A project's tenants as CSV or JSON, written page by page as the client reads (bounded memory
 * whatever the number of tenants). Access is checked before the first byte.
 */
export async function exportTenants(actor: Actor, projectId: string, format: 'csv' | 'json'): Promise<ReadableStream<Uint8Array>> {
  const access = await projectAccess(prisma, actor, projectId)
  requirePermission(access, 'projects:read', 'export the tenants of this project')
  const encoder = new TextEncoder()
  let cursor: string | undefined
  let started = false
  let done = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return
      if (!started) {
        started = true
        controller.enqueue(encoder.encode(format === 'csv' ? csvLine([TRANSFER_COLUMNS as unknown as string[]]) : '['))
      }
      const rows = await prisma.tenant.findMany({
        where: cursor ? { projectId, id: { gt: cursor } } : { projectId },
        orderBy: { id: 'asc' },
        take: EXPORT_PAGE,
        select: {
          id: true,
          slug: true,
          name: true,
          status: true,
          metadata: true,
          fileCount: true,
          storedBytes: true,
          createdAt: true,
          plan: { select: { name: true } },
        },
      })
      const items = rows.map((row) => ({
        slug: row.slug,
        name: row.name,
        status: statusName(row.status),
        plan: row.plan?.name ?? null,
        metadata: row.metadata,
        fileCount: row.fileCount,
        storedBytes: Number(row.storedBytes),
        createdAt: row.createdAt.toISOString(),
      }))
      let chunk: string
      if (format === 'csv') {
        chunk =
          items.length === 0
            ? ''
            : csvLine(
                items.map((item) =>
                  TRANSFER_COLUMNS.map((column) => (column === 'metadata' ? JSON.stringify(item.metadata) : (item[column] ?? ''))),
                ),
              )
      } else {
        chunk = items.map((item, index) => `${cursor === undefined && index === 0 ? '' : ','}\n${JSON.stringify(item)}`).join('')
      }
      cursor = rows.at(-1)?.id ?? cursor
      if (rows.length < EXPORT_PAGE) {
        done = true
        if (format === 'json') chunk += '\n]\n'
      }
      if (chunk) controller.enqueue(encoder.encode(chunk))
      if (done) controller.close()
    },
  })
}
