/**
 * The API's hot paths through Carcosa's whole stack against hand-written Express 4 + pg references
 * doing the same work on the same PostgreSQL, and a bare Express JSON route; then the dashboard's
 * project files page, signed in.
 *
 *   npm run bench:api [-- --duration 10 --slice 2 --warmup 3 --connections 1,64 --build --log-level info
 *                        --cpu-prof DIR [--profile-init | --profile-dashboard]]
 *
 * In one run it:
 * 1. starts a throwaway embedded PostgreSQL in a temporary directory and Carcosa's server
 *    (`node --import tsx server.ts`, NODE_ENV=production, LOG_LEVEL from `--log-level` (default info,
 *    production's default: an access-log line per request), no REDIS_URL: the in-memory rate limiter)
 *    on a free loopback port; through the HTTP API it registers a user, creates an organization, a
 *    team, an S3-compatible bucket (presigned for, never reached), a project on it, raises the
 *    project's READ and WRITE limits to 1,000,000/h (so the run measures the path, not 429s) and makes
 *    an API key with files:read and files:write; the project gets FILES_IN_PROJECT file rows (written
 *    straight into the database: listing is measured, not uploading);
 * 2. starts, in other processes, the reference: Express 4 + pg with its own small tables in the same
 *    database (schema `bench_reference`: keys, projects, files, uploads), whose routes hash the bearer
 *    key and look it up joined to its project (one query), then read the page (a second query) and
 *    answer the same JSON shape, or insert the upload row and presign its PUT with the same SDK;
 *    and a bare Express 4 app whose one route answers Carcosa's list body;
 * 3. loads, with autocannon from this process, at each concurrency (`--connections`):
 *    - `GET /api/v1/files` with the key (credentials, rate limit, the page query),
 *    - the reference's list with its own key,
 *    - the same without a key (a 401 problem before any database work: the host alone),
 *    - the bare route,
 *    - `POST /api/v1/uploads/init` (a 1 MB JPEG) with the key, and the reference's init,
 *    each warmed up for `--warmup` s, then measured for `--duration` s in `--slice`-second turns
 *    (each target in turn, again and again), so that other work on the machine weighs on all alike;
 * 4. prints requests/s, latency percentiles (from each response's own timing, sub-millisecond),
 *    the servers' CPU use (and per request), PostgreSQL's and the load generator's CPU, peak RSS,
 *    the ratios to the references and the issue's targets (at 64 clients: at least half the
 *    reference's throughput, p99 under 25 ms; the dashboard page's p99 under 50 ms at 16 clients).
 *
 * Everything it starts is stopped and its temporary directory removed on exit, failure or Ctrl-C.
 * `--build` rebuilds the app first (otherwise only when build/index.js is missing). `--cpu-prof DIR`
 * starts Carcosa with V8's sampling profiler and prints where its CPU time went during the measured
 * runs at the highest concurrency (the profiler slows it down: take figures from a run without it);
 * of the list call, or with `--profile-init` of upload init, with `--profile-dashboard` of the page.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import express from 'express'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const LIST_PATH = '/api/v1/files'
const INIT_PATH = '/api/v1/uploads/init'
/**
 * The bucket both sides presign for: S3-compatible, path style. Nothing listens there; presigning
 * never connects, and neither side sends the bytes.
 */
const PRESIGN_BUCKET = {
  bucketName: 'bench-bucket',
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  accessKeyId: 'BENCHKEY',
  secretAccessKey: 'BENCHSECRET',
}
const INIT_BODY = { fileName: 'photo.jpg', contentType: 'image/jpeg', size: 1_000_000 }
const FILES_IN_PROJECT = 20
const DASHBOARD_CONNECTIONS = 16
const DASHBOARD_TARGET_P99_MS = 50
const TARGET_RATIO = 0.5
const TARGET_P99_MS = 25
const TARGET_CONNECTIONS = 64

// ---------------------------------------------------------------------------------------------
// The bare server (child process): Express 4 defaults, one route, the body Carcosa answered.

