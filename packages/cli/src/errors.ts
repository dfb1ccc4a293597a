import { CarcosaError } from '@carcosa/sdk'

/** The command line itself is wrong (exit code 2): a bad option, a missing path, no login. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const

/** One line from an error: the problem's detail, its field errors, and the HTTP status. */
export function errorLine(error: unknown): string {
  if (error instanceof CarcosaError) {
    const fields = Object.entries(error.fieldErrors ?? {})
      .map(([name, messages]) => `${name}: ${messages.join(', ')}`)
      .join('; ')
    const status = error.status > 0 ? ` (HTTP ${error.status})` : ''
    return oneLine(`${error.message}${fields && !error.message.includes(fields) ? ` [${fields}]` : ''}${status}`)
  }
  return oneLine(error instanceof Error ? error.message : String(error))
}

const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ').trim()

/** The error as a JSON event (`--json`). */
export function errorEvent(error: unknown) {
  if (error instanceof CarcosaError)
    return { type: 'error', code: error.code, status: error.status, message: errorLine(error), fieldErrors: error.fieldErrors }
  if (error instanceof UsageError) return { type: 'error', code: 'USAGE', status: null, message: error.message }
  return { type: 'error', code: 'ERROR', status: null, message: errorLine(error) }
}
