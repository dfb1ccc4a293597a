/**
 * Uploads: a large file streamed through Carcosa into an S3 bucket against a direct PutObject of the
 * same bytes. (Starting a presigned upload, `POST /api/v1/uploads/init`, is measured against its
 * hand-written reference by bench:api, bench/api-list.bench.ts.)
 *
 *   npm run bench:uploads [-- --size-mib 1024 --rounds 2 --build --cpu-prof DIR]
 *
 * In one run it starts a throwaway embedded PostgreSQL, s3rver (the S3 stand-in, on a temporary
 * directory) and Carcosa (`node --import tsx server.ts`, NODE_ENV=production, private endpoints
 * allowed for s3rver on loopback); through the HTTP API it registers a user, creates an organization,
 * team and project, registers an s3rver bucket, gives it to the project, lifts the WRITE limit and
 * makes an API key with files:write. Then:
 * 1. Streamed upload, `--rounds` times, alternating: a direct PutObject of `--size-mib` MiB (the SDK
 *    streaming a generated body into s3rver), then the same bytes as `POST /api/v1/files/upload`
 *    (multipart/form-data over one socket). Throughput of each, the ratio Carcosa/direct (target
 *    >= 0.8), and Carcosa's RSS growth over its idle RSS while uploading (sampled every 20 ms from
 *    /proc; target < 64 MB). The stored object is read back and its SHA-256 compared.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MIB = 1024 * 1024
const TARGET_RATIO = 0.8
const TARGET_GROWTH_MB = 64
const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

interface Options {
  sizeMib: number
  rounds: number
  build: boolean
  /** Where Carcosa writes a V8 CPU profile on exit (`--cpu-prof DIR`). */
  cpuProfDir: string | null
}

function parseOptions(argv: string[]): Options {
  const options: Options = { sizeMib: 1024, rounds: 2, build: false, cpuProfDir: null }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      const n = Number(argv[++i])
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a whole number >= 1`)
      return n
    }
    if (flag === '--size-mib') options.sizeMib = value()
    else if (flag === '--rounds') options.rounds = value()
    else if (flag === '--build') options.build = true
    else if (flag === '--cpu-prof') options.cpuProfDir = path.resolve(argv[++i] ?? '.')
    else throw new Error(`unknown option ${flag}; see the comment at the top of bench/uploads.bench.ts`)
  }
  return options
}

const s3Client = (endpoint: string) =>
  new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })

// ---------------------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = []

async function main() {
  const options = parseOptions(process.argv.slice(2))
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)))
  try {
    await run(options)
  } catch (error) {
    console.error(`bench:uploads failed: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  } finally {
    await cleanup()
  }
  process.exit()
}

async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) await step().catch((error: unknown) => console.error(`cleanup: ${String(error)}`))
}

