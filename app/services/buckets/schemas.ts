import { z } from 'zod'

/**
 * Input of the bucket operations, shared by the REST API and the dashboard's forms (so nothing here
 * may need the server). The SSRF check of an endpoint needs DNS and the operator's policy: the
 * service runs it when saving.
 */

export const PROVIDERS = ['s3', 'r2', 's3-compatible', 'local'] as const
export type Provider = (typeof PROVIDERS)[number]

export const PROVIDER_LABELS: Record<Provider, string> = {
  s3: 'Amazon S3',
  r2: 'Cloudflare R2',
  's3-compatible': 'S3-compatible (MinIO and others)',
  local: 'Local directory on this server',
}

export const BUCKET_ACCESS_LEVELS = ['READ_ONLY', 'READ_WRITE', 'ADMIN'] as const
export type ShareAccess = (typeof BUCKET_ACCESS_LEVELS)[number]

export const SHARE_ACCESS_DESCRIPTIONS: Record<ShareAccess, string> = {
  READ_ONLY: 'Read only: may read files stored in it',
  READ_WRITE: 'Read and write: its projects may store files in it',
  ADMIN: 'Admin: may also edit the connection and test it',
}

/** A local bucket is a directory under DATA_DIR/storage. */
export const LOCAL_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,62}$/

const trimmed = (what: string, max: number) =>
  z
    .string({ error: `${what} must be text` })
    .trim()
    .max(max, `${what} must be at most ${max} characters`)

const optionalText = (what: string, max: number) =>
  trimmed(what, max)
    .optional()
    .transform((value) => (value === '' ? undefined : value))

export const bucketDisplayNameSchema = z
  .string({ error: 'Bucket name is required' })
  .trim()
  .min(1, 'Bucket name is required')
  .max(80, 'Bucket name must be at most 80 characters')

/** S3's bucket naming rules (general purpose buckets), each with its own message. */
export function s3BucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) return 'Bucket name in storage must be 3 to 63 characters long'
  if (!/^[a-z0-9.-]+$/.test(name)) return 'Bucket name in storage may contain only lowercase letters, digits, dots and hyphens'
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'Bucket name in storage must begin and end with a letter or digit'
  if (name.includes('..')) return 'Bucket name in storage must not contain two dots in a row'
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'Bucket name in storage must not look like an IP address'
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3)$/.test(name)) {
    return 'Bucket name in storage uses a prefix or suffix that S3 reserves'
  }
  return null
}

const endpointText = z
  .string({ error: 'Endpoint must be text' })
  .trim()
  .max(255, 'Endpoint must be at most 255 characters')
  .optional()
  .transform((value) => (value === '' ? undefined : value))
  .refine((value) => value === undefined || /^https?:\/\/[^\s]+$/i.test(value), {
    message: 'Endpoint must be an http or https URL, e.g. https://s3.example.com',
  })

const connectionShape = {
  region: optionalText('Region', 64).refine((value) => value === undefined || /^[a-z0-9-]+$/.test(value), {
    message: 'Region may contain only lowercase letters, digits and hyphens, e.g. us-east-1',
  }),
  endpoint: endpointText,
  forcePathStyle: z.boolean({ error: 'forcePathStyle must be true or false' }).optional(),
  accessKeyId: optionalText('Access key id', 256),
  // Not trimmed: a secret is taken exactly as given.
  secretAccessKey: z
    .string({ error: 'Secret access key must be text' })
    .max(512, 'Secret access key must be at most 512 characters')
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
}

interface ConnectionFields {
  bucketName?: string
  region?: string
  endpoint?: string
  accessKeyId?: string
  secretAccessKey?: string
}

/**
 * What a provider needs, as messages per field. Used at creation and, on the merged values, at
 * every update, so a bucket never ends in a shape its provider cannot use.
 */
