import { data } from '@remix-run/node'
import { parseWithZod } from '@conform-to/zod/v4'
import type { SubmissionResult } from '@conform-to/react'
import type { z } from 'zod'
import { errorHeaders, toAppError } from './errors.server'
import { unstorableText } from './input-guards'

/**
 * Turns a service error into the response a route throws: its status and message, nothing
 * internal. Anything else is rethrown unchanged (and becomes a plain 500).
 */
export function asRouteError(error: unknown): unknown {
  const known = toAppError(error)
  if (known) return data({ message: known.message, code: known.code }, { status: known.status, headers: errorHeaders(known) })
  return error
}

/** Runs a lookup whose refusal (404, 403) is the page's answer, e.g. resolving URL segments. */
export async function orRouteError<T>(lookup: Promise<T>): Promise<T> {
  try {
    return await lookup
  } catch (error) {
    throw asRouteError(error)
  }
}

/** Fields never sent back to the browser in a form's reply (bucket secret keys included). */
const SECRET_FIELDS = ['password', 'currentPassword', 'newPassword', 'confirmPassword', 'secretAccessKey']

export interface FormReply {
  intent: string
  result: SubmissionResult<string[]>
}

/**
 * The one way a dashboard form is handled: parse with the form's zod schema (400 with per-field
 * messages), run the service, and answer a service refusal (403, 409, 429...) as a form error.
 * "Not found" is not a form error: it propagates and the page answers 404.
 */
export async function handleForm<Schema extends z.ZodType>(
  formData: FormData,
  intent: string,
  schema: Schema,
  /** A redirect (or other Response), or data the page renders (a preview). */
  onValid: (value: z.output<Schema>) => Promise<Response | ReturnType<typeof data>>,
) {
  for (const [name, value] of formData) {
    const problem = typeof value === 'string' ? unstorableText(value) : null
    // Refused as the schema's own errors are: a 400 beside the field, nothing stored.
    if (problem) {
      const submission = parseWithZod(formData, { schema })
      return data<FormReply>(
        { intent, result: submission.reply({ fieldErrors: { [name]: [`This field ${problem}.`] }, hideFields: SECRET_FIELDS }) },
        { status: 400 },
      )
    }
  }
  const submission = parseWithZod(formData, { schema })
  if (submission.status !== 'success') {
    return data<FormReply>({ intent, result: submission.reply({ hideFields: SECRET_FIELDS }) }, { status: 400 })
  }
  try {
    return await onValid(submission.value)
  } catch (error) {
    // The same mapping as the API's (a bucket's failure is 502 on both), shown beside the form.
    const known = toAppError(error)
    if (!known || known.code === 'NOT_FOUND') throw asRouteError(error)
    const fieldErrors = known.details.fieldErrors
    return data<FormReply>(
      {
        intent,
        result: submission.reply({
          formErrors: fieldErrors ? undefined : [known.message],
          fieldErrors,
          hideFields: SECRET_FIELDS,
        }),
      },
      { status: known.status, headers: errorHeaders(known) },
    )
  }
}
