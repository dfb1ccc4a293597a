export {
  CarcosaApi,
  type CarcosaApiOptions,
  type CallbackClaim,
  type CompletedUpload,
  type FileFilters,
  type InitUploadOptions,
  type SignImageUrlOptions,
  type UploadOptions,
  type UploadResult,
} from './api.js'
export { CarcosaClient } from './compat.js'
export { memoryResumeStore, type ResumeState, type ResumeStore } from './client/resume-store.js'
export { CarcosaError, isCarcosaError, type CarcosaErrorCode, type CarcosaErrorOptions, type Problem } from './errors.js'
export type { CarcosaConnection, RetryOptions } from './http.js'
export { parseFileSize, formatFileSize, type FileSize, type SizeUnit } from './size.js'
export type { FileKind, FileRouteKey, MimeType } from './file-types.js'
export type { ByteStream, UploadSource } from './sources.js'
export type * from './types.js'
export { tenantFromHeader, tenantFromPath, tenantFromSubdomain } from './server/tenant.js'
