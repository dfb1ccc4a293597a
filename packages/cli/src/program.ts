import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { createInterface } from 'node:readline/promises'
import { CarcosaApi, CarcosaError, formatFileSize, parseFileSize, type CarcosaFile, type Tenant } from '@carcosa/sdk'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { configFile, profileName, resolveConnection, saveProfile } from './config.js'
import { EXIT, UsageError, errorEvent, errorLine } from './errors.js'
import { Output, table } from './output.js'
import { collect, commandLine, runUpload, type UploadCommandOptions } from './upload.js'

interface GlobalOptions {
  profile?: string
  json?: boolean
  quiet?: boolean
}

const VERSION = '0.1.0'

const positiveInt =
  (name: string, max = Number.MAX_SAFE_INTEGER) =>
  (value: string) => {
    const number = Number(value)
    if (!/^\d+$/.test(value) || number < 1 || number > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`)
    return number
  }
const byteSize = (value: string) => {
  try {
    return /^\d+$/.test(value) ? Number(value) : parseFileSize(value as `${number}MB`)
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message)
  }
}
const collectList = (value: string, previous: string[] = []) => [...previous, value]
const jsonObject = (value: string) => {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new InvalidArgumentError('must be a JSON object, e.g. {"plan":"pro"}')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object')
  return parsed as Record<string, unknown>
}

function outputOf(command: Command): Output {
  const options = command.optsWithGlobals<GlobalOptions>()
  return new Output(Boolean(options.json), Boolean(options.quiet))
}

/** The client for the profile (or CARCOSA_URL / CARCOSA_API_KEY). */
async function clientOf(command: Command) {
  const { profile, url, apiKey } = await resolveConnection(command.optsWithGlobals<GlobalOptions>().profile)
  if (!url || !apiKey) {
    throw new UsageError(`Not logged in (profile ${profile}): run \`carcosa login\`, or set CARCOSA_URL and CARCOSA_API_KEY`)
  }
  return { api: new CarcosaApi({ baseUrl: url, apiKey }), url, apiKey }
}

/** A tenant named by id or slug (the API addresses tenants by id). */
async function tenantIdOf(api: CarcosaApi, value: string): Promise<string> {
  try {
    return (await api.tenants.get(value)).id
  } catch (error) {
    if (!(error instanceof CarcosaError) || error.status !== 404) throw error
  }
  for await (const tenant of api.tenants.iterate()) if (tenant.slug === value) return tenant.id
  throw new CarcosaError({ code: 'NOT_FOUND', status: 404, message: `No tenant with the id or slug ${value} in this project` })
}

const fileRow = (file: CarcosaFile) => [
  file.id,
  formatFileSize(file.size),
  file.contentType,
  file.createdAt.slice(0, 19).replace('T', ' '),
  file.name,
]
const tenantRow = (tenant: Tenant) => [tenant.id, tenant.slug, tenant.name]

async function prompt(question: string, hidden = false): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  if (hidden) {
    // Echo nothing of the key but the question itself.
    const write = (rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput
    ;(rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = (text: string) => {
      if (text.includes(question)) write.call(rl, text)
    }
  }
  try {
    return (await rl.question(question)).trim()
  } finally {
    if (hidden) process.stderr.write('\n')
    rl.close()
  }
}

async function readStdin(): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text.trim()
}

