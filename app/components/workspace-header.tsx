import { PageHeader, Tabs, type Crumb } from './layout'
import { RoleBadge } from './role-badge'

/** The head of an organization, team or project page: breadcrumbs, name, the viewer's role, section tabs. */
export function WorkspaceHeader({
  title,
  kind,
  role,
  crumbs,
  tabs,
}: {
  title: string
  /** What the page is ("Team", "Project"), said before the role; omitted for organizations. */
  kind?: string
  role: string
  crumbs: Crumb[]
  tabs: { label: string; items: { to: string; label: string; end?: boolean }[] }
}) {
  return (
    <>
      <PageHeader
        title={title}
        crumbs={crumbs}
        description={
          <span className="inline-flex items-center gap-2">
            {kind ? `${kind} · your role:` : 'Your role:'} <RoleBadge role={role} />
          </span>
        }
      />
      <Tabs label={tabs.label} items={tabs.items} />
    </>
  )
}
