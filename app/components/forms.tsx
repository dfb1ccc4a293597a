import {
  getCollectionProps,
  getFormProps,
  getInputProps,
  getSelectProps,
  getTextareaProps,
  useForm,
  type FieldMetadata,
  type FormMetadata,
} from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useNavigation } from '@remix-run/react'
import { useId, type ReactNode } from 'react'
import type { z } from 'zod'
import type { FormReply } from '~/utils/route-errors.server'

/**
 * A Conform form bound to one `intent` of the page's action. The same zod schema validates in the
 * browser (when JavaScript runs) and on the server, whose per-field messages render without it.
 */
export function useIntentForm<Schema extends z.ZodType>(
  intent: string,
  schema: Schema,
  defaultValue?: Partial<Record<keyof z.input<Schema>, string>>,
) {
  const actionData = useActionData<FormReply>()
  return useForm<z.input<Schema> & Record<string, unknown>, z.output<Schema> & Record<string, unknown>>({
    id: intent,
    lastResult: actionData && 'intent' in actionData && actionData.intent === intent ? actionData.result : undefined,
    defaultValue: defaultValue as never,
    onValidate: ({ formData }) => parseWithZod(formData, { schema }) as never,
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
  })
}

export const inputClass =
  'mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500 aria-[invalid=true]:border-red-500'

