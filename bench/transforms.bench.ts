/**
 * Image transforms: raw sharp in this process against the transform endpoint, uncached and cached,
 * and cached answers against Express serving the same bytes from memory.
 *
 *   npm run bench:transforms [-- --duration 10 --warmup 2 --cached-only]
 *
 * In one run it:
 * 1. generates a 12-megapixel JPEG (4000×3000, noisy, quality 90);
 * 2. renders it to an 800 px WebP with raw sharp in this process, through the same pipeline
 *    function the endpoint uses (`transformer`), at concurrency 1 and at the core count;
 * 3. starts a throwaway embedded PostgreSQL and two Carcosa servers on it (`node --import tsx
 *    server.ts`, NODE_ENV=production): one as configured by default, one with the variant caches off
 *    (TRANSFORM_CACHE_MAX_BYTES=0, TRANSFORM_STORE_VARIANTS=false), so every request to it decodes
 *    and encodes; through the API it registers a user, makes a project (its bucket is the embedded
 *    local storage), raises the project's EXPENSIVE limit, uploads the JPEG and signs one URL
 *    (`?w=800&format=webp`);
 * 4. starts, in another process, the reference for cached answers: an Express 4 app whose one route
 *    sends the variant's bytes, held in memory, with the headers Carcosa sent for them (so no ETag
 *    of its own);
 * 5. loads the uncached server at 1 and core-count clients, then the cached one and the reference
 *    in turns at 1, core-count and 64 clients (autocannon, keep-alive), each after a warm-up;
 * 6. prints throughput, p50, p99, the ratios endpoint/raw and cached/reference and the servers' peak RSS.
 *
 * `--cached-only` skips raw sharp and the uncached server (minutes of CPU on a busy machine) and
 * measures the cached answers against their reference only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import express from 'express'
import sharp from 'sharp'
import { transformer } from '../app/services/transforms/pipeline.server'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CORES = os.availableParallelism()
const PARAMS = { w: 800 } as const
const LIMITS = { maxInputPixels: 50_000_000, allowAnimated: false }

interface Result {
  label: string
  clients: number
  rps: number
  p50: number
  p99: number
}

const cleanups: Array<() => Promise<void>> = []
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function option(name: string, fallback: number) {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(process.argv[index + 1])
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

/** Raw sharp: `clients` loops rendering the same buffer for `seconds`. */
async function rawSharp(source: Buffer, clients: number, seconds: number): Promise<Result> {
  const latencies: number[] = []
  const end = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const start = performance.now()
        await transformer(PARAMS, 'webp', LIMITS).end(source).toBuffer()
        latencies.push(performance.now() - start)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return { label: 'raw sharp', clients, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

async function load(label: string, url: string, clients: number, seconds: number): Promise<Result> {
  const result = await autocannon({ url, connections: clients, duration: seconds, headers: { accept: 'image/webp' } })
  const non2xx = result.non2xx + result.errors + result.timeouts
  if (non2xx > 0) throw new Error(`${label}: ${non2xx} answers were not 2xx`)
  return { label, clients, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 }
}

async function startServer(name: string, env: Record<string, string>): Promise<{ child: ChildProcess; origin: string }> {
  const { findFreePort } = await import('../app/utils/embedded-postgres.server')
  const port = await findFreePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', REDIS_URL: '', ...env },
    stdio: ['pipe', 'inherit', 'inherit'],
  })
  cleanups.push(async () => {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  })
  const origin = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    const ok = await fetch(`${origin}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (tries > 450 || child.exitCode !== null) throw new Error(`${name} did not start`)
    await sleep(200)
  }
  return { child, origin }
}

/** The reference (child process): Express 4 sending the variant's bytes from memory with Carcosa's headers. */
async function runReferenceServer() {
  const body = Buffer.from(process.env.BENCH_BODY_BASE64 ?? '', 'base64')
  const headers = JSON.parse(process.env.BENCH_HEADERS ?? '{}') as Record<string, string>
  const app = express()
  // The headers carry Carcosa's ETag: Express must not hash the body for one of its own.
  app.set('etag', false)
  app.get(process.env.BENCH_PATH ?? '/', (_req, res) => {
    res.set(headers).send(body)
  })
  const server = app.listen(Number(process.env.BENCH_PORT), '127.0.0.1')
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  // Gone with the benchmark even if it is killed: its end of our stdin closes.
  process.stdin.on('end', stop).resume()
}

async function startReference(origin: string, signedPath: string): Promise<{ child: ChildProcess; origin: string }> {
  const answer = await fetch(origin + signedPath, { headers: { accept: 'image/webp' } })
  if (!answer.ok) throw new Error(`the variant answered ${answer.status}`)
  const body = Buffer.from(await answer.arrayBuffer())
  const headers: Record<string, string> = {}
  for (const name of [
    'content-type',
    'cache-control',
    'etag',
    'vary',
    'last-modified',
    'cross-origin-resource-policy',
    'x-content-type-options',
  ]) {
    const value = answer.headers.get(name)
    if (value) headers[name] = value
  }
  const { findFreePort } = await import('../app/utils/embedded-postgres.server')
  const port = await findFreePort()
  const routePath = new URL(signedPath, origin).pathname
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--reference-server'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      BENCH_PORT: String(port),
      BENCH_PATH: routePath,
      BENCH_BODY_BASE64: body.toString('base64'),
      BENCH_HEADERS: JSON.stringify(headers),
    },
    stdio: ['pipe', 'inherit', 'inherit'],
  })
  cleanups.push(async () => {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  })
  const referenceOrigin = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    const ok = await fetch(referenceOrigin + signedPath).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (tries > 150 || child.exitCode !== null) throw new Error('the reference did not start')
    await sleep(200)
  }
  console.log(`reference: Express 4 sending the same ${body.length} bytes from memory, with ${Object.keys(headers).join(', ')}`)
  return { child, origin: referenceOrigin }
}

/** Peak resident memory of a process (Linux), in MB. */
const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

async function prepare(origin: string, jpeg: Buffer) {
  const call = async (method: string, url: string, token: string | null, body?: unknown) => {
    const response = await fetch(`${origin}${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  const suffix = randomBytes(4).toString('hex')
  const { accessToken } = await call('POST', '/api/v1/auth/register', null, {
    name: 'Bench',
    email: `bench-${suffix}@example.com`,
    password: randomBytes(12).toString('base64url'),
  })
  const token = String(accessToken)
  const organization = await call('POST', '/api/v1/organizations', token, { name: `Bench ${suffix}` })
  const team = await call('POST', '/api/v1/teams', token, { organizationId: organization.id, name: 'Bench team' })
  const project = await call('POST', '/api/v1/projects', token, { teamId: team.id, name: 'Bench project' })
  const projectId = String(project.id)
  // The run measures the transform path, not 429s.
  await call('PUT', `/api/v1/projects/${projectId}/rate-limits`, token, { overrides: { EXPENSIVE: 1_000_000 } })
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'bench.jpg')
  const uploaded = await fetch(`${origin}/api/v1/files/upload?projectId=${projectId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  })
  const uploadText = await uploaded.text()
  if (!uploaded.ok) throw new Error(`upload answered ${uploaded.status}: ${uploadText}`)
  const file = (JSON.parse(uploadText) as { file: { path: string } }).file
  const signed = await call('POST', '/api/v1/transforms/sign', token, {
    projectId,
    path: file.path,
    params: { ...PARAMS, format: 'webp' },
    expiresIn: 86_400,
  })
  return new URL(String(signed.url)).pathname + new URL(String(signed.url)).search
}

async function main() {
  const seconds = option('duration', 10)
  const warmup = option('warmup', 2)
  const cachedOnly = process.argv.includes('--cached-only')
  const jpeg = await sharp({
    create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .blur(1.2)
    .jpeg({ quality: 90 })
    .toBuffer()
  console.log(
    `${os.cpus()[0]?.model ?? 'cpu'} × ${CORES}, Node ${process.version}, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}`,
  )
  console.log(
    `source: 4000×3000 JPEG, ${(jpeg.length / 1024 / 1024).toFixed(1)} MB -> ?w=800&format=webp; ${warmup} s warm-up + ${seconds} s per run\n`,
  )

  const results: Result[] = []
  for (const clients of cachedOnly ? [] : [1, CORES]) {
    await rawSharp(jpeg, clients, warmup)
    results.push(await rawSharp(jpeg, clients, seconds))
  }
  const rawPeak = process.resourceUsage().maxRSS / 1024

  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-bench-transforms-'))
  await fs.chmod(tempDir, 0o755)
  cleanups.push(() => fs.rm(tempDir, { recursive: true, force: true }))
  const { startEmbeddedPostgres } = await import('../app/utils/embedded-postgres.server')
  const database = await startEmbeddedPostgres({
    dataDir: path.join(tempDir, 'postgres'),
    password: randomBytes(16).toString('hex'),
    database: 'carcosa',
  })
  cleanups.push(() => database.stop())
  const shared = {
    DATA_DIR: path.join(tempDir, 'data'),
    DATABASE_URL: database.url,
    SESSION_SECRET: randomBytes(32).toString('base64url'),
    CREDENTIALS_ENCRYPTION_KEY: `base64:${randomBytes(32).toString('base64')}`,
  }
  const cached = await startServer('cached', shared)
  const uncached = cachedOnly
    ? null
    : await startServer('uncached', { ...shared, TRANSFORM_CACHE_MAX_BYTES: '0', TRANSFORM_STORE_VARIANTS: 'false' })
  const signedPath = await prepare(cached.origin, jpeg)
  const reference = await startReference(cached.origin, signedPath)
  console.log(
    `load average at the start: ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(', ')}\n`,
  )

  for (const clients of uncached ? [1, CORES] : []) {
    await load('endpoint uncached', uncached!.origin + signedPath, clients, warmup)
    results.push(await load('endpoint uncached', uncached!.origin + signedPath, clients, seconds))
  }
  for (const clients of [1, CORES, 64]) {
    await load('endpoint cached', cached.origin + signedPath, clients, warmup)
    await load('Express from memory', reference.origin + signedPath, clients, warmup)
    // In turns, so that other work on the machine weighs on both alike.
    const turns = { cached: [] as Result[], reference: [] as Result[] }
    for (let done = 0; done < seconds; done += 2) {
      const slice = Math.min(2, seconds - done)
      turns.cached.push(await load('endpoint cached', cached.origin + signedPath, clients, slice))
      turns.reference.push(await load('Express from memory', reference.origin + signedPath, clients, slice))
    }
    results.push(combine(turns.cached), combine(turns.reference))
  }
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(', ')}\n`,
  )

  const raw = (clients: number) => results.find((r) => r.label === 'raw sharp' && r.clients === clients)
  const fromMemory = (clients: number) => results.find((r) => r.label === 'Express from memory' && r.clients === clients)
  console.log('| run | clients | req/s | p50 ms | p99 ms | req/s vs raw sharp | req/s vs Express from memory |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const reference = raw(r.clients)
    const ratio = r.label === 'endpoint uncached' && reference ? (r.rps / reference.rps).toFixed(2) : ''
    const memoryRatio = r.label === 'endpoint cached' ? (r.rps / (fromMemory(r.clients)?.rps ?? Infinity)).toFixed(2) : ''
    console.log(`| ${r.label} | ${r.clients} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${ratio} | ${memoryRatio} |`)
  }
  console.log(
    `\npeak RSS: this process${cachedOnly ? '' : ' (raw sharp)'} ${rawPeak.toFixed(0)} MB, ${uncached ? `uncached server ${peakRssMb(uncached.child.pid!).toFixed(0)} MB, ` : ''}cached server ${peakRssMb(cached.child.pid!).toFixed(0)} MB`,
  )
  const cached64 = results.find((r) => r.label === 'endpoint cached' && r.clients === 64)
  const memoryRatio64 = (cached64?.rps ?? 0) / (fromMemory(64)?.rps ?? Infinity)
  if (!cachedOnly) {
    const worstRatio = Math.min(
      ...[1, CORES].map((c) => (results.find((r) => r.label === 'endpoint uncached' && r.clients === c)?.rps ?? 0) / (raw(c)?.rps ?? 1)),
    )
    console.log(`target: uncached >= 0.9 of raw sharp: ${worstRatio.toFixed(2)} (${worstRatio >= 0.9 ? 'met' : 'missed'})`)
  }
  console.log(
    `target: cached p99 at 64 clients < 10 ms: ${cached64?.p99.toFixed(1)} ms (${(cached64?.p99 ?? Infinity) < 10 ? 'met' : 'missed'})`,
  )
  console.log(
    `target: cached >= 0.5 of Express from memory at 64 clients: ${memoryRatio64.toFixed(2)} (${memoryRatio64 >= 0.5 ? 'met' : 'missed'})`,
  )
}

/** Turns of one target as one result: requests over the whole time, the worst turn's percentiles (a bound, not a merge). */
function combine(turns: Result[]): Result {
  const first = turns[0]!
  return {
    label: first.label,
    clients: first.clients,
    rps: turns.reduce((sum, r) => sum + r.rps, 0) / turns.length,
    p50: Math.max(...turns.map((r) => r.p50)),
    p99: Math.max(...turns.map((r) => r.p99)),
  }
}

const run = process.argv.includes('--reference-server') ? runReferenceServer() : main()
run
  .catch((error: unknown) => {
    console.error(`bench:transforms failed: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  })
  .finally(async () => {
    if (process.argv.includes('--reference-server')) return
    for (const step of cleanups.reverse()) await step().catch(() => undefined)
    process.exit()
  })
