import { z } from 'zod'
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { IntentForm, SelectField, SubmitButton, TextField, useIntentForm } from '~/components/forms'
import { Card, EmptyState } from '~/components/layout'
import { hasPermission } from '~/services/api-keys/permissions'
import { DASHBOARD_PAGE } from '~/services/pagination'
import { publicBaseUrl } from '~/services/buckets/bucket-storage.server'
import { listFiles } from '~/services/files/files.server'
import { canonicalQuery, FITS, FORMATS, type Fit, type RequestedFormat, type TransformParams } from '~/services/transforms/params'
import { DateTime } from '~/components/date-time'
import { formatDuration } from '~/utils/dates'
import { createPreset, deletePreset, getPreset, listPresets, updatePreset } from '~/services/transforms/presets.server'
import {
  presetFormSchema,
  presetIdFormSchema,
  transformParamsObjectSchema,
  transformSettingsFormSchema,
  urlBuilderSchema,
} from '~/services/transforms/schemas'
import { getTransformSettings, updateTransformSettings } from '~/services/transforms/settings.server'
import { signTransformUrl } from '~/services/transforms/sign-url.server'
import { listSigningSecrets, rotateSigningSecret } from '~/services/transforms/signing.server'
import { AppError, notFound } from '~/utils/errors.server'
import { redirectWithFlash } from '~/utils/flash.server'
import { handleForm, orRouteError } from '~/utils/route-errors.server'
import { requireUser } from '~/services/accounts/session-cookie.server'
import { projectPath } from '~/utils/paths'
import { projectFromParams } from '~/services/workspaces/workspace-params.server'
import type { UserActor } from '~/services/actor'

const BUILDER_FIELDS = ['path', 'preset', 'w', 'h', 'fit', 'format', 'quality', 'expiresIn'] as const

/** The URL builder: a GET form, so its answer (the signed URL and the image) renders without JavaScript. */
async function buildUrl(actor: UserActor, projectId: string, search: URLSearchParams, baseUrl: string) {
  const values = Object.fromEntries(BUILDER_FIELDS.map((name) => [name, search.get(name) ?? '']))
  if (!values.path) return { values, result: null }
  const filled = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''))
  const form = urlBuilderSchema.safeParse(filled)
  if (!form.success)
    return { values, result: { error: form.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join(' ') } }
  const { path, expiresIn, ...raw } = form.data
  const params = transformParamsObjectSchema({ allowPreset: true }).safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  )
  if (!params.success) return { values, result: { error: params.error.issues.map((issue) => issue.message).join(' ') } }
  try {
    const signed = await signTransformUrl(actor, projectId, { path, params: params.data, expiresIn }, baseUrl)
    return {
      values,
      result: {
        url: signed.url,
        expiresAt: signed.expiresAt.toISOString(),
        validFor: expiresIn,
        applied: canonicalQuery(params.data as TransformParams),
      },
    }
  } catch (error) {
    if (error instanceof AppError && error.code !== 'NOT_FOUND') return { values, result: { error: error.message } }
    throw error
  }
}

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { project, permissions } = await projectFromParams(actor, params)
  const [presets, settings, secrets, images] = await Promise.all([
    orRouteError(listPresets(actor, project.id, { ...DASHBOARD_PAGE, limit: 100 })),
    orRouteError(getTransformSettings(actor, project.id)),
    orRouteError(listSigningSecrets(actor, project.id)),
    // The builder offers the project's images by path; typing any other path works too.
    hasPermission(permissions, 'files:read') ? orRouteError(listFiles(actor, project.id, { contentType: 'image/*' }, { limit: 100 })) : null,
  ])
  const builder = await buildUrl(actor, project.id, new URL(request.url).searchParams, publicBaseUrl(request))
  return {
    presets: presets.items.map((preset) => ({ id: preset.id, name: preset.name, params: canonicalQuery(preset.params as TransformParams) })),
    settings,
    secrets: secrets.map((secret) => ({ id: secret.id, createdAt: secret.createdAt.toISOString() })),
    builder,
    imagePaths: images?.items.map((file) => file.path) ?? [],
    can: {
      write: hasPermission(permissions, 'transforms:write'),
      delete: hasPermission(permissions, 'transforms:delete'),
      settings: hasPermission(permissions, 'projects:write'),
      rotate: hasPermission(permissions, 'admin'),
      sign: hasPermission(permissions, 'transforms:execute'),
    },
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { actor } = await requireUser(request, context)
  const { organization, team, project } = await projectFromParams(actor, params)
  const formData = await request.formData()
  const intent = String(formData.get('intent'))
  const here = `${projectPath(organization, team, project)}/transforms`
  // Only this project's presets are changed from its page.
  const ownPreset = async (presetId: string) => {
    if ((await getPreset(actor, presetId)).projectId !== project.id) throw notFound('Transform preset')
  }
  switch (intent.split(':')[0]) {
    case 'create-preset':
      return handleForm(formData, intent, presetFormSchema, async (input) => {
        const preset = await createPreset(actor, project.id, input)
        return redirectWithFlash(here, { kind: 'success', message: `Preset ${preset.name} created.` })
      })
    case 'update-preset':
      return handleForm(formData, intent, presetFormSchema.extend(presetIdFormSchema.shape), async ({ presetId, ...input }) => {
        await ownPreset(presetId)
        const preset = await updatePreset(actor, presetId, input)
        return redirectWithFlash(here, { kind: 'success', message: `Preset ${preset.name} saved.` })
      })
    case 'delete-preset':
      return handleForm(formData, intent, presetIdFormSchema, async ({ presetId }) => {
        await ownPreset(presetId)
        await deletePreset(actor, presetId)
        return redirectWithFlash(here, { kind: 'success', message: 'Preset deleted.' })
      })
    case 'settings':
      return handleForm(formData, intent, transformSettingsFormSchema, async (input) => {
        await updateTransformSettings(actor, project.id, input)
        return redirectWithFlash(here, { kind: 'success', message: 'Transform settings saved.' })
      })
    case 'rotate':
      return handleForm(formData, intent, z.object({}), async () => {
        await rotateSigningSecret(actor, project.id)
        return redirectWithFlash(here, {
          kind: 'success',
          message: 'Signing secret rotated. URLs signed with the previous secret keep working; older ones stop.',
        })
      })
    default:
      throw redirect(here)
  }
}

