import { prisma } from '~/utils/db.server'
import type { UserActor } from '../actor'
import { getAuditLog, listAuditLogs, verifyAuditChain, type AuditEntryView, type ChainVerification } from './audit-log.server'
import { auditDifference, type DifferenceRow } from './difference'
import { auditFilterSchema, withoutBlanks, type AuditFilter } from './schemas'

type Scope = { organizationId: string } | { projectId: string }

/** The filter fields of the viewer's GET form, as typed (dates as YYYY-MM-DD). */
export const FILTER_FIELDS = ['action', 'actorType', 'actorId', 'targetType', 'targetId', 'tenantId', 'projectId', 'from', 'to'] as const
export type AuditForm = Record<(typeof FILTER_FIELDS)[number], string>

export const AUDIT_PAGE_SIZE = 50
const DAY_MS = 86_400_000

export interface AuditRow extends AuditEntryView {
  /** Who acted, for people: a user's name or email, an API key's name, or "Anonymous". */
  actorLabel: string
}

/** What the viewer needs to show who acted: names of the users and keys among the entries. */
async function actorLabels(entries: { actor: { type: string; id: string | null } }[]) {
  const userIds = [...new Set(entries.filter((e) => e.actor.type === 'user' && e.actor.id).map((e) => e.actor.id!))]
  const keyIds = [...new Set(entries.filter((e) => e.actor.type === 'api-key' && e.actor.id).map((e) => e.actor.id!))]
  const [users, keys] = await Promise.all([
    userIds.length ? prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, name: true, email: true } }) : [],
    keyIds.length ? prisma.apiKey.findMany({ where: { id: { in: keyIds } }, select: { id: true, name: true } }) : [],
  ])
  const names = new Map<string, string>([
    ...users.map((u) => [u.id, u.name ? `${u.name} <${u.email}>` : u.email] as const),
    ...keys.map((k) => [k.id, `API key “${k.name}”`] as const),
  ])
  return (actor: { type: string; id: string | null }) =>
    actor.type === 'anonymous'
      ? 'Anonymous'
      : (actor.id && names.get(actor.id)) || `${actor.type === 'api-key' ? 'API key' : 'User'} ${actor.id ?? ''} (deleted)`
}

/** The form's values as a query: blanks dropped, the inclusive "to" day turned into the next midnight. */
function filterInput(search: URLSearchParams) {
  const raw = withoutBlanks(Object.fromEntries([...search].filter(([name]) => (FILTER_FIELDS as readonly string[]).includes(name))))
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw.to ?? '')) {
    const next = new Date(`${raw.to}T00:00:00Z`)
    if (!Number.isNaN(next.getTime())) raw.to = new Date(next.getTime() + DAY_MS).toISOString().slice(0, 10)
  }
  return raw
}

/**
 * The Audit log page of an organization or a project: the filters (a GET form; values that do not
 * validate are reported and ignored), one page of entries with the link to the next, the result
 * of "Verify" when asked (`?verify=1`), and the export links carrying the same filters.
 */
export async function auditPage(actor: UserActor, scope: Scope, search: URLSearchParams) {
  const raw = filterInput(search)
  // An organization page may narrow to one of its projects; a project page is that project.
  const scoped =
    'projectId' in scope ? { ...raw, projectId: scope.projectId } : raw.projectId ? raw : { ...raw, organizationId: scope.organizationId }
  const parsed = auditFilterSchema.safeParse(scoped)
  const errors = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'filters'}: ${issue.message}`)
  const filter: AuditFilter = parsed.success ? parsed.data : auditFilterSchema.parse(scope)
  if ('organizationId' in scope && filter.projectId) {
    // The project must be the organization's: otherwise the filter would read another organization.
    const project = await prisma.project.findFirst({
      where: { id: filter.projectId, team: { organizationId: scope.organizationId } },
      select: { id: true },
    })
    if (!project) {
      errors.push('projectId: not a project of this organization')
      delete filter.projectId
      filter.organizationId = scope.organizationId
    }
  }
  const cursor = search.get('cursor') || undefined
  const page = await listAuditLogs(actor, { ...filter, cursor: cursor && cursor.length <= 64 ? cursor : undefined, limit: AUDIT_PAGE_SIZE })
  const label = await actorLabels(page.items)
  // Listed once the listing above has authorized the reader for the organization.
  const projects =
    'organizationId' in scope
      ? await prisma.project.findMany({
          where: { team: { organizationId: scope.organizationId } },
          select: { id: true, name: true },
          orderBy: { name: 'asc' },
        })
      : undefined
  const verification: ChainVerification | null = search.get('verify')
    ? await verifyAuditChain(actor, 'projectId' in scope ? scope : { organizationId: scope.organizationId })
    : null

  const form = Object.fromEntries(FILTER_FIELDS.map((name) => [name, search.get(name) ?? ''])) as AuditForm
  const query = new URLSearchParams(withoutBlanks(Object.fromEntries(FILTER_FIELDS.map((name) => [name, form[name]]))))
  if (!parsed.success) for (const name of FILTER_FIELDS) query.delete(name)
  const exportQuery = new URLSearchParams(query)
  if ('projectId' in scope) exportQuery.set('projectId', scope.projectId)
  else if (!filter.projectId) exportQuery.set('organizationId', scope.organizationId)
  if (parsed.success && filter.to) exportQuery.set('to', filter.to.toISOString())
  const nextQuery = new URLSearchParams(query)
  if (page.nextCursor) nextQuery.set('cursor', page.nextCursor)
  return {
    entries: page.items.map((entry): AuditRow => ({ ...entry, actorLabel: label(entry.actor) })),
    projects,
    nextHref: page.nextCursor ? `?${nextQuery}` : null,
    firstHref: cursor ? `?${query}` : null,
    /** The current filters, for links to entries and back. */
    query: query.toString(),
    form,
    errors,
    verification,
    verifyHref: `?${new URLSearchParams([...query, ['verify', '1']])}`,
    exports: { ndjson: `/audit-log.ndjson?${exportQuery}`, csv: `/audit-log.csv?${exportQuery}` },
  }
}

export type AuditPage = Awaited<ReturnType<typeof auditPage>>

/** One entry for the detail page, with who acted and its before/after as rows of a difference. */
export async function auditEntryPage(actor: UserActor, scope: Scope, entryId: string) {
  const entry = await getAuditLog(actor, entryId, scope)
  const label = await actorLabels([entry])
  const difference: DifferenceRow[] = auditDifference(entry.before, entry.after)
  return { entry: { ...entry, actorLabel: label(entry.actor) }, difference }
}
