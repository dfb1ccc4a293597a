import { confirmDeletionSchema } from '~/services/workspaces/schemas'
import { IntentForm, SubmitButton, TextField, useIntentForm } from './forms'
import { Card } from './layout'

/**
 * The danger zone of a settings page: deleting asks for the slug to be typed. It is shown to
 * everyone who can see the page; the service refuses those without the role, with a message.
 */
export function DeleteCard({
  what,
  slug,
  allowed,
  notice,
  deniedNotice,
}: {
  what: string
  slug: string
  allowed: boolean
  notice: string
  deniedNotice: string
}) {
  const [form, fields] = useIntentForm('delete', confirmDeletionSchema(slug))
  const title = `Delete ${what}`
  return (
    <Card title={title} tone="danger">
      <IntentForm form={form} intent="delete">
        <p className="text-sm text-slate-700">{notice}</p>
        {allowed ? null : <p className="text-sm font-medium text-slate-700">{deniedNotice}</p>}
        <TextField label={`Type ${slug} to confirm`} field={fields.confirm} />
        <SubmitButton variant="danger">{title}</SubmitButton>
      </IntentForm>
    </Card>
  )
}