export function connectionProblems(provider: Provider, fields: ConnectionFields, { creating }: { creating: boolean }) {
  const problems: { field: keyof ConnectionFields; message: string }[] = []
  const add = (field: keyof ConnectionFields, message: string) => problems.push({ field, message })
  const { bucketName, region, endpoint, accessKeyId, secretAccessKey } = fields
  if (provider === 'local') {
    if (bucketName !== undefined && !LOCAL_BUCKET_NAME.test(bucketName)) {
      add(
        'bucketName',
        'A local bucket name is a directory name: 2 to 63 lowercase letters, digits, dots or hyphens, starting with a letter or digit',
      )
    } else if (creating && bucketName?.startsWith('team-')) {
      add('bucketName', 'Local bucket names starting with "team-" are kept for the teams\' default local storage')
    }
    if (endpoint !== undefined) add('endpoint', 'The local provider takes no endpoint')
    if (accessKeyId !== undefined) add('accessKeyId', 'The local provider takes no credentials')
    if (secretAccessKey !== undefined) add('secretAccessKey', 'The local provider takes no credentials')
    return problems
  }
  if (bucketName !== undefined) {
    const problem = s3BucketNameProblem(bucketName)
    if (problem) add('bucketName', problem)
  }
  if (provider === 's3' && !region) add('region', 'Region is required for Amazon S3, e.g. us-east-1')
  if (provider === 'r2') {
    if (!endpoint) add('endpoint', 'Endpoint is required for R2: https://<account id>.r2.cloudflarestorage.com')
    else if (!/^https:/i.test(endpoint)) add('endpoint', 'The R2 endpoint must use https')
  }
  if (provider === 's3-compatible' && !endpoint)
    add('endpoint', 'Endpoint is required for an S3-compatible provider, e.g. https://minio.example.com')
  // Credentials travel together: at creation both are needed, at an update (rotation) both or neither.
  if (creating || accessKeyId !== undefined || secretAccessKey !== undefined) {
    if (!accessKeyId)
      add('accessKeyId', creating ? 'Access key id is required for this provider' : 'Send the access key id with the new secret access key')
    if (!secretAccessKey) {
      add(
        'secretAccessKey',
        creating ? 'Secret access key is required for this provider' : 'Send the secret access key with the new access key id',
      )
    }
  }
  return problems
}

/** Region when none is given: R2 wants "auto", S3-compatibles mostly ignore it. */
export function defaultRegion(provider: Provider): string {
  return provider === 'r2' ? 'auto' : provider === 'local' ? 'local' : 'us-east-1'
}

/** MinIO and most S3-compatibles serve buckets by path, not by host name. */
export const defaultForcePathStyle = (provider: Provider) => provider === 's3-compatible'

const bucketBody = z.object({
  name: bucketDisplayNameSchema,
  provider: z.enum(PROVIDERS, { error: 'Choose a provider: s3, r2, s3-compatible or local' }),
  bucketName: z
    .string({ error: 'Bucket name in storage is required' })
    .trim()
    .min(1, 'Bucket name in storage is required')
    .max(63, 'Bucket name in storage must be at most 63 characters'),
  ...connectionShape,
})

function checkProvider(value: z.output<typeof bucketBody>, ctx: z.RefinementCtx) {
  for (const { field, message } of connectionProblems(value.provider, value, { creating: true })) {
    ctx.addIssue({ code: 'custom', path: [field], message })
  }
}

const teamIdSchema = z.string({ error: 'Team is required' }).min(1, 'Team is required').max(64, 'Team id is too long')

export const createBucketSchema = bucketBody.extend({ teamId: teamIdSchema }).superRefine(checkProvider)

/** A select posts "true", "false" or "" (the provider's default) instead of a JSON boolean. */
const formBoolean = z
  .enum(['true', 'false'], { error: 'Choose yes or no' })
  .optional()
  .transform((value) => (value === undefined ? undefined : value === 'true'))

/** The dashboard's create form: the team comes from the URL. */
export const createBucketFormSchema = bucketBody.extend({ forcePathStyle: formBoolean }).superRefine(checkProvider)

const updateShape = {
  name: bucketDisplayNameSchema.optional(),
  ...connectionShape,
}
const somethingToChange = (value: Record<string, unknown>) => Object.values(value).some((field) => field !== undefined)

/** Changes name and connection fields; new credentials (both keys) rotate them. Provider and bucket name stay. */
export const updateBucketSchema = z.object(updateShape).refine(somethingToChange, {
  message: 'Send at least one of name, region, endpoint, forcePathStyle, or accessKeyId with secretAccessKey',
})

export const updateBucketFormSchema = z.object({ ...updateShape, forcePathStyle: formBoolean })

/** The dashboard's rotation form: both keys, nothing else. */
export const rotateCredentialsFormSchema = z.object({
  accessKeyId: z.string({ error: 'Access key id is required' }).trim().min(1, 'Access key id is required').max(256),
  secretAccessKey: z.string({ error: 'Secret access key is required' }).min(1, 'Secret access key is required').max(512),
})

export const shareAccessSchema = z.enum(BUCKET_ACCESS_LEVELS, { error: 'Choose an access level: READ_ONLY, READ_WRITE or ADMIN' })

export const shareBucketSchema = z.object({ teamId: teamIdSchema, access: shareAccessSchema })
export const updateShareSchema = z.object({ access: shareAccessSchema })

export type CreateBucketInput = z.output<typeof createBucketSchema>
export type UpdateBucketInput = Partial<z.output<typeof updateBucketFormSchema>>

/** The project settings form that picks the project's bucket. */
export const projectBucketFormSchema = z.object({
  bucketId: z.string({ error: 'Choose a bucket' }).min(1, 'Choose a bucket').max(64, 'Choose a bucket'),
})
