/**
 * Overload: many clients at once against one instance, counting 5xx answers (the target is none;
 * an overloaded instance answers 503 with Retry-After, which is counted apart).
 *
 *   npm run bench:overload [-- --clients 150 --duration 20]
 *
 * Starts a throwaway embedded PostgreSQL, s3rver and Carcosa (`node --import tsx server.ts`,
 * NODE_ENV=production, default pool settings) on loopback; through the API creates a project on an
 * s3rver bucket with its limits raised and an API key; then `--clients` loops for `--duration` s,
 * each sending in turn: a file list, a project read, an upload init (a transaction) and a small
 * streamed upload (a transaction after the bytes). Prints answers by status, 503s with and without
 * Retry-After, other 5xx (the failure count) and latency percentiles. Stops everything on exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const cleanups: Array<() => Promise<void>> = []

function option(name: string, fallback: number) {
  const index = process.argv.indexOf(`--${name}`)
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

async function main() {
  const clients = option('clients', 150)
  const duration = option('duration', 20)
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)))
  try {
    await run(clients, duration)
  } catch (error) {
    console.error(`bench:overload failed: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  } finally {
    await cleanup()
  }
  process.exit()
}

async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) await step().catch((error: unknown) => console.error(`cleanup: ${String(error)}`))
}

async function run(clients: number, duration: number) {
  if (!existsSync(path.join(ROOT, 'build/index.js'))) {
    if (spawnSync('npx', ['remix', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('`npx remix build` failed')
  }
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-bench-overload-'))
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
  const bucketName = `bench-${randomBytes(4).toString('hex')}`
  const s3 = new S3Client({
    endpoint: s3rver.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  })
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }))

  const port = await findFreePort()
  const origin = `http://127.0.0.1:${port}`
  await startCarcosa(origin, port, {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: path.join(tempDir, 'data'),
    DATABASE_URL: database.url,
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    CREDENTIALS_ENCRYPTION_KEY: `base64:${randomBytes(32).toString('base64')}`,
    STORAGE_ALLOW_PRIVATE_ENDPOINTS: 'true',
    LOG_LEVEL: 'error',
  })
  const { key, projectId } = await prepare(origin, s3rver.endpoint, bucketName)

  console.log(
    `Overload: ${clients} clients for ${duration} s (list, project read, upload init, 4 KiB streamed upload), ${os.cpus().length} cores`,
  )
  const statuses = new Map<number, number>()
  let withoutRetryAfter = 0
  let networkErrors = 0
  const latencies: number[] = []
  const requests: Array<() => Promise<Response>> = [
    () => fetch(`${origin}/api/v1/files?limit=20`, { headers: { authorization: `Bearer ${key}` } }),
    () => fetch(`${origin}/api/v1/projects/${projectId}`, { headers: { authorization: `Bearer ${key}` } }),
    () =>
      fetch(`${origin}/api/v1/uploads/init`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fileName: 'photo.jpg', contentType: 'image/jpeg', size: 1_000_000 }),
      }),
    () => streamedUpload(origin, key),
  ]
  const deadline = Date.now() + duration * 1000
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let turn = client; Date.now() < deadline; turn++) {
        const started = performance.now()
        try {
          const response = await requests[turn % requests.length]!()
          await response.arrayBuffer()
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          if (response.status === 503 && !response.headers.get('retry-after')) withoutRetryAfter++
        } catch {
          networkErrors++
        }
        latencies.push(performance.now() - started)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  const total = latencies.length
  const percentile = (p: number) => latencies[Math.min(total - 1, Math.floor((p / 100) * total))]!.toFixed(0)
  const other5xx = [...statuses].filter(([status]) => status >= 500 && status !== 503).reduce((sum, [, count]) => sum + count, 0)
  console.log(
    `  answers: ${total} (${(total / duration).toFixed(0)}/s), by status: ${[...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}: ${c}`)
      .join(', ')}`,
  )
  console.log(`  503 (shed, Retry-After): ${statuses.get(503) ?? 0}, of which without Retry-After: ${withoutRetryAfter}`)
  console.log(`  5xx other than 503: ${other5xx} (target 0); network errors: ${networkErrors}`)
  console.log(`  latency p50 ${percentile(50)} ms, p99 ${percentile(99)} ms, max ${latencies[total - 1]!.toFixed(0)} ms`)
  if (other5xx > 0 || withoutRetryAfter > 0 || networkErrors > 0) process.exitCode = 1
}

async function streamedUpload(origin: string, key: string) {
  const boundary = `----carcosa-bench-${randomBytes(8).toString('hex')}`
  const bytes = randomBytes(4096)
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${bytes.length}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  return fetch(`${origin}/api/v1/files/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  })
}

async function prepare(origin: string, endpoint: string, bucketName: string) {
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
  const bucket = await call('POST', '/api/v1/buckets', token, {
    teamId: team.id,
    name: 'Bench bucket',
    provider: 's3-compatible',
    bucketName,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  })
  const project = await call('POST', '/api/v1/projects', token, { teamId: team.id, name: 'Bench project', bucketId: bucket.id })
  await call('PUT', `/api/v1/projects/${String(project.id)}/rate-limits`, token, { overrides: { READ: 1_000_000, WRITE: 1_000_000 } })
  const created = await call('POST', '/api/v1/api-keys', token, {
    projectId: project.id,
    name: 'bench',
    permissions: ['files:write', 'files:read', 'projects:read'],
  })
  return { key: String(created.key), projectId: String(project.id) }
}

async function startCarcosa(origin: string, port: number, env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  delete childEnv.REDIS_URL
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  cleanups.push(async () => {
    if (child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[carcosa] ${chunk.toString()}`))
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    if (
      await fetch(`${origin}/api/v1/health`, { signal: AbortSignal.timeout(2_000) }).then(
        () => true,
        () => false,
      )
    )
      return
    if (child.exitCode !== null) throw new Error(`Carcosa exited with ${child.exitCode} on port ${port}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('Carcosa did not answer within 90 s')
}

await main()
