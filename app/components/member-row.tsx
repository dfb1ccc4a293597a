import { changeRoleSchema, removeMemberSchema } from '~/services/workspaces/schemas'
import { IntentForm, SelectField, SubmitButton, useIntentForm } from './forms'
import { RoleBadge } from './role-badge'
import { roleOptions } from './role-options'

/**
 * One member of an organization or a team: their role, a role switcher for those who manage
 * members, and a remove (or leave, for oneself) button. Posts `change-role:<id>` and `remove:<id>`.
 */
export function MemberRow({
  member,
  canManage,
  isSelf,
  scope,
}: {
  member: { id: string; role: string; user: { name: string; email: string } }
  canManage: boolean
  isSelf: boolean
  scope: 'organization' | 'team'
}) {
  const intent = `change-role:${member.id}`
  const [form, fields] = useIntentForm(intent, changeRoleSchema, { role: member.role, memberId: member.id })
  const removeIntent = `remove:${member.id}`
  const [removeForm] = useIntentForm(removeIntent, removeMemberSchema)
  const roleLabel = scope === 'team' ? `Team role of ${member.user.name}` : `Role of ${member.user.name}`
  const removeLabel = isSelf ? `Leave ${scope}` : scope === 'team' ? `Remove ${member.user.name} from team` : `Remove ${member.user.name}`
  return (
    <li className="flex flex-wrap items-center justify-between gap-3 py-3">
      <div>
        <p className="font-medium">
          {member.user.name} {isSelf ? <span className="text-xs text-slate-500">(you)</span> : null} <RoleBadge role={member.role} />
        </p>
        <p className="text-sm text-slate-600">{member.user.email}</p>
      </div>
      <div className="flex flex-wrap items-end gap-2">
        {canManage ? (
          <IntentForm form={form} intent={intent} className="flex items-end gap-2">
            <input type="hidden" name="memberId" value={member.id} />
            <SelectField label={roleLabel} field={fields.role} options={roleOptions} />
            <SubmitButton variant="secondary">Change role</SubmitButton>
          </IntentForm>
        ) : null}
        {canManage || isSelf ? (
          <IntentForm form={removeForm} intent={removeIntent} className="flex items-end">
            <input type="hidden" name="memberId" value={member.id} />
            <SubmitButton variant="secondary">{removeLabel}</SubmitButton>
          </IntentForm>
        ) : null}
      </div>
    </li>
  )
}