async function runBareServer() {
  const port = Number(process.env.BENCH_BARE_PORT)
  const body: unknown = JSON.parse(process.env.BENCH_BARE_BODY ?? '{"items":[],"nextCursor":null}')
  const app = express()
  app.get(LIST_PATH, (_req, res) => {
    res.json(body)
  })
  const server = app.listen(port, '127.0.0.1', () => console.log('listening'))
  const stop = () => server.close(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // Gone with the benchmark even if it is killed: its end of our stdin closes.
  process.stdin.on('end', stop).resume()
}

// ---------------------------------------------------------------------------------------------
// The reference (child process): Express 4 + pg, hand-written, its own tables in the same database.

const REFERENCE_SCHEMA = 'bench_reference'

async function runReferenceServer() {
  const { createHash } = await import('node:crypto')
  const pg = (await import('pg')).default
  const port = Number(process.env.BENCH_REFERENCE_PORT)
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
  const app = express()
  app.get('/', (_req, res) => void res.send('ok'))
  app.get(LIST_PATH, async (req, res) => {
    try {
      const token = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1]
      if (!token) return void res.status(401).json({ title: 'Unauthorized' })
      const hash = createHash('sha256').update(token).digest('hex')
      const { rows: keys } = await pool.query(
        `SELECT k.project_id, k.permissions, p.name, p.rate_limits FROM ${REFERENCE_SCHEMA}.api_keys k
           JOIN ${REFERENCE_SCHEMA}.projects p ON p.id = k.project_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`,
        [hash],
      )
      const key = keys[0]
      if (!key || !key.permissions.includes('files:read')) return void res.status(401).json({ title: 'Unauthorized' })
      const { rows } = await pool.query(
        `SELECT id, project_id AS "projectId", tenant_id AS "tenantId", path, name, size, content_type AS "contentType",
                is_public AS "isPublic", metadata, created_at AS "createdAt", updated_at AS "updatedAt"
           FROM ${REFERENCE_SCHEMA}.files WHERE project_id = $1 ORDER BY id LIMIT 21`,
        [key.project_id],
      )
      const items = rows.slice(0, 20).map((row) => ({ ...row, size: Number(row.size) }))
      res.json({ items, nextCursor: rows.length > 20 ? items.at(-1)?.id : null })
    } catch (error) {
      res.status(500).json({ title: String(error) })
    }
  })
  // Upload init by hand: the key joined to its project, one INSERT of the upload row, the SDK's presign
  // of the PUT (the client built as Carcosa's S3 adapter builds it).
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3')
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner')
  const s3 = new S3Client({
    region: PRESIGN_BUCKET.region,
    endpoint: PRESIGN_BUCKET.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: PRESIGN_BUCKET.accessKeyId, secretAccessKey: PRESIGN_BUCKET.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  app.post(INIT_PATH, express.json(), async (req, res) => {
    try {
      const token = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1]
      if (!token) return void res.status(401).json({ title: 'Unauthorized' })
      const hash = createHash('sha256').update(token).digest('hex')
      const { rows: keys } = await pool.query(
        `SELECT k.project_id, k.permissions, p.slug FROM ${REFERENCE_SCHEMA}.api_keys k
           JOIN ${REFERENCE_SCHEMA}.projects p ON p.id = k.project_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`,
        [hash],
      )
      const key = keys[0]
      if (!key || !key.permissions.includes('files:write')) return void res.status(401).json({ title: 'Unauthorized' })
      const { fileName, contentType, size } = req.body as typeof INIT_BODY
      const id = randomBytes(12).toString('hex')
      const objectKey = `${key.slug}/${id}-${fileName}`
      const { rows } = await pool.query(
        `INSERT INTO ${REFERENCE_SCHEMA}.uploads (id, project_id, object_key, content_type, size) VALUES ($1, $2, $3, $4, $5) RETURNING expires_at`,
        [id, key.project_id, objectKey, contentType, size],
      )
      const command = new PutObjectCommand({ Bucket: PRESIGN_BUCKET.bucketName, Key: objectKey, ContentType: contentType, ContentLength: size })
      const url = await getSignedUrl(s3, command, { expiresIn: 3600, signableHeaders: new Set(['content-type', 'content-length']) })
      res.status(201).json({ uploadId: id, method: 'PUT', url, headers: { 'content-type': contentType }, expiresAt: rows[0].expires_at })
    } catch (error) {
      res.status(500).json({ title: String(error) })
    }
  })
  const server = app.listen(port, '127.0.0.1', () => console.log('listening'))
  const stop = () => server.close(() => pool.end().then(() => process.exit(0)))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop).resume()
}

/** The reference's tables, filled like Carcosa's project: one key, one project, the same number of files. */
async function prepareReference(databaseUrl: string) {
  const { createHash } = await import('node:crypto')
  const pg = (await import('pg')).default
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const key = `ref_${randomBytes(32).toString('base64url')}`
  try {
    await client.query(`
      CREATE SCHEMA ${REFERENCE_SCHEMA};
      CREATE TABLE ${REFERENCE_SCHEMA}.projects (id text PRIMARY KEY, slug text NOT NULL, name text NOT NULL, rate_limits jsonb NOT NULL DEFAULT '{}');
      CREATE TABLE ${REFERENCE_SCHEMA}.api_keys (id text PRIMARY KEY, key_hash text UNIQUE NOT NULL, project_id text NOT NULL REFERENCES ${REFERENCE_SCHEMA}.projects,
        permissions text[] NOT NULL, expires_at timestamptz, revoked_at timestamptz);
      CREATE TABLE ${REFERENCE_SCHEMA}.files (id text PRIMARY KEY, project_id text NOT NULL REFERENCES ${REFERENCE_SCHEMA}.projects, tenant_id text,
        path text NOT NULL, name text NOT NULL, size bigint NOT NULL, content_type text NOT NULL, is_public boolean NOT NULL DEFAULT false,
        metadata jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX ON ${REFERENCE_SCHEMA}.files (project_id, id);
      CREATE TABLE ${REFERENCE_SCHEMA}.uploads (id text PRIMARY KEY, project_id text NOT NULL REFERENCES ${REFERENCE_SCHEMA}.projects, object_key text NOT NULL,
        content_type text NOT NULL, size bigint NOT NULL, status text NOT NULL DEFAULT 'PENDING', created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL DEFAULT now() + interval '1 hour');
      INSERT INTO ${REFERENCE_SCHEMA}.projects (id, slug, name) VALUES ('p1', 'reference', 'Reference project');`)
    await client.query(`INSERT INTO ${REFERENCE_SCHEMA}.api_keys VALUES ('k1', $1, 'p1', $2, NULL, NULL)`, [
      createHash('sha256').update(key).digest('hex'),
      ['files:read', 'files:write'],
    ])
    await client.query(
      `INSERT INTO ${REFERENCE_SCHEMA}.files (id, project_id, path, name, size, content_type)
       SELECT 'f' || lpad(n::text, 4, '0'), 'p1', 'photos/photo-' || n || '.jpg', 'photo-' || n || '.jpg', 1000 + n, 'image/jpeg'
         FROM generate_series(1, $1) AS n`,
      [FILES_IN_PROJECT],
    )
  } finally {
    await client.end()
  }
  return key
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

interface Options {
  durationSeconds: number
  sliceSeconds: number
  warmupSeconds: number
  connections: number[]
  build: boolean
  cpuProfDir: string | null
  /** Whose measured runs the profile summary covers: the list call (default), upload init or the dashboard page. */
  profileTarget: 'carcosa' | 'carcosa-init' | 'dashboard'
  /** Carcosa's LOG_LEVEL: production's default (`info`, one access-log line per request) unless told. */
  logLevel: string
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    durationSeconds: 10,
    sliceSeconds: 2,
    warmupSeconds: 3,
    connections: [1, TARGET_CONNECTIONS],
    build: false,
    cpuProfDir: null,
    profileTarget: 'carcosa',
    logLevel: 'info',
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${flag} needs a value`)
      return next
    }
    if (flag === '--duration') options.durationSeconds = positive(value(), flag)
    else if (flag === '--slice') options.sliceSeconds = positive(value(), flag)
    else if (flag === '--warmup') options.warmupSeconds = Number(value())
    else if (flag === '--connections')
      options.connections = value()
        .split(',')
        .map((n) => positive(n, flag))
    else if (flag === '--build') options.build = true
    else if (flag === '--cpu-prof') options.cpuProfDir = path.resolve(value())
    else if (flag === '--profile-dashboard') options.profileTarget = 'dashboard'
    else if (flag === '--profile-init') options.profileTarget = 'carcosa-init'
    else if (flag === '--log-level') options.logLevel = value()
    else throw new Error(`unknown option ${flag}; see the comment at the top of bench/api-list.bench.ts`)
  }
  if (!(options.warmupSeconds >= 0)) throw new Error('--warmup must be 0 or more seconds')
  return options
}

function positive(text: string, flag: string | undefined) {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number >= 1, got ${text}`)
  return n
}

