import { CarcosaApi, type CarcosaApiOptions, type FileFilters } from './api.js'
import type { UploadSource } from './sources.js'
import type { CarcosaFile, CompletedPart, Page, PageOptions, Tenant, TransformParams } from './types.js'

/**
 * The seed SDK's client, on the same machinery as CarcosaApi, for code written against it.
 * `initUpload` answers a signed PUT (`method: 'PUT'`, send the bytes to `uploadUrl` with
 * `headers`) or a multipart upload; `fields` is always empty (Carcosa signs PUTs, not POST forms).
 */
export class CarcosaClient {
  readonly api: CarcosaApi

  constructor(options: CarcosaApiOptions) {
    this.api = new CarcosaApi(options)
  }

  async initUpload(input: {
    projectId?: string
    tenantId?: string
    fileName: string
    fileSize: number
    contentType: string
    multipart?: boolean
  }) {
    const started = await this.api.initUpload({
      projectId: input.projectId,
      tenantId: input.tenantId,
      fileName: input.fileName,
      size: input.fileSize,
      contentType: input.contentType,
      multipart: input.multipart,
    })
    return started.method === 'PUT'
      ? { ...started, uploadUrl: started.url, fields: {} as Record<string, string> }
      : { ...started, uploadUrl: null, fields: {} as Record<string, string> }
  }

  async completeUpload(input: { uploadId: string; projectId?: string; parts?: CompletedPart[] }): Promise<{ file: CarcosaFile }> {
    const { file } = await this.api.completeUpload(input.uploadId, input.parts)
    return { file }
  }

  /** init, PUT (or parts), complete; throws on failure. */
  async uploadFile(file: UploadSource, options: { tenantId?: string } = {}): Promise<CarcosaFile> {
    const result = await this.api.uploadFiles(file, options)
    if (result.error) throw result.error
    return result.data
  }

  listFiles(options: PageOptions & FileFilters & { projectId?: string } = {}): Promise<Page<CarcosaFile>> {
    return this.api.request('GET', '/api/v1/files', { query: { ...options } })
  }

  async deleteFile(id: string): Promise<void> {
    await this.api.request('DELETE', `/api/v1/files/${encodeURIComponent(id)}`)
  }

  getSignedImageUrl(path: string, params: TransformParams = {}, options: { expiresIn?: number } = {}): Promise<string> {
    return this.api.signImageUrl(path, params, options)
  }

  /** `identifier` is the tenant's slug (lower-case letters, digits, `-` and `_`). */
  createTenant(input: { projectId?: string; identifier: string; name: string; metadata?: Record<string, unknown> }): Promise<Tenant> {
    return this.api.request('POST', '/api/v1/tenants', {
      body: { projectId: input.projectId, slug: input.identifier, name: input.name, metadata: input.metadata },
    })
  }
}
