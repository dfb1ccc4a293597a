/**
 * Runs s3rver, the S3 stand-in, in its own process (it needs --openssl-legacy-provider for listings)
 * and prints `S3RVER_READY <port>` once it listens. Started by `npm test` and the storage benchmarks.
 * Usage: tsx tests/support/s3rver-process.ts <directory> [port]
 *
 * s3rver 3.7 stores multipart parts but answers AbortMultipartUpload and ListParts with 405; both are
 * added here, after S3's API (the parts live in s3rver's own upload folder), so tests can check that
 * Carcosa aborts what it leaves unfinished and that no part lingers in the bucket.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import S3rver from 's3rver'

const [directory, port = '0'] = process.argv.slice(2)
if (!directory) throw new Error('usage: s3rver-process.ts <directory> [port]')

const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory, resetOnClose: true })

interface MultipartContext {
  method: string
  path: string
  query: Record<string, string | string[] | undefined>
  status: number
  body: unknown
}
type Next = () => Promise<unknown>

const noSuchUpload = (ctx: MultipartContext, uploadId: string) => {
  ctx.status = 404
  ctx.body = { Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.', UploadId: uploadId } }
}

/** DELETE /bucket/key?uploadId= (AbortMultipartUpload) and GET /bucket/key?uploadId= (ListParts). */
async function multipartExtras(ctx: MultipartContext, next: Next) {
  const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : null
  const [, bucket, ...keyParts] = ctx.path.split('/')
  if (!uploadId || !bucket || keyParts.length === 0 || (ctx.method !== 'DELETE' && ctx.method !== 'GET')) return next()
  if (!/^[0-9a-f]+$/.test(uploadId)) return noSuchUpload(ctx, uploadId)
  const uploadDir = path.join(directory!, bucket, '._S3rver_uploads', uploadId)
  const exists = await fs.stat(uploadDir).then(
    () => true,
    () => false,
  )
  if (!exists) return noSuchUpload(ctx, uploadId)
  if (ctx.method === 'DELETE') {
    await fs.rm(uploadDir, { recursive: true, force: true })
    ctx.status = 204
    return
  }
  const names = (await fs.readdir(uploadDir)).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b))
  const parts = await Promise.all(
    names.map(async (name) => ({
      PartNumber: Number(name),
      ETag: `"${(await fs.readFile(path.join(uploadDir, `${name}.md5`), 'utf8')).trim()}"`,
      Size: (await fs.stat(path.join(uploadDir, name))).size,
    })),
  )
  ctx.body = { ListPartsResult: { Bucket: bucket, Key: decodeURIComponent(keyParts.join('/')), UploadId: uploadId, Part: parts } }
}

// Before s3rver's routes (the last middleware), after its XML encoder, so a plain object becomes XML.
const koa = server as unknown as { middleware: unknown[] }
koa.middleware.splice(koa.middleware.length - 1, 0, multipartExtras)

const { port: listening } = (await server.run()) as { port: number }
console.log(`S3RVER_READY ${listening}`)

const stop = () => {
  server.close().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The parent's death closes stdin: never outlive it.
process.stdin.on('end', stop)
process.stdin.resume()