async function run(options: Options) {
  ensureBuild(options.build)
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-bench-uploads-'))
  await fs.chmod(tempDir, 0o755) // the embedded PostgreSQL runs as `postgres` when we are root
  cleanups.push(() => fs.rm(tempDir, { recursive: true, force: true }))

  const { startEmbeddedPostgres, findFreePort } = await import('../app/utils/embedded-postgres.server')
  const { startS3rver } = await import('../tests/support/start-s3rver')
  const database = await startEmbeddedPostgres({
    dataDir: path.join(tempDir, 'postgres'),
    password: randomBytes(16).toString('hex'),
    database: 'carcosa',
  })
  cleanups.push(() => database.stop())
  const s3rver = await startS3rver()
  cleanups.push(() => s3rver.stop())
  const s3 = s3Client(s3rver.endpoint)
  const bucketName = `bench-${randomBytes(4).toString('hex')}`
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }))

  const port = await findFreePort()
  const origin = `http://127.0.0.1:${port}`
  const profile = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []
  const carcosa = await startChild(
    'carcosa',
    [...profile, '--import', 'tsx', 'server.ts'],
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: path.join(tempDir, 'data'),
      DATABASE_URL: database.url,
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      CREDENTIALS_ENCRYPTION_KEY: `base64:${randomBytes(32).toString('base64')}`,
      STORAGE_ALLOW_PRIVATE_ENDPOINTS: 'true',
      STREAMED_UPLOAD_MAX_BYTES: String((options.sizeMib + 16) * MIB),
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
    },
    `${origin}/api/v1/health`,
  )
  const { key } = await prepareData(origin, { bucketName, endpoint: s3rver.endpoint })

  console.log(describeMachine())
  console.log(
    `Streamed upload: ${options.sizeMib} MiB, ${options.rounds} round(s), direct PutObject vs POST /api/v1/files/upload, both into s3rver\n`,
  )
  // One small upload each way first: module loading and JIT warm-up are not what is measured.
  await directPut(s3, bucketName, 8)
  await carcosaUpload(origin, key, 8, carcosa.pid as number, s3, bucketName)
  const direct: number[] = []
  const through: Array<{ seconds: number; growthMb: number }> = []
  for (let round = 1; round <= options.rounds; round++) {
    const directSeconds = await directPut(s3, bucketName, options.sizeMib)
    direct.push(directSeconds)
    console.log(
      `  round ${round}: direct PutObject   ${(options.sizeMib / directSeconds).toFixed(1).padStart(7)} MiB/s (${directSeconds.toFixed(2)} s)`,
    )
    const result = await carcosaUpload(origin, key, options.sizeMib, carcosa.pid as number, s3, bucketName)
    through.push(result)
    console.log(
      `  round ${round}: through Carcosa    ${(options.sizeMib / result.seconds).toFixed(1).padStart(7)} MiB/s (${result.seconds.toFixed(2)} s), ` +
        `RSS growth ${result.growthMb.toFixed(1)} MB, SHA-256 verified`,
    )
  }
  const bestDirect = Math.min(...direct)
  const bestThrough = Math.min(...through.map((r) => r.seconds))
  const ratio = bestDirect / bestThrough
  const growth = Math.max(...through.map((r) => r.growthMb))
  console.log(
    `\n  best: direct ${(options.sizeMib / bestDirect).toFixed(1)} MiB/s, Carcosa ${(options.sizeMib / bestThrough).toFixed(1)} MiB/s, ` +
      `ratio ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'missed'}); ` +
      `peak RSS growth ${growth.toFixed(1)} MB (target < ${TARGET_GROWTH_MB}: ${growth < TARGET_GROWTH_MB ? 'met' : 'missed'})\n`,
  )
}

/** One random MiB, repeated with a counter: cheap to produce, so the client spends its time sending. */
const BLOCK = randomBytes(MIB)

/** The body of `mib` MiB: the same bytes every call, so its SHA-256 is computed once, untimed. */
function generatedBody(mib: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < mib; i++) {
        const chunk = Buffer.from(BLOCK)
        chunk.writeUInt32BE(i, 0)
        yield chunk
      }
    })(),
  )
}

async function bodySha256(mib: number) {
  const hash = createHash('sha256')
  for await (const chunk of generatedBody(mib)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function directPut(s3: S3Client, bucket: string, mib: number) {
  const started = performance.now()
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `direct/${randomBytes(6).toString('hex')}.bin`,
      Body: generatedBody(mib),
      ContentLength: mib * MIB,
      ContentType: 'application/octet-stream',
    }),
  )
  return (performance.now() - started) / 1000
}