type TargetName = 'carcosa' | 'carcosa-401' | 'reference' | 'bare' | 'carcosa-init' | 'reference-init' | 'dashboard'

interface Target {
  name: TargetName
  label: string
  url: string
  process: ChildProcess
  headers: Record<string, string>
  /** A POST's JSON body (GET when absent). */
  body?: string
  /** The statuses an answer may have to count. */
  expect: number[]
}

interface Measurement {
  target: TargetName
  label: string
  connections: number
  seconds: number
  ok: number
  other: number
  errors: number
  requestsPerSecond: number
  p50: number
  p90: number
  p99: number
  max: number
  /** The server process's CPU time over wall time (1.0 = one core busy). */
  serverCpu: number
  /** PostgreSQL's processes' CPU time over wall time. */
  databaseCpu: number
  /** This process's (the load generator's) CPU time over wall time. */
  loadCpu: number
  peakRssMb: number
  windows: Array<[number, number]>
}

const cleanups: Array<() => Promise<void>> = []
/** Both servers' processes, watched between slices. */
const serverPids: number[] = []
let cleaning: Promise<void> | null = null
let currentLoad: autocannon.Instance | null = null

function cleanup() {
  cleaning ??= (async () => {
    currentLoad?.stop()
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => console.error(`cleanup: ${String(error)}`))
  })()
  return cleaning
}

