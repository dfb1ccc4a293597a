/**
 * The `carcosa` CLI as its users run it: the built bin (node_modules/.bin/carcosa) in child
 * processes against a real Carcosa (server.ts) whose bucket is s3rver behind a small proxy that
 * counts the multipart part PUTs, so resumed uploads are measured outside the CLI. Each CLI run
 * gets its own config and state directories (XDG_CONFIG_HOME, XDG_DATA_HOME) in a temporary home.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { prisma } from '~/utils/db.server'
import { createTestApiKey, createWorkspace } from '../support/factories'
import { startCarcosa } from '../support/carcosa-server'
import { s3Endpoint } from '../support/s3'
import { attachS3Bucket } from '../support/storage-factories'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = path.join(ROOT, 'node_modules', '.bin', 'carcosa')
const MIB = 1024 * 1024
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

let carcosaUrl: string
let apiKey: string
let home: string
let work: string

/** Part PUTs that reached the bucket, with the phase of the test that sent them. */
const partPuts: Array<{ phase: string; partNumber: number; bytes: number }> = []
let phase = 'setup'
let proxy: http.Server

/** Forwards everything to s3rver and records part uploads (`PUT ...?partNumber=N`). */
async function startCountingProxy(target: string): Promise<string> {
  const upstream = new URL(target)
  proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', target)
    if (req.method === 'PUT' && url.searchParams.has('partNumber')) {
      partPuts.push({ phase, partNumber: Number(url.searchParams.get('partNumber')), bytes: Number(req.headers['content-length'] ?? 0) })
    }
    const forward = http.request(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.on('error', () => forward.destroy())
    res.on('close', () => forward.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(proxy.address() as { port: number }).port}`
}

before(async () => {
  const workspace = await createWorkspace()
  const { bucket } = await attachS3Bucket(workspace.project.id)
  await prisma.bucket.update({ where: { id: bucket.id }, data: { endpoint: await startCountingProxy(s3Endpoint()) } })
  apiKey = (
    await createTestApiKey(workspace.owner.actor, workspace.project.id, [
      'files:read',
      'files:write',
      'files:delete',
      'projects:read',
      'tenants:manage',
      'transforms:execute',
    ])
  ).key
  carcosaUrl = await startCarcosa()
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-cli-home-'))
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-cli-work-'))
})

after(async () => {
  proxy?.closeAllConnections()
  proxy?.close()
  for (const dir of [home, work]) if (dir) await fs.rm(dir, { recursive: true, force: true })
})

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: process.env.NODE_ENV }
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('CARCOSA_')) env[name] = value
  return { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), ...extra }
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout's JSON lines (with --json). */
  events: Array<Record<string, unknown> & { type?: string }>
}

/**
 * Runs the bin; `onEvent` sees each JSON line as it arrives and may act on the process (signals).
 */
function carcosa(
  args: string[],
  options: {
    input?: Buffer | string
    env?: Record<string, string>
    onEvent?: (event: Record<string, unknown>, child: ChildProcess) => void
  } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: work, env: cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let pending = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      pending += chunk.toString()
      let newline: number
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline)
        pending = pending.slice(newline + 1)
        if (options.onEvent && line.startsWith('{')) options.onEvent(JSON.parse(line) as Record<string, unknown>, child)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Run['events'][number])
      resolve({ code, signal, stdout, stderr, events })
    })
    child.stdin.end(options.input ?? '')
  })
}

const ofType = (run: Run, type: string) => run.events.filter((event) => event.type === type)

describe('carcosa', () => {
  test('--help works from the repository, and usage errors exit 2 with one line', async () => {
    const help = await carcosa(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /upload \[options\] <paths\.\.\.>/)

    for (const args of [['frobnicate'], ['upload'], ['upload', 'x', '--concurrency', '0'], ['files', 'list', '--limit', 'many']]) {
      const run = await carcosa(args)
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, /^carcosa: [^\n]+ \(see --help\)\n$/, 'one line')
    }
    const missing = await carcosa(['upload', 'no-such-file.txt'])
    assert.equal(missing.code, 2)
    assert.equal(missing.stderr, 'carcosa: no-such-file.txt: no such file or directory\n')

    const notLoggedIn = await carcosa(['files', 'list', '--json'])
    assert.equal(notLoggedIn.code, 2)
    assert.match(notLoggedIn.stderr, /Not logged in .*carcosa login/)
    assert.deepEqual(ofType(notLoggedIn, 'error').length, 1)
  })

  test('login stores the URL and key in the config directory, mode 0600, and refuses a bad key', async () => {
    // Off a terminal the key is read from standard input, with or without --api-key-stdin.
    const refused = await carcosa(['login', '--url', carcosaUrl], { input: 'ck_not_a_real_key\n' })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^carcosa: .*does not accept this API key.*\n$/)

    const run = await carcosa(['login', '--url', `${carcosaUrl}/dashboard`, '--api-key-stdin', '--json'], { input: `${apiKey}\n` })
    assert.equal(run.code, 0, run.stderr)
    const [login] = ofType(run, 'login')
    const file = path.join(home, 'config', 'carcosa', 'config.json')
    assert.equal(login?.config, file)
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600)
    const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { profiles: Record<string, { url: string; apiKey: string }> }
    assert.deepEqual([saved.profiles.default?.url, saved.profiles.default?.apiKey], [carcosaUrl, apiKey])
    assert.deepEqual(await fs.readdir(work), [], 'nothing is written in the working directory')

    // The environment overrides the profile.
    const overridden = await carcosa(['files', 'list'], { env: { CARCOSA_API_KEY: 'ck_wrong' } })
    assert.equal(overridden.code, 1)
    assert.match(overridden.stderr, /^carcosa: .*\(HTTP 401\)\n$/)
    const otherProfile = await carcosa(['--profile', 'staging', 'files', 'list'])
    assert.equal(otherProfile.code, 2)
    assert.match(otherProfile.stderr, /profile staging/)
  })

  test('a directory upload with --json: relative names, filters, events in order, totals, per-file failure', async () => {
    const dir = path.join(work, 'tree')
    await fs.mkdir(path.join(dir, 'sub', 'deeper'), { recursive: true })
    const contents: Record<string, Buffer> = {
      'a.txt': Buffer.from('alpha\n'),
      'sub/b.bin': randomBytes(300 * 1024),
      'sub/deeper/c.txt': Buffer.from('gamma\n'),
      // A PNG by name whose bytes are text: Carcosa refuses it at completion; the others go on.
      'sub/fake.png': Buffer.from('not a png at all\n'),
    }
    for (const [name, bytes] of Object.entries(contents)) await fs.writeFile(path.join(dir, name), bytes)
    await fs.writeFile(path.join(dir, 'debug.log'), 'left out\n')

    const run = await carcosa(['upload', '-r', dir, '--exclude', '*.log', '--json', '--concurrency', '2'])
    assert.equal(run.code, 1, 'a failed file makes the run fail')
    const types = run.events.map((event) => event.type)
    assert.equal(types[0], 'plan')
    assert.equal(types.at(-1), 'summary')
    const plan = run.events[0]!
    const expectedBytes = Object.values(contents).reduce((sum, bytes) => sum + bytes.length, 0)
    assert.deepEqual([plan.files, plan.bytes, plan.skipped], [4, expectedBytes, 1])
    assert.deepEqual(
      ofType(run, 'skipped').map((e) => e.name),
      ['debug.log'],
    )

    for (const name of Object.keys(contents)) {
      const own = run.events.filter((event) => event.name === name)
      assert.equal(own[0]?.type, 'start', name)
      const last = own.at(-1)!
      assert.equal(last.type, name === 'sub/fake.png' ? 'failed' : 'uploaded', name)
      const loaded = own.filter((e) => e.type === 'progress').map((e) => e.loaded as number)
      assert.deepEqual(
        loaded,
        [...loaded].sort((a, b) => a - b),
        `${name}: progress only grows`,
      )
      if (name !== 'sub/fake.png') assert.equal(loaded.at(-1), contents[name]!.length)
    }
    const totals = ofType(run, 'progress').map((e) => e.totalLoaded as number)
    assert.deepEqual(
      totals,
      [...totals].sort((a, b) => a - b),
      'the total only grows',
    )
    assert.ok(totals.every((total) => total <= expectedBytes))

    const summary = run.events.at(-1)!
    assert.deepEqual(
      [summary.uploaded, summary.skipped, summary.failed, summary.bytes],
      [3, 1, 1, expectedBytes - contents['sub/fake.png']!.length],
    )
    const [failed] = ofType(run, 'failed')
    assert.match(String((failed?.error as { message: string }).message), /HTTP 4\d\d/)

    // Events name files by their path in the tree, and so does Carcosa: the relative path is the file's name.
    const deeper = ofType(run, 'uploaded').find((event) => event.name === 'sub/deeper/c.txt')
    assert.deepEqual(deeper?.file && [(deeper.file as { name: string }).name, (deeper.file as { size: number }).size], ['sub/deeper/c.txt', 6])

    // The human summary off a terminal, for the same tree with --dry-run: nothing sent.
    const dry = await carcosa(['upload', '-r', dir, '--include', 'sub/**', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /would upload sub\/b\.bin/)
    assert.match(dry.stdout, /^0 uploaded, 5 skipped, 0 failed \(dry run: nothing sent\)$/m)
  })

  test('standard input, with and without --size; plain lines off a terminal; expired upload states are pruned', async () => {
    const states = path.join(home, 'data', 'carcosa', 'uploads')
    await fs.mkdir(states, { recursive: true })
    const expired = { upload: { method: 'MULTIPART', expiresAt: new Date(Date.now() - 1000).toISOString() }, parts: [], savedAt: 0 }
    await fs.writeFile(path.join(states, 'expired.json'), JSON.stringify(expired))
    await fs.writeFile(path.join(states, 'unreadable.json'), '{')
    const text = 'line one\nline two\n'
    const streamed = await carcosa(['upload', '-', '--name', 'notes.txt', '--json'], { input: text })
    assert.equal(streamed.code, 0, streamed.stderr)
    const [event] = ofType(streamed, 'uploaded')
    assert.deepEqual([event?.name, (event?.file as { size: number }).size], ['notes.txt', Buffer.byteLength(text)])
    const sized = await carcosa(['upload', '-', '--name', 'sized.bin', '--size', '300KB'], { input: randomBytes(300 * 1024) })
    assert.equal(sized.code, 0, sized.stderr)
    assert.match(sized.stdout, /^uploaded sized\.bin -> \S+ \S+-sized\.bin$/m)
    assert.match(sized.stdout, /^1 uploaded, 0 skipped, 0 failed \(300 KiB in [\d.]+ s\)$/m)
    assert.match(sized.stderr, /^sized\.bin: started \(300 KiB\)$/m)
    const short = await carcosa(['upload', '-', '--name', 'short.bin', '--size', '1000'], { input: 'too short' })
    assert.equal(short.code, 1, 'fewer bytes than --size fail')
    assert.match(short.stderr, /^failed short\.bin: standard input had 9 bytes, not the 1000 that --size says$/m)
    assert.equal((await carcosa(['upload', 'a', '--size', '10'])).code, 2, '--size without -')
    assert.deepEqual(await fs.readdir(states), [], 'expired and unreadable states were removed')
  })

  test('list, get, download byte-identical (to a file and to stdout), rm', async () => {
    const bytes = randomBytes(3 * MIB + 17)
    await fs.writeFile(path.join(work, 'report.bin'), bytes)
    const up = await carcosa(['upload', path.join(work, 'report.bin'), '--json'])
    assert.equal(up.code, 0, up.stderr)
    const id = (ofType(up, 'uploaded')[0]!.file as { id: string }).id
    const all = await carcosa(['files', 'ls', '--all', '--type', 'application/*', '--json'])
    assert.ok(all.events.some((file) => file.id === id))
    assert.ok(all.events.every((file) => String(file.contentType).startsWith('application/')))

    const list = await carcosa(['files', 'ls', '--prefix', 'report', '--json'])
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(
      list.events.map((file) => file.id),
      [id],
    )
    const human = await carcosa(['files', 'list', '--limit', '2'])
    assert.match(human.stdout, /^ID\s+SIZE\s+TYPE\s+CREATED\s+NAME$/m)
    assert.match(human.stderr, /More files: carcosa files list --cursor /)

    const get = await carcosa(['files', 'get', id, '--json'])
    assert.deepEqual([get.events[0]?.id, get.events[0]?.size], [id, bytes.length])

    const out = path.join(work, 'downloaded.bin')
    const download = await carcosa(['download', id, '-o', out])
    assert.equal(download.code, 0, download.stderr)
    assert.equal(sha(await fs.readFile(out)), sha(bytes))
    const piped = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(BIN, ['download', id, '-o', '-'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'inherit'] })
      const chunks: Buffer[] = []
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
      child.on('error', reject)
      child.on('close', () => resolve(Buffer.concat(chunks)))
    })
    assert.equal(sha(piped), sha(bytes))

    const rm = await carcosa(['rm', id, 'file_that_does_not_exist', '--json'])
    assert.equal(rm.code, 1, 'a missing file fails the run')
    assert.deepEqual(
      ofType(rm, 'deleted').map((e) => e.id),
      [id],
    )
    const gone = await carcosa(['files', 'get', id])
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /^carcosa: .*\(HTTP 404\)\n$/)
  })

  test('url signs a transform URL that loads; tenants list, create, update, delete; upload into a tenant', async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 200 } } })
      .png()
      .toBuffer()
    await fs.writeFile(path.join(work, 'pic.png'), png)

    const tenant = await carcosa(['tenants', 'create', 'acme', '--name', 'Acme', '--json'])
    assert.equal(tenant.code, 0, tenant.stderr)
    const bad = await carcosa(['tenants', 'create', 'Not A Slug!', '--name', 'x'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^carcosa: .*slug.*\(HTTP 400\)\n$/)
    const renamed = await carcosa(['tenants', 'update', 'acme', '--name', 'Acme Inc', '--json'])
    assert.equal(renamed.events[0]?.name, 'Acme Inc')
    const tenants = await carcosa(['tenants', 'list'])
    assert.match(tenants.stdout, /acme\s+Acme Inc/)

    const up = await carcosa(['upload', path.join(work, 'pic.png'), '--tenant', 'acme', '--json'])
    assert.equal(up.code, 0, up.stderr)
    const file = ofType(up, 'uploaded')[0]!.file as { id: string; path: string; tenantId: string }
    assert.equal(file.tenantId, tenant.events[0]?.id)
    const inTenant = await carcosa(['files', 'ls', '--tenant', 'acme', '--json'])
    assert.deepEqual(
      inTenant.events.map((f) => f.id),
      [file.id],
    )

    const signed = await carcosa(['url', file.path, '--w', '32', '--format', 'webp', '--expires', '600'])
    assert.equal(signed.code, 0, signed.stderr)
    const response = await fetch(signed.stdout.trim())
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'image/webp')
    assert.equal((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).width, 32)
    const byId = await carcosa(['url', file.id, '--w', '16', '--json'])
    assert.match(String(byId.events[0]?.url), new RegExp(`/${file.path.replace(/[.]/g, '\\.')}\\?`), 'an id stands for its path')
    const badUrl = await carcosa(['url', file.path, '--format', 'bmp-ish'])
    assert.equal(badUrl.code, 1)
    assert.match(badUrl.stderr, /format/)

    const refused = await carcosa(['tenants', 'delete', 'acme'])
    assert.equal(refused.code, 1, 'a tenant with files is kept')
    assert.match(refused.stderr, /\(HTTP 409\)/)
    assert.equal((await carcosa(['rm', file.id])).code, 0)
    assert.equal((await carcosa(['tenants', 'delete', 'acme'])).code, 0)
  })

  test('a large upload stopped by Ctrl-C, then by kill -9, resumes and re-sends only parts that were in flight', async () => {
    const bytes = randomBytes(48 * MIB) // six 8 MiB parts
    const file = path.join(work, 'big.bin')
    await fs.writeFile(file, bytes)
    const args = ['upload', file, '--json', '--part-concurrency', '1']
    const done = new Set<number>()
    const record = (event: Record<string, unknown>) => event.type === 'part' && done.add(event.partNumber as number)

    phase = 'ctrl-c'
    const first = await carcosa(args, {
      onEvent: (event, child) => {
        record(event)
        if (event.type === 'part') child.kill('SIGINT')
      },
    })
    assert.equal(first.code, 130, first.stderr)
    assert.match(first.stderr, /Run the same command again to resume: carcosa upload .*big\.bin --json --part-concurrency 1/)
    assert.equal(ofType(first, 'summary')[0]?.interrupted, true)

    phase = 'kill-9'
    const doneBefore = done.size
    const second = await carcosa(args, {
      onEvent: (event, child) => {
        record(event)
        if (event.type === 'part' && done.size > doneBefore) child.kill('SIGKILL')
      },
    })
    assert.equal(second.signal, 'SIGKILL')
    assert.ok((ofType(second, 'start')[0]?.resumedParts as number) >= doneBefore)

    phase = 'resume'
    const savedParts = new Set(done)
    const third = await carcosa(args, { onEvent: record })
    assert.equal(third.code, 0, third.stderr)
    const [start] = ofType(third, 'start')
    assert.ok((start?.resumedParts as number) >= savedParts.size, `resumed after ${String(start?.resumedParts)} parts`)
    assert.equal(start?.partCount, 6)
    assert.equal(start?.resumedBytes, (start?.resumedParts as number) * 8 * MIB)
    assert.equal(ofType(third, 'progress')[0]?.loaded, start?.resumedBytes, 'progress starts from the stored parts')

    // Measured at the bucket: the last run sent only parts that no earlier run had finished.
    const resent = partPuts.filter((put) => put.phase === 'resume')
    assert.ok(resent.length >= 1 && resent.length <= 6 - savedParts.size, `the last run sent ${resent.length} parts`)
    for (const put of resent) assert.ok(!savedParts.has(put.partNumber), `part ${put.partNumber} was finished before and sent again`)
    const resentBytes = resent.reduce((sum, put) => sum + put.bytes, 0)
    assert.ok(resentBytes <= bytes.length - 2 * 8 * MIB, `re-sent ${resentBytes} bytes of ${bytes.length}`)

    const summary = ofType(third, 'summary')[0]!
    assert.equal(summary.resumedBytes, start?.resumedBytes)
    assert.ok(resentBytes >= bytes.length - (summary.resumedBytes as number), 'every missing part reached the bucket')
    const uploaded = ofType(third, 'uploaded')[0]!.file as { id: string; size: number }
    assert.equal(uploaded.size, bytes.length)
    const out = path.join(work, 'big.back')
    assert.equal((await carcosa(['download', uploaded.id, '-o', out])).code, 0)
    assert.equal(sha(await fs.readFile(out)), sha(bytes))
    assert.deepEqual(await fs.readdir(path.join(home, 'data', 'carcosa', 'uploads')), [], 'a finished upload leaves no state')
  })

  test('on a terminal, upload draws progress bars', async () => {
    await fs.writeFile(path.join(work, 'tty.bin'), randomBytes(2 * MIB))
    const command = `${BIN} upload ${path.join(work, 'tty.bin')} ${path.join(work, 'pic.png')}`
    const run = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      // `script` gives the CLI a pseudo-terminal for its stdin, stdout and stderr.
      const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: work, env: { ...cliEnv(), TERM: 'xterm', COLUMNS: '120' } })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, output }))
    })
    assert.equal(run.code, 0, run.output)
    // A pseudo-terminal of unknown width counts as 80 columns: the total's line fits.
    assert.match(run.output, /total\s+█+ 100% \| 2 MiB\/2 MiB \| [\d.]+ [KM]iB\/s \| ETA\s+\d+s \| 2\/2 files/)
    assert.match(run.output, /tty\.bin\s+[█░]+\s+\d+% \| /)
    assert.match(run.output, /uploaded tty\.bin -> /)
    assert.match(run.output, /2 uploaded, 0 skipped, 0 failed/)
  })
})