async function carcosaUpload(origin: string, key: string, mib: number, pid: number, s3: S3Client, bucket: string) {
  const boundary = `----carcosa-bench-${randomBytes(8).toString('hex')}`
  // The size field first lets Carcosa stream the file to the bucket as one PUT, like the direct put.
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${mib * MIB}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const baseline = procStatusKb(pid, 'VmRSS')
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, procStatusKb(pid, 'VmRSS'))), 20)
  const started = performance.now()
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request(`${origin}/api/v1/files/upload`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + mib * MIB + tail.length),
      },
    })
    request.on('response', (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    request.on('error', reject)
    request.write(head)
    const body = generatedBody(mib)
    body.pipe(request, { end: false })
    body.on('end', () => request.end(tail))
  })
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  if (answer.status !== 201) throw new Error(`POST /api/v1/files/upload answered ${answer.status}: ${answer.body.slice(0, 500)}`)
  const file = (JSON.parse(answer.body) as { file: { id: string; size: number } }).file
  if (file.size !== mib * MIB) throw new Error(`the file is ${file.size} bytes, expected ${mib * MIB}`)
  await verifyStored(s3, bucket, await bodySha256(mib))
  return { seconds, growthMb: (peak - baseline) / 1024 }
}

/** Finds the newest object under the project's prefix in s3rver and compares its SHA-256. */
async function verifyStored(s3: S3Client, bucket: string, expected: string) {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3')
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket }))
  const newest = (listing.Contents ?? [])
    .filter((o) => !o.Key?.startsWith('direct/'))
    .sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0))[0]
  if (!newest?.Key) throw new Error('the streamed object is not in the bucket')
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: newest.Key }))
  const hash = createHash('sha256')
  for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer)
  if (hash.digest('hex') !== expected) throw new Error(`the stored object ${newest.Key} differs from the bytes sent`)
}

async function prepareData(origin: string, bucket: { bucketName: string; endpoint: string }) {
  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await fetch(`${origin}${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    if (response.status >= 300) throw new Error(`${method} ${url} answered ${response.status}: ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  const suffix = randomBytes(4).toString('hex')
  const registered = await call('POST', '/api/v1/auth/register', '', {
    name: 'Bench User',
    email: `bench-${suffix}@example.com`,
    password: randomBytes(12).toString('base64url'),
  })
  const token = String(registered.accessToken)
  const organization = await call('POST', '/api/v1/organizations', token, { name: `Bench ${suffix}` })
  const team = await call('POST', '/api/v1/teams', token, { organizationId: organization.id, name: 'Bench team' })
  const registeredBucket = await call('POST', '/api/v1/buckets', token, {
    teamId: team.id,
    name: 'Bench bucket',
    provider: 's3-compatible',
    bucketName: bucket.bucketName,
    region: 'us-east-1',
    endpoint: bucket.endpoint,
    forcePathStyle: true,
    ...S3_CREDENTIALS,
  })
  const project = await call('POST', '/api/v1/projects', token, { teamId: team.id, name: 'Bench project', bucketId: registeredBucket.id })
  await call('PUT', `/api/v1/projects/${String(project.id)}/rate-limits`, token, { overrides: { WRITE: 1_000_000 } })
  const created = await call('POST', '/api/v1/api-keys', token, {
    projectId: project.id,
    name: 'bench uploader',
    permissions: ['files:write', 'files:read'],
  })
  return { key: String(created.key) }
}

function ensureBuild(force: boolean) {
  if (!force && existsSync(path.join(ROOT, 'build/index.js'))) return
  const built = spawnSync('npx', ['remix', 'build'], { cwd: ROOT, stdio: 'inherit' })
  if (built.status !== 0) throw new Error('`npx remix build` failed')
}

async function startChild(name: string, args: string[], env: Record<string, string>, readyUrl: string | null): Promise<ChildProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  for (const [variable, value] of Object.entries(env)) if (value === '') delete childEnv[variable]
  const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
  cleanups.push(async () => {
    if (child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`))
  if (readyUrl) await waitFor(readyUrl, 'GET')
  return child
}

async function waitFor(url: string, method: string) {
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    const answered = await fetch(url, { method, signal: AbortSignal.timeout(2_000) }).then(
      () => true,
      () => false,
    )
    if (answered) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} did not answer within 90 s`)
}

function procStatusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
}

function describeMachine() {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`
}

void main()