async function main() {
  const options = parseOptions(process.argv.slice(2))
  let interrupted = false
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // Ctrl-C reaches tsx's CLI too, which passes it on: one clean-up is enough.
      if (interrupted) return
      interrupted = true
      console.error(`\n${signal}: stopping the servers and cleaning up`)
      process.exitCode = 130
      void cleanup().then(() => process.exit())
    })
  }
  try {
    await run(options)
  } catch (error) {
    if (interrupted) return
    console.error(`bench:api failed: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  } finally {
    await cleanup()
  }
  // Whatever a stopped load generator may still hold open must not keep the benchmark alive.
  process.exit()
}

async function run(options: Options) {
  ensureBuild(options.build)

  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-bench-'))
  // Run as root, the embedded PostgreSQL runs as `postgres`, which must be able to enter this directory
  // (otherwise Carcosa's helper keeps the cluster elsewhere, out of our clean-up's reach).
  await fs.chmod(tempDir, 0o755)
  cleanups.push(() => fs.rm(tempDir, { recursive: true, force: true }))

  // Loaded here, not at the top: the bare server child has no use for it.
  const { startEmbeddedPostgres, findFreePort } = await import('../app/utils/embedded-postgres.server')
  const database = await startEmbeddedPostgres({
    dataDir: path.join(tempDir, 'postgres'),
    password: randomBytes(16).toString('hex'),
    database: 'carcosa',
  })
  cleanups.push(() => database.stop())

  const carcosaPort = await findFreePort()
  const carcosa = await startChild(
    'carcosa',
    [...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []), '--import', 'tsx', 'server.ts'],
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(carcosaPort),
      DATA_DIR: path.join(tempDir, 'data'),
      DATABASE_URL: database.url,
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      CREDENTIALS_ENCRYPTION_KEY: `base64:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: options.logLevel,
      // The presign bucket's endpoint is on loopback.
      STORAGE_ALLOW_PRIVATE_ENDPOINTS: 'true',
      REDIS_URL: '',
    },
    `http://127.0.0.1:${carcosaPort}/api/v1/health`,
  )
  const carcosaUrl = `http://127.0.0.1:${carcosaPort}${LIST_PATH}`
  const { key, body, dashboardPath, cookie, projectId } = await prepareData(`http://127.0.0.1:${carcosaPort}`, database.url)

  const referenceKey = await prepareReference(database.url)
  const referencePort = await findFreePort()
  const reference = await startChild(
    'reference',
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--reference-server'],
    { BENCH_REFERENCE_PORT: String(referencePort), DATABASE_URL: database.url, NODE_ENV: 'production' },
    `http://127.0.0.1:${referencePort}/`,
  )

  const barePort = await findFreePort()
  const bare = await startChild(
    'bare',
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--bare-server'],
    { BENCH_BARE_PORT: String(barePort), BENCH_BARE_BODY: body, NODE_ENV: 'production' },
    `http://127.0.0.1:${barePort}${LIST_PATH}`,
  )

  const authorization = { authorization: `Bearer ${key}` }
  const targets: Target[] = [
    { name: 'carcosa', label: 'Carcosa', url: carcosaUrl, process: carcosa, headers: authorization, expect: [200] },
    // The same route without credentials: refused with a 401 problem before any database work, so
    // this is the cost of the host alone. Anonymous calls count against the address's READ limit
    // (10,000 an hour), which a run spends: its 429s are refusals of the same cost and count too.
    { name: 'carcosa-401', label: 'Carcosa, no key: 401', url: carcosaUrl, process: carcosa, headers: {}, expect: [401, 429] },
    {
      name: 'reference',
      label: 'Express + pg reference',
      url: `http://127.0.0.1:${referencePort}${LIST_PATH}`,
      process: reference,
      headers: { authorization: `Bearer ${referenceKey}` },
      expect: [200],
    },
    {
      name: 'bare',
      label: 'bare Express',
      url: `http://127.0.0.1:${barePort}${LIST_PATH}`,
      process: bare,
      headers: authorization,
      expect: [200],
    },
    {
      name: 'carcosa-init',
      label: 'Carcosa upload init',
      url: `http://127.0.0.1:${carcosaPort}${INIT_PATH}`,
      process: carcosa,
      headers: { ...authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ projectId, ...INIT_BODY }),
      expect: [201],
    },
    {
      name: 'reference-init',
      label: 'Express + pg init reference',
      url: `http://127.0.0.1:${referencePort}${INIT_PATH}`,
      process: reference,
      headers: { authorization: `Bearer ${referenceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(INIT_BODY),
      expect: [201],
    },
  ]
  serverPids.push(carcosa.pid as number, reference.pid as number, bare.pid as number)
  const postmasterPid = Number((await fs.readFile(path.join(database.directory, 'postmaster.pid'), 'utf8')).split('\n')[0])

  console.log(describeMachine())
  console.log(
    `GET ${LIST_PATH} (${FILES_IN_PROJECT} files, ${Buffer.byteLength(body)} bytes of JSON) with an API key, the same without a key (401), ` +
      'the hand-written Express + pg reference, and the same body from a bare Express route; ' +
      `${options.warmupSeconds} s warm-up + ${options.durationSeconds} s per run, autocannon in this process\n`,
  )

  const results: Measurement[] = []
  for (const connections of options.connections) {
    if (options.warmupSeconds > 0) {
      for (const target of targets) await loadSlice(target, connections, options.warmupSeconds, postmasterPid)
    }
    // The targets take turns slice by slice, so that other work on the machine weighs on all alike.
    const slices = new Map<Target, Slice[]>(targets.map((target) => [target, []]))
    const rounds = Math.ceil(options.durationSeconds / options.sliceSeconds)
    for (let round = 0; round < rounds; round++) {
      const seconds = Math.min(options.sliceSeconds, options.durationSeconds - round * options.sliceSeconds)
      for (const target of targets) slices.get(target)?.push(await loadSlice(target, connections, seconds, postmasterPid))
    }
    for (const target of targets) {
      const result = summarize(target, connections, slices.get(target) ?? [])
      results.push(result)
      console.log(
        `  ${target.label.padEnd(20)} c=${String(connections).padEnd(3)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
          `p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms` +
          (result.other + result.errors > 0 ? `  (${result.other} non-2xx, ${result.errors} errors)` : ''),
      )
    }
  }

  // The dashboard's project files page, signed in (layout and leaf loaders, server rendering).
  const dashboard: Target = {
    name: 'dashboard',
    label: 'dashboard files page',
    url: `http://127.0.0.1:${carcosaPort}${dashboardPath}`,
    process: carcosa,
    headers: { cookie },
    expect: [200],
  }
  if (options.warmupSeconds > 0) await loadSlice(dashboard, DASHBOARD_CONNECTIONS, options.warmupSeconds, postmasterPid)
  const dashboardSlices: Slice[] = []
  for (let done = 0; done < options.durationSeconds; done += options.sliceSeconds) {
    dashboardSlices.push(
      await loadSlice(dashboard, DASHBOARD_CONNECTIONS, Math.min(options.sliceSeconds, options.durationSeconds - done), postmasterPid),
    )
  }
  const page = summarize(dashboard, DASHBOARD_CONNECTIONS, dashboardSlices)
  results.push(page)
  console.log(
    `  ${dashboard.label.padEnd(20)} c=${String(DASHBOARD_CONNECTIONS).padEnd(3)} ${page.requestsPerSecond.toFixed(0).padStart(6)} req/s  ` +
      `p50 ${page.p50.toFixed(2)} ms  p99 ${page.p99.toFixed(2)} ms` +
      (page.other + page.errors > 0 ? `  (${page.other} non-2xx, ${page.errors} errors)` : ''),
  )

  const hwm = { carcosa: procStatusKb(carcosa.pid, 'VmHWM') / 1024, bare: procStatusKb(bare.pid, 'VmHWM') / 1024 }
  console.log(`\n${resultTable(results)}\n`)
  console.log(`Peak RSS over the whole run (VmHWM): Carcosa ${hwm.carcosa.toFixed(0)} MB, bare Express ${hwm.bare.toFixed(0)} MB\n`)
  console.log(verdict(results))
  if (results.some((r) => r.other + r.errors > 0)) process.exitCode = 1

  if (options.cpuProfDir) {
    const dashboardProfile = options.profileTarget === 'dashboard'
    const widest = dashboardProfile ? DASHBOARD_CONNECTIONS : Math.max(...options.connections)
    const windows = results.filter((r) => r.target === options.profileTarget && r.connections === widest).flatMap((r) => r.windows)
    await stopChild(carcosa) // the profile is written when the process exits
    console.log(`\n${await summarizeProfile(options.cpuProfDir, carcosa.pid, windows, widest)}`)
    console.log('(figures above were taken with the profiler on: use a run without --cpu-prof for them)')
  }
}

