/** How deeply a JSON body may nest: real inputs need a handful of levels; deeper ones only exhaust stacks downstream. */
export const MAX_JSON_DEPTH = 32

/** NUL (PostgreSQL text cannot hold it) or a UTF-16 surrogate without its pair (not encodable as UTF-8). */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function unstorableText(text: string): string | null {
  const match = UNSTORABLE.exec(text)
  if (!match) return null
  return match[0] === '\u0000' ? 'must not contain NUL characters' : 'must not contain unpaired UTF-16 surrogates'
}

export interface InputProblem {
  /** Dotted path of the offending value (`metadata.tags.0`), or '' for the value itself. */
  path: string
  message: string
}

/**
 * The first value in a parsed input that no layer below may be handed: a string (or object key)
 * with NUL or an unpaired surrogate, or nesting deeper than `maxDepth`. Walked with an explicit
 * stack, so a hostile depth cannot overflow this check itself.
 */
export function findUnsafeInput(value: unknown, maxDepth = MAX_JSON_DEPTH): InputProblem | null {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }]
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!
    if (typeof current === 'string') {
      const message = unstorableText(current)
      if (message) return { path: path.join('.'), message }
      continue
    }
    if (typeof current !== 'object' || current === null) continue
    if (path.length >= maxDepth) return { path: path.join('.'), message: `nests deeper than ${maxDepth} levels` }
    for (const [key, child] of Object.entries(current)) {
      const keyProblem = unstorableText(key)
      if (keyProblem) return { path: [...path, key.replace(UNSTORABLE, '?')].join('.'), message: `has a key that ${keyProblem}` }
      stack.push({ value: child, path: [...path, key] })
    }
  }
  return null
}
