import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { AuditEntryView } from '~/components/audit-log'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { auditEntryPage } from '~/services/audit/audit-page.server'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import { projectPath } from '~/utils/paths'
import { orRouteError } from '~/utils/route-errors.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.entry.action ?? 'Audit entry'} · Audit log · Carcosa` }]

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const { entry, difference } = await orRouteError(auditEntryPage(actor, { projectId: project.id }, params.entryId ?? ''))
  return { entry, difference, backHref: `${projectPath(organization, team, project)}/audit${new URL(request.url).search}` }
}

export default function ProjectAuditEntry() {
  const { entry, difference, backHref } = useLoaderData<typeof loader>()
  return <AuditEntryView entry={entry} difference={difference} backHref={backHref} />
}