export function buildProgram(): Command {
  const program = new Command('carcosa')
    .description('Upload, list, download and manage files in Carcosa')
    .version(VERSION)
    .option('--profile <name>', 'the saved login to use (default: CARCOSA_PROFILE or "default")')
    .option('--json', 'print one JSON object per line: results, and progress events for uploads')
    .option('-q, --quiet', 'print results only: no progress, no notes')
    .addHelpText(
      'after',
      `
Environment: CARCOSA_URL and CARCOSA_API_KEY override the profile; CARCOSA_PROFILE picks one.
Exit codes: 0 done, 1 failed (the server refused, a file failed), 2 usage (bad arguments, not logged in), 130 interrupted.`,
    )

  program
    .command('login')
    .alias('init')
    .description("save Carcosa's URL and a project API key in your config directory (mode 0600)")
    .option('--url <url>', "Carcosa's URL, e.g. https://media.example.com")
    .addOption(new Option('--base-url <url>').hideHelp())
    .option('--api-key <key>', 'the API key (visible to other local users in the process list: prefer the prompt or --api-key-stdin)')
    .option('--api-key-stdin', 'read the API key from standard input (also done when it is not a terminal)')
    .option('--no-verify', 'save without asking Carcosa whether the key is valid')
    .action(async (options: { url?: string; baseUrl?: string; apiKey?: string; apiKeyStdin?: boolean; verify: boolean }, command: Command) => {
      const out = outputOf(command)
      const interactive = process.stdin.isTTY && process.stderr.isTTY
      let url = options.url ?? options.baseUrl ?? process.env.CARCOSA_URL
      if (!url && interactive) url = await prompt('Carcosa URL: ')
      if (!url) throw new UsageError('Give --url (or set CARCOSA_URL)')
      try {
        url = new URL(url).origin
      } catch {
        throw new UsageError(`--url must be a URL such as https://media.example.com, not ${url}`)
      }
      let apiKey = options.apiKeyStdin ? await readStdin() : (options.apiKey ?? process.env.CARCOSA_API_KEY)
      if (!apiKey) apiKey = interactive ? await prompt('API key: ', true) : !process.stdin.isTTY ? await readStdin() : undefined
      if (!apiKey) throw new UsageError('Give the API key: --api-key-stdin, --api-key, CARCOSA_API_KEY, or run in a terminal to be asked')
      let projectId: string | undefined
      if (options.verify) {
        const api = new CarcosaApi({ baseUrl: url, apiKey })
        const answer = await api.request<{ valid: boolean; projectId?: string; permissions?: string[] }>('POST', '/api/v1/tokens/validate', {
          body: { key: apiKey },
        })
        if (!answer.valid)
          throw new CarcosaError({
            code: 'UNAUTHORIZED',
            status: 401,
            message: `${url} does not accept this API key (unknown, revoked or expired)`,
          })
        projectId = answer.projectId
      }
      const profile = profileName(command.optsWithGlobals<GlobalOptions>().profile)
      await saveProfile(profile, { url, apiKey, ...(projectId ? { projectId } : {}) })
      out.result(
        { type: 'login', profile, url, projectId: projectId ?? null, config: configFile() },
        () => `Logged in to ${url}${projectId ? ` (project ${projectId})` : ''} as profile ${profile}; saved in ${configFile()}`,
      )
    })

  program
    .command('logout')
    .description('forget the profile saved by login')
    .action(async (_options: object, command: Command) => {
      const profile = profileName(command.optsWithGlobals<GlobalOptions>().profile)
      await saveProfile(profile, null)
      outputOf(command).result({ type: 'logout', profile }, () => `Forgot profile ${profile}`)
    })

  program
    .command('upload')
    .description('upload files, directories (-r) or standard input (-); large files resume where an interrupted run stopped')
    .argument('<paths...>', 'files, directories with -r, or - for standard input')
    .option('-r, --recursive', 'upload the files in directories, named by their paths relative to the directory')
    .option('--include <glob>', 'only files matching (repeatable; *.jpg matches at any depth)', collectList)
    .option('--exclude <glob>', 'leave out files matching (repeatable)', collectList)
    .option('--tenant <id-or-slug>', 'the tenant to put the files in')
    .option('--concurrency <n>', 'files in flight at once', positiveInt('--concurrency', 32), 4)
    .option('--part-concurrency <n>', 'parts of one large file in flight at once', positiveInt('--part-concurrency', 32), 4)
    .option('--multipart-threshold <size>', 'files larger than this go in resumable parts', byteSize, 16 * 1024 * 1024)
    .option('--dry-run', 'list what would be uploaded, send nothing')
    .option('--size <size>', 'the size of standard input, when known (allows a direct upload)', byteSize)
    .option('--name <name>', 'the file name for standard input (or for a single file)')
    .option('--no-resume', 'neither save nor use resumable state')
    .action(async (paths: string[], options: UploadCommandOptions, command: Command) => {
      const out = outputOf(command)
      const collected = await collect(paths, options)
      if (collected.items.length === 0 && collected.skipped.length === 0) throw new UsageError('Nothing to upload')
      const connection = options.dryRun ? null : await clientOf(command)
      const tenantId = options.tenant && connection ? await tenantIdOf(connection.api, options.tenant) : undefined
      const client = connection
        ? new CarcosaApi({ baseUrl: connection.url, apiKey: connection.apiKey, multipartThreshold: options.multipartThreshold })
        : null

      const controller = new AbortController()
      const stop = () => {
        if (controller.signal.aborted) {
          // A second Ctrl-C does not wait; the bars hid the cursor.
          if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\n')
          process.exit(EXIT.interrupted)
        }
        controller.abort()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
      const { summary, progress } = await runUpload(
        client,
        { url: connection?.url ?? '', apiKey: connection?.apiKey ?? '' },
        collected,
        { ...options, tenantId },
        out,
        controller.signal,
      )
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      const hint = summary.interrupted ? `Run the same command again to resume: ${commandLine(process.argv.slice(2))}` : null
      progress.summary(summary, hint)
      process.exitCode = summary.interrupted ? EXIT.interrupted : summary.failed > 0 ? EXIT.failure : EXIT.ok
    })

  const files = program.command('files').description('list and inspect files')
  files
    .command('list')
    .alias('ls')
    .description("list the project's files, newest first")
    .option('--tenant <id-or-slug>', "only this tenant's files")
    .option('--type <type>', 'only this content type, or a family such as image/*')
    .option('--prefix <prefix>', 'only names starting with this')
    .option('--limit <n>', 'at most this many (one page)', positiveInt('--limit', 100), 20)
    .option('--cursor <cursor>', 'the page after this cursor (from the previous page)')
    .option('--all', 'every file, page after page')
    .action(
      async (options: { tenant?: string; type?: string; prefix?: string; limit: number; cursor?: string; all?: boolean }, command: Command) => {
        const out = outputOf(command)
        const { api } = await clientOf(command)
        const filters = {
          ...(options.tenant ? { tenantId: await tenantIdOf(api, options.tenant) } : {}),
          ...(options.type ? { contentType: options.type } : {}),
          ...(options.prefix ? { namePrefix: options.prefix } : {}),
        }
        const rows: string[][] = [['ID', 'SIZE', 'TYPE', 'CREATED', 'NAME']]
        const show = (file: CarcosaFile) => {
          if (out.json) out.event(file)
          else rows.push(fileRow(file))
        }
        let next: string | null = null
        if (options.all) {
          for await (const file of api.iterateFiles({ ...filters, limit: 100 })) show(file)
        } else {
          const page = await api.listFiles({ ...filters, limit: options.limit, ...(options.cursor ? { cursor: options.cursor } : {}) })
          page.items.forEach(show)
          next = page.nextCursor
        }
        if (!out.json) process.stdout.write(rows.length > 1 ? `${table(rows)}\n` : '')
        if (rows.length === 1) out.note('No files.')
        if (next) {
          if (out.json) process.stderr.write(`more: --cursor ${next}\n`)
          else out.note(`More files: carcosa files list --cursor ${next} (or --all)`)
        }
      },
    )

  files
    .command('get')
    .description("a file's details")
    .argument('<id>', 'the file id')
    .action(async (id: string, _options: object, command: Command) => {
      const { api } = await clientOf(command)
      const file = await api.getFile(id)
      outputOf(command).result(file, () =>
        table([
          ['id', file.id],
          ['name', file.name],
          ['path', file.path],
          ['size', `${file.size} (${formatFileSize(file.size)})`],
          ['type', file.contentType],
          ['tenant', file.tenantId ?? '-'],
          ['created', file.createdAt],
        ]),
      )
    })

  program
    .command('download')
    .description("download a file's bytes (streamed, never held in memory)")
    .argument('<id>', 'the file id')
    .option('-o, --output <file>', 'where to write it (- for standard output; default: its name, in this directory)')
    .action(async (id: string, options: { output?: string }, command: Command) => {
      const out = outputOf(command)
      const { api } = await clientOf(command)
      const file = await api.getFile(id)
      const { url } = await api.getDownloadUrl(id)
      const response = await fetch(url)
      if (!response.ok || !response.body)
        throw new CarcosaError({ code: 'BAD_GATEWAY', status: response.status, message: `The download failed with HTTP ${response.status}` })
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
      if (options.output === '-') {
        await pipeline(body, process.stdout)
        return
      }
      const target = path.resolve(options.output ?? path.basename(file.name))
      // Written beside the target and renamed at the end: a failed download leaves no half file under its name.
      const partial = `${target}.carcosa-download`
      let bytes = 0
      body.on('data', (chunk: Buffer) => (bytes += chunk.length))
      try {
        await pipeline(body, fs.createWriteStream(partial))
        if (bytes !== file.size)
          throw new CarcosaError({ code: 'BAD_GATEWAY', message: `The download ended after ${bytes} of ${file.size} bytes` })
        await fs.promises.rename(partial, target)
      } catch (error) {
        await fs.promises.rm(partial, { force: true })
        throw error
      }
      out.result({ type: 'downloaded', id, path: target, bytes }, () => `downloaded ${file.name} to ${target} (${formatFileSize(bytes)})`)
    })

  program
    .command('rm')
    .description('delete files')
    .argument('<ids...>', 'file ids')
    .action(async (ids: string[], _options: object, command: Command) => {
      const out = outputOf(command)
      const { api } = await clientOf(command)
      let missing = 0
      for (let i = 0; i < ids.length; i += 100) {
        const { deleted, notFound } = await api.deleteFiles(ids.slice(i, i + 100))
        for (const id of deleted) out.result({ type: 'deleted', id }, () => `deleted ${id}`)
        for (const id of notFound) {
          out.event({ type: 'not-found', id })
          process.stderr.write(`carcosa: no file ${id}\n`)
        }
        missing += notFound.length
      }
      if (missing) process.exitCode = EXIT.failure
    })

  program
    .command('url')
    .description('a signed, expiring image transform URL for a file path')
    .argument('<path-or-id>', "the file's path (as `files get` shows it), or its id")
    .option('--w <px>', 'width', positiveInt('--w', 10_000))
    .option('--h <px>', 'height', positiveInt('--h', 10_000))
    .option('--format <format>', 'webp, avif, jpeg, png, or auto')
    .option('--fit <fit>', 'cover, contain, fill, inside or outside')
    .option('--quality <q>', 'quality 1-100', positiveInt('--quality', 100))
    .option('--preset <name>', "one of the project's presets")
    .option('--expires <seconds>', 'seconds the URL works (60 to a year)', positiveInt('--expires'), 3600)
    .action(
      async (
        filePath: string,
        options: { w?: number; h?: number; format?: string; fit?: string; quality?: number; preset?: string; expires: number },
        command: Command,
      ) => {
        const { api } = await clientOf(command)
        // Paths always hold `-` or `/` (Carcosa makes them `{unique}-{name}`); ids never do.
        if (!/[-/.]/.test(filePath)) filePath = (await api.getFile(filePath)).path
        const params: Record<string, string | number> = {}
        if (options.w) params.w = options.w
        if (options.h) params.h = options.h
        if (options.format) params.format = options.format
        if (options.fit) params.fit = options.fit
        if (options.quality) params.q = options.quality
        if (options.preset) params.preset = options.preset
        const url = await api.signImageUrl(filePath, params, { expiresIn: options.expires })
        outputOf(command).result({ type: 'url', url, path: filePath, params, expiresIn: options.expires }, () => url)
      },
    )

  const tenants = program.command('tenants').description("the project's tenants")
  tenants
    .command('list')
    .alias('ls')
    .description('list tenants')
    .action(async (_options: object, command: Command) => {
      const out = outputOf(command)
      const { api } = await clientOf(command)
      const rows: string[][] = [['ID', 'SLUG', 'NAME']]
      for await (const tenant of api.tenants.iterate()) {
        if (out.json) out.event(tenant)
        else rows.push(tenantRow(tenant))
      }
      if (!out.json) process.stdout.write(rows.length > 1 ? `${table(rows)}\n` : '')
      if (rows.length === 1) out.note('No tenants.')
    })
  tenants
    .command('create')
    .description('create a tenant')
    .argument('<slug>', 'lower-case letters, digits and -')
    .requiredOption('--name <name>', 'its display name')
    .option('--metadata <json>', 'a JSON object kept with it', jsonObject)
    .action(async (slug: string, options: { name: string; metadata?: Record<string, unknown> }, command: Command) => {
      const { api } = await clientOf(command)
      const tenant = await api.tenants.create({ slug, name: options.name, ...(options.metadata ? { metadata: options.metadata } : {}) })
      outputOf(command).result(tenant, () => `created tenant ${tenant.slug} (${tenant.id})`)
    })
  tenants
    .command('update')
    .description('rename a tenant or replace its metadata')
    .argument('<id-or-slug>')
    .option('--name <name>', 'a new display name')
    .option('--metadata <json>', 'new metadata (a JSON object)', jsonObject)
    .action(async (which: string, options: { name?: string; metadata?: Record<string, unknown> }, command: Command) => {
      if (options.name === undefined && options.metadata === undefined) throw new UsageError('Give --name, --metadata, or both')
      const { api } = await clientOf(command)
      const tenant = await api.tenants.update(await tenantIdOf(api, which), options)
      outputOf(command).result(tenant, () => `updated tenant ${tenant.slug} (${tenant.id})`)
    })
  tenants
    .command('delete')
    .alias('rm')
    .description('delete a tenant (refused while it has files)')
    .argument('<id-or-slug>')
    .action(async (which: string, _options: object, command: Command) => {
      const { api } = await clientOf(command)
      const id = await tenantIdOf(api, which)
      await api.tenants.delete(id)
      outputOf(command).result({ type: 'deleted', id }, () => `deleted tenant ${id}`)
    })

  return program
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  // Commander's own errors (unknown option, missing argument, bad value) are usage errors: exit 2.
  const every = (command: Command): Command[] => [command, ...command.commands.flatMap(every)]
  for (const command of every(program)) {
    command.exitOverride()
    // One line, like every other error.
    command.configureOutput({ outputError: (text, write) => write(`carcosa: ${text.trim().replace(/^error: /, '')} (see --help)\n`) })
  }
  const json = argv.includes('--json')
  try {
    await program.parseAsync(argv, { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.ok // --help, --version
      if (json)
        process.stdout.write(
          `${JSON.stringify({ type: 'error', code: 'USAGE', status: null, message: error.message.replace(/^error: /, '') })}\n`,
        )
      return EXIT.usage
    }
    if (json) process.stdout.write(`${JSON.stringify(errorEvent(error))}\n`)
    process.stderr.write(`carcosa: ${errorLine(error)}\n`)
    return error instanceof UsageError ? EXIT.usage : EXIT.failure
  }
}
