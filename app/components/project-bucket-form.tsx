import { projectBucketFormSchema } from '~/services/buckets/schemas'
import { IntentForm, SelectField, SubmitButton, useIntentForm } from './forms'
import { Card } from './layout'

/** Project settings: the bucket new files go to, among those the project's team may write to. */
export function ProjectBucketForm({
  bucketId,
  buckets,
  canEdit,
}: {
  bucketId: string | null
  buckets: { id: string; name: string; bucketName: string; access: string }[]
  canEdit: boolean
}) {
  const [form, fields] = useIntentForm('bucket', projectBucketFormSchema, { bucketId: bucketId ?? '' })
  return (
    <Card title="Storage bucket">
      <IntentForm form={form} intent="bucket">
        <p className="text-sm text-slate-600">
          New files of this project are stored in this bucket. Only buckets this team owns or may write to (READ_WRITE or ADMIN share) are
          listed.
        </p>
        {canEdit ? null : <p className="text-sm text-slate-600">Viewers cannot change this project.</p>}
        <SelectField
          label="Bucket"
          field={fields.bucketId}
          options={[
            ...(bucketId ? [] : [{ value: '', label: 'No bucket yet: choose one' }]),
            ...buckets.map((bucket) => ({
              value: bucket.id,
              label: `${bucket.name} (${bucket.bucketName}${bucket.access === 'OWNER' ? '' : `, shared ${bucket.access}`})`,
            })),
          ]}
        />
        <SubmitButton>Save bucket</SubmitButton>
      </IntentForm>
    </Card>
  )
}