export default function ProjectTransforms() {
  const { presets, settings, secrets, builder, imagePaths, can } = useLoaderData<typeof loader>()
  return (
    <div className="space-y-6">
      <UrlBuilder
        values={builder.values}
        result={builder.result}
        presets={presets.map((p) => p.name)}
        imagePaths={imagePaths}
        canSign={can.sign}
      />
      <Card title="Presets">
        <p className="mb-3 text-sm text-slate-600">
          Named parameter sets: a URL with <code>?preset=name</code> gets these parameters (its own ones on top, unless the project accepts
          presets only).
        </p>
        {presets.length === 0 ? (
          <EmptyState>No presets yet.</EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {presets.map((preset) => (
              <PresetRow key={`${preset.id}:${preset.name}:${preset.params}`} preset={preset} canWrite={can.write} canDelete={can.delete} />
            ))}
          </ul>
        )}
      </Card>
      <CreatePresetForm key={presets.map((p) => p.id).join()} canWrite={can.write} />
      <SettingsForm key={JSON.stringify(settings)} settings={settings} canEdit={can.settings} />
      <SecretsCard secrets={secrets} canRotate={can.rotate} />
    </div>
  )
}

function UrlBuilder({
  values,
  result,
  presets,
  imagePaths,
  canSign,
}: {
  imagePaths: string[]
  values: Record<string, string>
  result: { url: string; expiresAt: string; validFor: number; applied: string } | { error: string } | null
  presets: string[]
  canSign: boolean
}) {
  const input = 'mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm'
  const field = (name: string, label: string, hint?: string) => (
    <div>
      <label htmlFor={`builder-${name}`} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={`builder-${name}`}
        name={name}
        defaultValue={values[name]}
        list={name === 'path' ? 'builder-image-paths' : undefined}
        className={input}
        aria-describedby={hint ? `builder-${name}-hint` : undefined}
      />
      {hint ? (
        <p id={`builder-${name}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
    </div>
  )
  const choice = (name: string, label: string, options: { value: string; label: string }[]) => (
    <div>
      <label htmlFor={`builder-${name}`} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <select id={`builder-${name}`} name={name} defaultValue={values[name]} className={input}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  )
  return (
    <Card title="URL builder">
      {canSign ? null : <p className="mb-2 text-sm text-slate-600">Your role cannot sign transform URLs in this project.</p>}
      {imagePaths.length > 0 ? (
        <nav aria-label="Images in this project" className="mb-4 text-sm">
          <span className="text-slate-600">Images in this project: </span>
          {imagePaths.slice(0, 20).map((path) => (
            <Link key={path} to={`?path=${encodeURIComponent(path)}`} className="mr-3">
              {path}
            </Link>
          ))}
        </nav>
      ) : null}
      {/* Keyed by the values: after a navigation the fields show what the URL holds. */}
      <Form key={JSON.stringify(values)} method="get" className="grid gap-4 sm:grid-cols-2">
        {field('path', 'File path', "The file's path in this project, e.g. avatars/me.jpg")}
        <datalist id="builder-image-paths">
          {imagePaths.map((path) => (
            <option key={path} value={path} />
          ))}
        </datalist>
        <div>
          <label htmlFor="builder-preset" className="block text-sm font-medium text-slate-700">
            Preset
          </label>
          <select id="builder-preset" name="preset" defaultValue={values.preset} className={input}>
            <option value="">None</option>
            {presets.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        {field('w', 'Width (w)')}
        {field('h', 'Height (h)')}
        {choice('fit', 'Fit', [{ value: '', label: 'Default (cover when both sides are set)' }, ...FIT_CHOICES])}
        {choice('format', 'Format', [{ value: '', label: "The source's format" }, ...FORMAT_CHOICES])}
        {field('quality', 'Quality', '1 to 100')}
        {field('expiresIn', 'Expires in (seconds)', '60 to 31536000; default 3600')}
        <div className="sm:col-span-2">
          <button type="submit" className="inline-flex items-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white">
            Build signed URL
          </button>
        </div>
      </Form>
      {result && 'error' in result ? (
        <p role="alert" className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {result.error}
        </p>
      ) : null}
      {result && 'url' in result ? (
        <div className="mt-4 space-y-2">
          <label htmlFor="signed-url" className="block text-sm font-medium text-slate-700">
            Signed URL
          </label>
          <textarea
            id="signed-url"
            readOnly
            rows={3}
            value={result.url}
            aria-describedby="signed-url-validity"
            className={`${input} font-mono text-xs`}
          />
          <p id="signed-url-validity" className="text-sm text-slate-600">
            Valid for {formatDuration(result.validFor)}, until <DateTime value={result.expiresAt} />.
          </p>
          <figure className="space-y-1">
            <img src={result.url} alt="Transformed result" className="max-w-full rounded border border-slate-200" />
            <figcaption className="text-sm text-slate-600">
              <code>{values.path}</code>{' '}
              {result.applied ? (
                <>
                  with <code>{result.applied}</code>
                </>
              ) : (
                'unchanged'
              )}
            </figcaption>
          </figure>
        </div>
      ) : null}
    </Card>
  )
}

// Every valid choice, in words (a Record, so a new fit or format cannot be left out).
const FIT_LABELS: Record<Fit, string> = {
  cover: 'cover: fill the box, cropping the overflow',
  contain: 'contain: the whole image inside the box, letterboxed',
  fill: 'fill: stretch to the box',
  inside: 'inside: shrink to fit within the box',
  outside: 'outside: shrink until the box is covered',
}
const FORMAT_LABELS: Record<RequestedFormat, string> = {
  auto: 'auto: the best the browser accepts',
  webp: 'WebP',
  avif: 'AVIF',
  jpeg: 'JPEG',
  png: 'PNG',
}
const FIT_CHOICES = FITS.map((value) => ({ value, label: FIT_LABELS[value] }))
const FORMAT_CHOICES = FORMATS.map((value) => ({ value, label: FORMAT_LABELS[value] }))

function PresetRow({
  preset,
  canWrite,
  canDelete,
}: {
  preset: { id: string; name: string; params: string }
  canWrite: boolean
  canDelete: boolean
}) {
  const [form, fields] = useIntentForm(`update-preset:${preset.id}`, presetFormSchema, { name: preset.name, params: preset.params })
  return (
    <li className="space-y-2 py-3">
      <IntentForm form={form} intent={`update-preset:${preset.id}`} className="grid items-end gap-3 sm:grid-cols-3">
        <input type="hidden" name="presetId" value={preset.id} />
        <TextField label={`Name of preset ${preset.name}`} field={fields.name} />
        <TextField label={`Parameters of preset ${preset.name}`} field={fields.params} />
        {canWrite ? <SubmitButton variant="secondary">Save preset {preset.name}</SubmitButton> : null}
      </IntentForm>
      {canDelete ? (
        <Form method="post">
          <input type="hidden" name="intent" value={`delete-preset:${preset.id}`} />
          <input type="hidden" name="presetId" value={preset.id} />
          <SubmitButton variant="danger">Delete preset {preset.name}</SubmitButton>
        </Form>
      ) : null}
    </li>
  )
}

function CreatePresetForm({ canWrite }: { canWrite: boolean }) {
  const [form, fields] = useIntentForm('create-preset', presetFormSchema)
  return (
    <Card title="Create a preset">
      <IntentForm form={form} intent="create-preset">
        {canWrite ? null : <p className="text-sm text-slate-600">Your role cannot create presets in this project.</p>}
        <TextField label="Preset name" field={fields.name} hint="Lower-case letters, digits, - and _, e.g. thumbnail." />
        <TextField label="Parameters" field={fields.params} hint="As in a URL: w=300&h=300&fit=cover&format=webp" />
        <SubmitButton>Create preset</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function SettingsForm({ settings, canEdit }: { settings: { access: string; presetsOnly: boolean; allowAnimated: boolean }; canEdit: boolean }) {
  const [form, fields] = useIntentForm('settings', transformSettingsFormSchema, {
    access: settings.access,
    presetsOnly: settings.presetsOnly ? 'on' : '',
    allowAnimated: settings.allowAnimated ? 'on' : '',
  })
  return (
    <Card title="Access">
      <IntentForm form={form} intent="settings">
        {canEdit ? null : <p className="text-sm text-slate-600">Your role cannot change these settings.</p>}
        <SelectField
          label="Who may request transforms"
          field={fields.access}
          options={[
            { value: 'signed', label: 'Signed URLs only (and API credentials)' },
            { value: 'public', label: 'Also unsigned URLs of public files' },
          ]}
        />
        <Checkbox name={fields.presetsOnly.name} id={fields.presetsOnly.id} defaultChecked={settings.presetsOnly} label="Accept presets only" />
        <Checkbox
          name={fields.allowAnimated.name}
          id={fields.allowAnimated.id}
          defaultChecked={settings.allowAnimated}
          label="Keep every frame of animated images"
        />
        <SubmitButton>Save access settings</SubmitButton>
      </IntentForm>
    </Card>
  )
}

function Checkbox({ name, id, label, defaultChecked }: { name: string; id: string; label: string; defaultChecked: boolean }) {
  return (
    <div className="flex items-center gap-2">
      <input type="checkbox" id={id} name={name} defaultChecked={defaultChecked} className="h-4 w-4 rounded border-slate-300" />
      <label htmlFor={id} className="text-sm text-slate-800">
        {label}
      </label>
    </div>
  )
}

function SecretsCard({ secrets, canRotate }: { secrets: { id: string; createdAt: string }[]; canRotate: boolean }) {
  return (
    <Card title="Signing secret">
      <p className="mb-3 text-sm text-slate-600">
        {secrets.length === 0 ? (
          'No secret yet: one is made when the first URL is signed.'
        ) : (
          <>
            {`${secrets.length} active secret${secrets.length > 1 ? 's' : ''}, the newest made `}
            <DateTime value={secrets[0]!.createdAt} relative />. Rotating keeps the newest valid and revokes the older one.
          </>
        )}
      </p>
      {canRotate ? (
        <Form method="post">
          <input type="hidden" name="intent" value="rotate" />
          <SubmitButton variant="secondary">Rotate signing secret</SubmitButton>
        </Form>
      ) : (
        <p className="text-sm text-slate-600">Only admins can rotate the signing secret.</p>
      )}
    </Card>
  )
}
