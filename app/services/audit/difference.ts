import type { Prisma } from '~/generated/prisma/client'

type JsonValue = Prisma.JsonValue

export interface DifferenceRow {
  /** The field, with nested fields as `a.b`. */
  field: string
  before: string | null
  after: string | null
  change: 'added' | 'removed' | 'changed' | 'unchanged'
}

const isObject = (value: unknown): value is Record<string, JsonValue> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Objects flattened one field per row (`a.b`); arrays and scalars are shown whole. */
function flatten(value: JsonValue | null | undefined, prefix = '', into = new Map<string, string>()) {
  if (value === null || value === undefined) return into
  if (!isObject(value)) {
    into.set(prefix || 'value', JSON.stringify(value))
    return into
  }
  for (const [key, inner] of Object.entries(value)) {
    const field = prefix ? `${prefix}.${key}` : key
    if (isObject(inner) && Object.keys(inner).length > 0) flatten(inner, field, into)
    else into.set(field, JSON.stringify(inner))
  }
  return into
}

/**
 * An entry's before and after state as rows a person can read: every field of either side with
 * its old and new value and what happened to it (a word, not only a colour).
 */
export function auditDifference(before: JsonValue | null | undefined, after: JsonValue | null | undefined): DifferenceRow[] {
  const old = flatten(before)
  const next = flatten(after)
  const fields = [...new Set([...old.keys(), ...next.keys()])]
  return fields.map((field) => {
    const a = old.get(field) ?? null
    const b = next.get(field) ?? null
    const change = a === null ? 'added' : b === null ? 'removed' : a === b ? 'unchanged' : 'changed'
    return { field, before: a, after: b, change }
  })
}
