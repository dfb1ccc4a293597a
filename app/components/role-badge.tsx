const TONES: Record<string, string> = {
  OWNER: 'bg-indigo-100 text-indigo-800',
  ADMIN: 'bg-sky-100 text-sky-800',
  MEMBER: 'bg-emerald-100 text-emerald-800',
  VIEWER: 'bg-slate-100 text-slate-700',
}

export function RoleBadge({ role }: { role: string }) {
  return (
    <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-semibold ${TONES[role] ?? TONES.VIEWER}`}>
      {role.charAt(0) + role.slice(1).toLowerCase()}
    </span>
  )
}
