import type { UploadRules } from '~/services/settings/schemas'

export const DEFAULT_UPLOAD_RULES: UploadRules = { allowedContentTypes: [], maxFileSize: null }

/** Whether a (lowercased, parameter-free) content type matches the project's list; an empty list accepts any. */
export function contentTypeAllowed(rules: UploadRules, contentType: string): boolean {
  if (rules.allowedContentTypes.length === 0) return true
  return rules.allowedContentTypes.some((pattern) =>
    pattern.endsWith('/*') ? contentType.startsWith(pattern.slice(0, -1)) : pattern === contentType,
  )
}

/** The largest file one upload may carry: the project's own limit within the server's. */
export function effectiveMaxBytes(rules: UploadRules, limits: { uploadMaxBytes: number; streamedMaxBytes?: number }): number {
  return Math.min(rules.maxFileSize ?? Number.POSITIVE_INFINITY, limits.uploadMaxBytes, limits.streamedMaxBytes ?? Number.POSITIVE_INFINITY)
}

/** Why an upload breaks the rules, or null. The messages say what was wrong and what is allowed. */
export function ruleViolation(
  rules: UploadRules,
  maxBytes: number,
  upload: { contentType: string; size: number },
): { kind: 'type' | 'size'; message: string } | null {
  if (!contentTypeAllowed(rules, upload.contentType)) {
    return {
      kind: 'type',
      message: `This project does not accept ${upload.contentType} files; allowed: ${rules.allowedContentTypes.join(', ')}.`,
    }
  }
  if (upload.size > maxBytes) {
    return { kind: 'size', message: `The file is ${upload.size} bytes; this project accepts at most ${maxBytes} bytes per file.` }
  }
  return null
}
