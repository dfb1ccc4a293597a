import { ROLES, ROLE_DESCRIPTIONS } from '~/services/workspaces/schemas'

export const roleOptions = ROLES.map((role) => ({ value: role, label: ROLE_DESCRIPTIONS[role] }))
