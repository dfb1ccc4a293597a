import { Link, NavLink } from '@remix-run/react'
import type { ReactNode } from 'react'

export interface Crumb {
  label: string
  to: string
}

export function PageHeader({ title, crumbs = [], description }: { title: string; crumbs?: Crumb[]; description?: ReactNode }) {
  return (
    <div className="mb-6">
      {crumbs.length > 0 ? (
        <nav aria-label="Breadcrumb" className="mb-2 text-sm text-slate-500">
          <ol className="flex flex-wrap items-center gap-1">
            {crumbs.map((crumb, index) => (
              <li key={crumb.to} className="flex items-center gap-1">
                {index > 0 ? <span aria-hidden="true">/</span> : null}
                <Link to={crumb.to}>{crumb.label}</Link>
              </li>
            ))}
          </ol>
        </nav>
      ) : null}
      <h1 className="text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
      {description ? <p className="mt-1 text-sm text-slate-600">{description}</p> : null}
    </div>
  )
}

export function Card({ title, children, tone = 'default' }: { title: string; children: ReactNode; tone?: 'default' | 'danger' }) {
  const border = tone === 'danger' ? 'border-red-200' : 'border-slate-200'
  return (
    <section className={`rounded-lg border ${border} bg-white p-5 shadow-sm`} aria-labelledby={slugId(title)}>
      <h2 id={slugId(title)} className={`mb-4 text-lg font-semibold ${tone === 'danger' ? 'text-red-700' : 'text-slate-900'}`}>
        {title}
      </h2>
      {children}
    </section>
  )
}

export function Tabs({ label, items }: { label: string; items: { to: string; label: string; end?: boolean }[] }) {
  return (
    <nav aria-label={label} className="mb-6 border-b border-slate-200">
      <ul className="-mb-px flex gap-4">
        {items.map((item) => (
          <li key={item.to}>
            <NavLink
              to={item.to}
              end={item.end}
              className={({ isActive }) =>
                `inline-block border-b-2 px-1 pb-2 text-sm font-medium no-underline hover:no-underline ${
                  isActive ? 'border-indigo-600 text-indigo-700' : 'border-transparent text-slate-600 hover:text-slate-900'
                }`
              }
            >
              {item.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  )
}

export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="rounded-md border border-dashed border-slate-300 p-4 text-sm text-slate-600">{children}</p>
}

const slugId = (text: string) => `section-${text.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`