function ensureBuild(force: boolean) {
  const buildFile = path.join(ROOT, 'build/index.js')
  const missing = !existsSync(buildFile)
  if (force || missing) {
    console.log(missing ? 'build/index.js is missing: running `npx remix build`' : 'running `npx remix build`')
    const built = spawnSync('npx', ['remix', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('`npx remix build` failed')
    return
  }
  const newer = spawnSync('find', [path.join(ROOT, 'app'), '-newer', buildFile, '-type', 'f', '-not', '-name', '*.test.ts'], {
    encoding: 'utf8',
  })
  if (newer.stdout.trim()) console.log('note: files under app/ are newer than build/index.js; pass --build to measure the current code')
}

/** Starts a node child in the repository, resolves once `readyUrl` answers 200; stopped on clean-up. */
async function startChild(name: string, args: string[], env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  for (const [variable, value] of Object.entries(env)) if (value === '') delete childEnv[variable]
  const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
  cleanups.push(() => stopChild(child))
  const output: string[] = []
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    output.splice(0, Math.max(0, output.length - 40))
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited = false
  child.once('exit', () => (exited = true))

  const deadline = Date.now() + 90_000
  for (;;) {
    if (exited) throw new Error(`${name} exited during start-up (code ${child.exitCode}):\n${output.join('\n')}`)
    const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status === 200,
      () => false,
    )
    if (ok) break
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${readyUrl} within 90 s:\n${output.join('\n')}`)
    await sleep(200)
  }
  // A server that dies ends the load at once (the run then fails).
  child.once('exit', () => currentLoad?.stop())
  // After start-up only warnings and errors are expected: show them as they come.
  child.stdout?.off('data', keep)
  child.stderr?.off('data', keep)
  const echo = (chunk: Buffer) => process.stderr.write(chunk.toString('utf8').replace(/^(?=.)/gm, `[${name}] `))
  child.stdout?.on('data', echo)
  child.stderr?.on('data', echo)
  return child
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

/** Creates the user, organization, team, project, rate-limit override and keys; returns the key and the list's body. */
async function prepareData(origin: string, databaseUrl: string) {
  const call = async (method: string, url: string, token: string | null, body?: unknown, expected = [200, 201]) => {
    const response = await fetch(`${origin}${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await response.text()
    if (!expected.includes(response.status)) throw new Error(`${method} ${url} answered ${response.status}: ${text}`)
    return { json: JSON.parse(text) as Record<string, unknown>, text, headers: response.headers }
  }
  const suffix = randomBytes(4).toString('hex')
  const email = `bench-${suffix}@example.com`
  const password = randomBytes(12).toString('base64url')
  const registered = await call('POST', '/api/v1/auth/register', null, { name: 'Bench User', email, password })
  const token = String(registered.json.accessToken)
  const organization = await call('POST', '/api/v1/organizations', token, { name: `Bench ${suffix}` })
  const team = await call('POST', '/api/v1/teams', token, { organizationId: organization.json.id, name: 'Bench team' })
  const bucket = await call('POST', '/api/v1/buckets', token, {
    teamId: team.json.id,
    name: 'Bench bucket',
    provider: 's3-compatible',
    forcePathStyle: true,
    ...PRESIGN_BUCKET,
  })
  const project = await call('POST', '/api/v1/projects', token, { teamId: team.json.id, name: 'Bench project', bucketId: bucket.json.id })
  const projectId = String(project.json.id)
  // The owner holds `admin` in the project, which this endpoint needs.
  await call('PUT', `/api/v1/projects/${projectId}/rate-limits`, token, { overrides: { READ: 1_000_000, WRITE: 1_000_000 } })
  const created = await call('POST', '/api/v1/api-keys', token, { projectId, name: 'bench key', permissions: ['files:read', 'files:write'] })

  // File rows straight into the database, in the project's bucket (listing is measured, not uploading).
  const pg = (await import('pg')).default
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query(
      `INSERT INTO "File" (id, "projectId", "bucketId", "objectKey", path, name, "contentType", size, "updatedAt")
       SELECT 'benchfile' || lpad(n::text, 4, '0'), p.id, p."bucketId", 'bench/photo-' || n || '.jpg', 'photos/photo-' || n || '.jpg',
              'photo-' || n || '.jpg', 'image/jpeg', 1000 + n, now()
         FROM "Project" p, generate_series(1, $2) AS n WHERE p.id = $1`,
      [projectId, FILES_IN_PROJECT],
    )
  } finally {
    await client.end()
  }
  const key = String(created.json.key)
  const list = await call('GET', LIST_PATH, key, undefined, [200])
  const items = list.json.items as unknown[]
  if (items.length !== FILES_IN_PROJECT) throw new Error(`expected ${FILES_IN_PROJECT} files in the list, got ${items.length}`)
  const limit = list.headers.get('x-ratelimit-limit')
  if (limit !== '1000000') throw new Error(`the READ override did not apply (X-RateLimit-Limit: ${limit})`)

  // A dashboard session: the sign-in form, as a browser without JavaScript sends it.
  const signIn = await fetch(`${origin}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ email, password }),
    redirect: 'manual',
  })
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  if (!cookie.includes('=')) throw new Error(`signing in answered ${signIn.status} without a session cookie`)
  const dashboardPath = `/orgs/${String(organization.json.slug)}/teams/${String(team.json.slug)}/projects/${String(project.json.slug)}/files`
  const pageCheck = await fetch(`${origin}${dashboardPath}`, { headers: { cookie } })
  if (pageCheck.status !== 200) throw new Error(`the files page answered ${pageCheck.status}`)
  return { key, body: list.text, dashboardPath, cookie, projectId }
}

/** One autocannon run against a target, with the target's CPU and memory sampled meanwhile. */
/** What one autocannon run against one target saw, with the target's CPU and memory sampled meanwhile. */
interface Slice {
  ok: number
  other: number
  errors: number
  latencies: number[]
  seconds: number
  serverTicks: number
  databaseTicks: number
  loadCpuSeconds: number
  peakRssKb: number
  /** Monotonic µs, the clock of V8's CPU profiles. */
  window: [number, number]
}

async function loadSlice(target: Target, connections: number, seconds: number, postmasterPid: number): Promise<Slice> {
  const pid = target.process.pid as number
  assertRunning(target)
  // autocannon stops at the deadline with requests still in flight: let every server finish those
  // before this slice starts, or they would weigh on its first requests.
  await settle(serverPids, postmasterPid)
  const latencies: number[] = []
  let ok = 0
  let other = 0
  let peakRssKb = 0
  const sample = () => (peakRssKb = Math.max(peakRssKb, procStatusKb(pid, 'VmRSS')))
  const sampler = setInterval(sample, 100)
  const serverBefore = cpuTicks([pid])
  const databaseBefore = cpuTicks(processTree(postmasterPid))
  const ownBefore = process.cpuUsage()
  const started = process.hrtime.bigint()

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const request = target.body === undefined ? {} : { method: 'POST' as const, body: target.body }
    const instance = autocannon({ url: target.url, connections, duration: seconds, headers: target.headers, ...request }, (error, finished) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(finished),
    )
    currentLoad = instance
    // (The typings leave out the first argument, the client.) Timings are hrtime-based, in ms.
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, milliseconds: number) => {
      if (target.expect.includes(statusCode)) {
        ok++
        latencies.push(milliseconds)
      } else other++
    })
  }).finally(() => {
    currentLoad = null
    clearInterval(sampler)
  })
  assertRunning(target)

  const ended = process.hrtime.bigint()
  const serverTicks = ticksSince(serverBefore, cpuTicks([pid]))
  const databaseTicks = ticksSince(databaseBefore, cpuTicks(processTree(postmasterPid)))
  const own = process.cpuUsage(ownBefore)
  sample()
  return {
    ok,
    other,
    errors: result.errors + result.timeouts,
    latencies,
    seconds: Number(ended - started) / 1e9,
    serverTicks,
    databaseTicks,
    loadCpuSeconds: (own.user + own.system) / 1e6,
    peakRssKb,
    window: [Number(started / 1000n), Number(ended / 1000n)],
  }
}

/** Waits (up to 5 s) until the servers and PostgreSQL together use at most 20 % of a core over 100 ms. */
async function settle(serverPids: number[], postmasterPid: number) {
  const used = () => ticksSince(new Map(), cpuTicks([...serverPids, ...processTree(postmasterPid)])) / clockTicksPerSecond()
  let before = used()
  for (let waited = 0; waited < 5_000; waited += 100) {
    await sleep(100)
    const now = used()
    if (now - before <= 0.02) return
    before = now
  }
}

function assertRunning({ name, process: child }: Target) {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`the ${name === 'bare' ? 'bare Express' : 'Carcosa'} server stopped (${child.signalCode ?? `exit code ${child.exitCode}`})`)
  }
}

function summarize(target: Target, connections: number, slices: Slice[]): Measurement {
  const sum = (pick: (slice: Slice) => number) => slices.reduce((total, slice) => total + pick(slice), 0)
  const seconds = sum((slice) => slice.seconds)
  const latencies = slices.flatMap((slice) => slice.latencies).sort((a, b) => a - b)
  const ok = sum((slice) => slice.ok)
  const ticks = clockTicksPerSecond()
  return {
    target: target.name,
    label: target.label,
    connections,
    seconds,
    ok,
    other: sum((slice) => slice.other),
    errors: sum((slice) => slice.errors),
    requestsPerSecond: ok / seconds,
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    serverCpu: sum((slice) => slice.serverTicks) / ticks / seconds,
    databaseCpu: sum((slice) => slice.databaseTicks) / ticks / seconds,
    loadCpu: sum((slice) => slice.loadCpuSeconds) / seconds,
    peakRssMb: Math.max(...slices.map((slice) => slice.peakRssKb)) / 1024,
    windows: slices.map((slice) => slice.window),
  }
}

const percentile = (sorted: number[], q: number) =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number)

function procStatusKb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : 0
  } catch {
    return 0
  }
}

/** utime + stime of each process, in clock ticks. */
function cpuTicks(pids: number[]): Map<number, number> {
  const ticks = new Map<number, number>()
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks.set(pid, Number(fields[11]) + Number(fields[12]))
    } catch {
      // gone meanwhile
    }
  }
  return ticks
}

/** CPU ticks used between two samples by the processes alive at the second (new ones from zero). */
function ticksSince(before: Map<number, number>, after: Map<number, number>) {
  let total = 0
  for (const [pid, ticks] of after) total += Math.max(0, ticks - (before.get(pid) ?? 0))
  return total
}

/** The PostgreSQL postmaster and its children (backends, background workers). */
function processTree(root: number): number[] {
  const pids = [root]
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

let ticksPerSecond: number | undefined
function clockTicksPerSecond() {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
  return ticksPerSecond
}

function describeMachine() {
  const cpus = os.cpus()
  const autocannonVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string })
    .version
  return (
    `${new Date().toISOString().slice(0, 10)} · ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'} · ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${os.type()} ${os.release()} · autocannon ${autocannonVersion} · ` +
    `load average ${os.loadavg()[0]?.toFixed(2)} at the start` +
    ((os.loadavg()[0] ?? 0) > cpus.length / 2 ? ' (a busy machine: the figures will be low and noisy)' : '')
  )
}

function resultTable(results: Measurement[]) {
  const rows = [
    '| target | clients | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | failed | server CPU | CPU ms/request | PostgreSQL CPU | autocannon CPU | peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of results) {
    rows.push(
      `| ${r.label} | ${r.connections} | ${r.ok} | ${r.requestsPerSecond.toFixed(0)} | ` +
        `${r.p50.toFixed(2)} | ${r.p90.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.other + r.errors} | ` +
        `${percent(r.serverCpu)} | ${cpuPerRequest(r)} | ${percent(r.databaseCpu)} | ${percent(r.loadCpu)} | ${r.peakRssMb.toFixed(0)} |`,
    )
  }
  return rows.join('\n')
}

const percent = (share: number) => `${(share * 100).toFixed(0)} %`
/** Milliseconds of the server's CPU per answered request. */
const cpuPerRequest = (r: Measurement) => ((r.serverCpu / r.requestsPerSecond) * 1e3).toFixed(2)

function verdict(results: Measurement[]) {
  const lines: string[] = ['Carcosa / the Express + pg reference (and / bare Express):']
  const find = (target: TargetName, c: number) => results.find((r) => r.target === target && r.connections === c)
  const connections = [...new Set(results.filter((r) => r.target === 'carcosa').map((r) => r.connections))]
  for (const c of connections) {
    const carcosa = find('carcosa', c)
    const reference = find('reference', c)
    const bare = find('bare', c)
    if (!carcosa || !reference || !bare) continue
    const floor = find('carcosa-401', c)
    lines.push(
      `  ${c} client${c === 1 ? '' : 's'}: throughput ${(carcosa.requestsPerSecond / reference.requestsPerSecond).toFixed(2)}× the reference ` +
        `(${carcosa.requestsPerSecond.toFixed(0)} vs ${reference.requestsPerSecond.toFixed(0)} req/s), ` +
        `${(carcosa.requestsPerSecond / bare.requestsPerSecond).toFixed(2)}× bare (${bare.requestsPerSecond.toFixed(0)} req/s); ` +
        `server CPU per request ${cpuPerRequest(carcosa)} ms vs ${cpuPerRequest(reference)} ms (reference), ${cpuPerRequest(bare)} ms (bare)` +
        (floor ? `, ${cpuPerRequest(floor)} ms for the 401` : ''),
    )
  }
  // The issue's targets, stated at TARGET_CONNECTIONS clients, for each path against its reference.
  const paths: Array<[string, TargetName, TargetName]> = [
    ['Files list', 'carcosa', 'reference'],
    ['Upload init', 'carcosa-init', 'reference-init'],
  ]
  for (const [label, target, referenceTarget] of paths) {
    const ours = find(target, TARGET_CONNECTIONS)
    const theirs = find(referenceTarget, TARGET_CONNECTIONS)
    if (!ours || !theirs) {
      lines.push(`(${label}: the target is stated at ${TARGET_CONNECTIONS} clients, which this run did not measure)`)
      continue
    }
    const ratio = ours.requestsPerSecond / theirs.requestsPerSecond
    const failures = ours.other + ours.errors
    lines.push(
      `${label} at ${TARGET_CONNECTIONS} clients: ${ours.requestsPerSecond.toFixed(0)} vs ${theirs.requestsPerSecond.toFixed(0)} req/s, ` +
        `server CPU per request ${cpuPerRequest(ours)} ms vs ${cpuPerRequest(theirs)} ms; ` +
        `throughput >= ${TARGET_RATIO}× the reference: ${ratio >= TARGET_RATIO ? 'MET' : 'MISSED'} (${ratio.toFixed(2)}×); ` +
        `p99 < ${TARGET_P99_MS} ms: ${ours.p99 < TARGET_P99_MS ? 'MET' : 'MISSED'} (${ours.p99.toFixed(1)} ms; reference ${theirs.p99.toFixed(1)} ms)` +
        (failures > 0 ? `; but ${failures} requests failed, so the figures do not stand` : ''),
    )
  }
  const page = find('dashboard', DASHBOARD_CONNECTIONS)
  if (page) {
    lines.push(
      `Dashboard files page at ${DASHBOARD_CONNECTIONS} clients: p99 < ${DASHBOARD_TARGET_P99_MS} ms: ` +
        `${page.p99 < DASHBOARD_TARGET_P99_MS ? 'MET' : 'MISSED'} (${page.p99.toFixed(1)} ms, ${page.requestsPerSecond.toFixed(0)} req/s)` +
        (page.other + page.errors > 0 ? `; but ${page.other + page.errors} requests failed` : ''),
    )
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary: self and inclusive time by package, and the hottest functions, counting only
// the samples taken during the given windows.

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

async function summarizeProfile(dir: string, pid: number | undefined, windows: Array<[number, number]>, connections: number) {
  // CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile: thread 0 is the main thread (1 is tsx's loader).
  const files = (await fs.readdir(dir)).filter((file) => file.endsWith('.cpuprofile') && file.includes(`.${pid}.0.`))
  const file = files.sort().at(-1)
  if (!file) return `no CPU profile of process ${pid} in ${dir}`
  const profile = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

  const self = new Map<string, number>()
  const charged = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const functions = new Map<string, number>()
  const functionsInclusive = new Map<string, number>()
  let total = 0
  let time = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    time += delta
    if (!windows.some(([from, to]) => time >= from && time <= to)) continue
    const next = profile.timeDeltas[i + 1] ?? delta
    const leaf = byId.get(profile.samples[i] as number)
    if (!leaf) continue
    total += next
    add(self, bucketOf(leaf), next)
    add(charged, chargedBucket(leaf, byId, parent), next)
    add(functions, `${leaf.callFrame.functionName || '(anonymous)'} ${shortUrl(leaf.callFrame.url, leaf.callFrame.lineNumber)}`, next)
    const seen = new Set<string>()
    const seenFunctions = new Set<string>()
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)
      if (!node || node.callFrame.functionName === '(root)') continue
      seen.add(bucketOf(node))
      seenFunctions.add(`${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url, node.callFrame.lineNumber)}`)
    }
    for (const bucket of seen) add(inclusive, bucket, next)
    for (const name of seenFunctions) add(functionsInclusive, name, next)
  }
  if (total === 0) return `the profile ${file} has no samples inside the measured runs`
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `    ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n')
  return [
    `CPU profile of Carcosa (${path.join(dir, file)}), ${(total / 1e6).toFixed(1)} s sampled during the measured runs at ${connections} clients`,
    '  self time by package:',
    top(self, 12),
    '  self time, Node internals charged to the package that called them:',
    top(charged, 12),
    '  inclusive time by package (on the synchronous stack):',
    top(inclusive, 12),
    '  hottest functions (self):',
    top(functions, 15),
    '  functions by inclusive time (on the synchronous stack; work after an await counts under the microtask queue):',
    top(functionsInclusive, 30),
  ].join('\n')
}

function add(map: Map<string, number>, key: string, value: number) {
  map.set(key, (map.get(key) ?? 0) + value)
}

const NODE_BUCKETS = new Set(['node (internals)', '(native)', '(program)'])

/** The leaf's package, or for Node's own code the nearest calling package on the stack. */
function chargedBucket(leaf: ProfileNode, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  const own = bucketOf(leaf)
  if (!NODE_BUCKETS.has(own)) return own
  for (let id = parent.get(leaf.id); id !== undefined; id = parent.get(id)) {
    const node = byId.get(id)
    if (!node || node.callFrame.functionName === '(root)') break
    const bucket = bucketOf(node)
    if (!NODE_BUCKETS.has(bucket)) return `${bucket} (via Node)`
  }
  return `${own} (no caller: I/O callbacks, timers)`
}

function bucketOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  // The only WebAssembly in the server is Prisma's query compiler (engineType "client").
  if (url.startsWith('wasm://') || url.includes('/query_compiler')) return '@prisma/client (query compiler)'
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/')
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url)
  }
  if (url.startsWith('node:')) return 'node (internals)'
  const relative = url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')
  if (relative.startsWith('build/')) return 'app (build/index.js)'
  if (relative.startsWith('app/generated/')) return 'app/generated (Prisma client)'
  return relative
}

function shortUrl(url: string, line: number) {
  if (!url) return ''
  const modules = url.lastIndexOf('/node_modules/')
  const short = modules >= 0 ? url.slice(modules + '/node_modules/'.length) : url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')
  return `${short}:${line + 1}`
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// Last, once every module-level binding above is initialised.
if (process.argv.includes('--bare-server')) await runBareServer()
else if (process.argv.includes('--reference-server')) await runReferenceServer()
else await main()