export function ErrorList({ id, errors }: { id?: string; errors?: string[] }) {
  if (!errors?.length) return null
  return (
    <ul id={id} className="mt-1 space-y-0.5 text-sm text-red-700">
      {errors.map((error) => (
        <li key={error}>{error}</li>
      ))}
    </ul>
  )
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any form's field
type AnyField = FieldMetadata<string | number | undefined, any, string[]>

/** A field's label above its control, an optional hint, and the field's messages below. */
function FieldShell({
  label,
  field,
  hintId,
  hint,
  children,
}: {
  label: string
  field: AnyField
  hintId?: string
  hint?: string
  children: ReactNode
}) {
  return (
    <div>
      <label htmlFor={field.id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
      {hint ? (
        <p id={hintId} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      <ErrorList id={field.errorId} errors={field.errors} />
    </div>
  )
}

/** The control's `aria-describedby`: Conform's error id (when invalid) and the hint. */
const describedBy = (conformIds: string | undefined, hintId: string | undefined) => [conformIds, hintId].filter(Boolean).join(' ') || undefined

export function TextField({
  label,
  field,
  type = 'text',
  hint,
  autoComplete,
  placeholder,
}: {
  label: string
  field: AnyField
  type?: 'text' | 'email' | 'password' | 'date' | 'datetime-local' | 'number'
  hint?: string
  autoComplete?: string
  placeholder?: string
}) {
  const { key, ...props } = getInputProps(field, { type })
  const hintId = hint ? `${field.id}-hint` : undefined
  return (
    <FieldShell label={label} field={field} hint={hint} hintId={hintId}>
      <input
        key={key}
        {...props}
        autoComplete={autoComplete}
        placeholder={placeholder}
        aria-describedby={describedBy(props['aria-describedby'], hintId)}
        className={inputClass}
      />
    </FieldShell>
  )
}

export function TextAreaField({ label, field, hint, rows = 3 }: { label: string; field: AnyField; hint?: string; rows?: number }) {
  const { key, ...props } = getTextareaProps(field)
  const hintId = hint ? `${field.id}-hint` : undefined
  return (
    <FieldShell label={label} field={field} hint={hint} hintId={hintId}>
      <textarea key={key} {...props} rows={rows} aria-describedby={describedBy(props['aria-describedby'], hintId)} className={inputClass} />
    </FieldShell>
  )
}

export function SelectField({ label, field, options }: { label: string; field: AnyField; options: { value: string; label: string }[] }) {
  const { key, ...props } = getSelectProps(field)
  return (
    <FieldShell label={label} field={field}>
      <select key={key} {...props} className={inputClass}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </FieldShell>
  )
}

/**
 * A repeated field as checkboxes (each posts the field's name with its value), in a fieldset whose
 * legend names the group. Disabled options are shown but never posted.
 */
export function CheckboxGroupField({
  legend,
  field,
  options,
}: {
  legend: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any form's repeated field
  field: FieldMetadata<string[] | undefined, any, string[]>
  options: { value: string; label: string; description?: string; disabled?: boolean }[]
}) {
  const boxes = getCollectionProps(field, { type: 'checkbox', options: options.map((option) => option.value) })
  return (
    <fieldset aria-describedby={field.errors?.length ? field.errorId : undefined}>
      <legend className="text-sm font-medium text-slate-700">{legend}</legend>
      <ul className="mt-2 grid gap-2 sm:grid-cols-2">
        {boxes.map(({ key, ...props }, index) => {
          const option = options[index]
          return (
            <li key={key} className="flex items-start gap-2">
              <input {...props} disabled={option?.disabled} className="mt-1 h-4 w-4 rounded border-slate-300 text-indigo-600" />
              <label htmlFor={props.id} className={`text-sm ${option?.disabled ? 'text-slate-400' : 'text-slate-800'}`}>
                <code className="font-semibold">{option?.label}</code>
                {option?.description ? <span className="block text-xs text-slate-500">{option.description}</span> : null}
              </label>
            </li>
          )
        })}
      </ul>
      <ErrorList id={field.errorId} errors={field.errors} />
    </fieldset>
  )
}

/** A "yes, I mean it" checkbox that a destructive form requires, with its error tied to it. */
export function ConfirmCheckbox({ field, children }: { field: { name: string; errors?: string[]; errorId: string }; children: ReactNode }) {
  const id = useId()
  const invalid = Boolean(field.errors?.length)
  return (
    <>
      <div className="flex items-start gap-2">
        <input
          id={id}
          type="checkbox"
          name={field.name}
          value="on"
          aria-invalid={invalid ? true : undefined}
          aria-describedby={invalid ? field.errorId : undefined}
          className="mt-1 h-4 w-4 rounded border-slate-300"
        />
        <label htmlFor={id} className="text-sm text-slate-800">
          {children}
        </label>
      </div>
      <ErrorList id={field.errorId} errors={field.errors} />
    </>
  )
}

/** A POST form for one intent, with its form-level errors shown above the fields. */
export function IntentForm<Fields extends Record<string, unknown>>({
  form,
  intent,
  children,
  className = 'space-y-4',
  action,
}: {
  form: FormMetadata<Fields, string[]>
  intent: string
  children: ReactNode
  className?: string
  action?: string
}) {
  const actionData = useActionData<FormReply>()
  // The server refused fields of this form (the page that comes back without JavaScript): say so where it is announced.
  const refusedFields =
    actionData && 'intent' in actionData && actionData.intent === intent
      ? Object.entries(actionData.result.error ?? {}).filter(([name, errors]) => name !== '' && errors?.length).length
      : 0
  return (
    <Form method="post" action={action} {...getFormProps(form)} className={className}>
      <input type="hidden" name="intent" value={intent} />
      {form.errors?.length || refusedFields > 0 ? (
        <div id={form.errorId} role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {form.errors?.map((error) => (
            <p key={error}>{error}</p>
          ))}
          {refusedFields > 0 ? (
            <p>
              {refusedFields === 1
                ? 'Nothing was changed: one field below needs attention.'
                : `Nothing was changed: ${refusedFields} fields below need attention.`}
            </p>
          ) : null}
        </div>
      ) : null}
      {children}
    </Form>
  )
}

export function SubmitButton({
  children,
  variant = 'primary',
  name,
  value,
}: {
  children: ReactNode
  variant?: 'primary' | 'secondary' | 'danger'
  name?: string
  value?: string
}) {
  const navigation = useNavigation()
  const busy = navigation.state === 'submitting'
  const styles = {
    primary: 'bg-indigo-600 text-white hover:bg-indigo-700 focus-visible:outline-indigo-600',
    secondary: 'border border-slate-300 bg-white text-slate-800 hover:bg-slate-50',
    danger: 'bg-red-600 text-white hover:bg-red-700 focus-visible:outline-red-600',
  }[variant]
  return (
    <button
      type="submit"
      name={name}
      value={value}
      aria-disabled={busy || undefined}
      className={`inline-flex items-center rounded-md px-3 py-2 text-sm font-semibold shadow-sm ${styles}`}
    >
      {children}
    </button>
  )
}
