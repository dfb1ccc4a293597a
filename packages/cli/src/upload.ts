import fs from 'node:fs'
import path from 'node:path'
import { type CarcosaApi, type CarcosaFile, type InitUploadResult, type ResumeStore, type UploadSource } from '@carcosa/sdk'
import picomatch from 'picomatch'
import { UsageError } from './errors.js'
import type { Output } from './output.js'
import { UploadProgress, type Summary } from './progress.js'
import { fileResumeStore, pruneResumeStates, resumeKeyOf } from './resume-store.js'

export interface UploadCommandOptions {
  recursive?: boolean
  include?: string[]
  exclude?: string[]
  tenant?: string
  concurrency: number
  partConcurrency: number
  multipartThreshold: number
  dryRun?: boolean
  size?: number
  name?: string
  resume: boolean
}

type Item =
  { kind: 'file'; name: string; absolutePath: string; size: number; mtimeMs: number } | { kind: 'stdin'; name: string; size: number | null }

interface Collected {
  items: Item[]
  skipped: Array<{ name: string; reason: string }>
}

/** `*.jpg` matches at any depth (by base name), `sub/**` from the directory's root (by relative path). */
function globMatcher(patterns: string[]) {
  const byName = patterns.filter((p) => !p.includes('/'))
  const byPath = patterns.filter((p) => p.includes('/'))
  const name = byName.length ? picomatch(byName, { dot: true, basename: true }) : () => false
  const full = byPath.length ? picomatch(byPath, { dot: true }) : () => false
  return (relative: string) => name(relative) || full(relative)
}

const toPosix = (relative: string) => relative.split(path.sep).join('/')

/**
 * The files the arguments name: files as themselves (by base name), directories (with -r) by their
 * files' paths relative to the directory, filtered by --include and --exclude; `-` is standard input.
 */
export async function collect(paths: string[], options: UploadCommandOptions): Promise<Collected> {
  const included = options.include?.length ? globMatcher(options.include) : () => true
  const excluded = options.exclude?.length ? globMatcher(options.exclude) : () => false
  const items: Item[] = []
  const skipped: Collected['skipped'] = []
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be uploaded once per run')
  if (options.size !== undefined && !paths.includes('-')) throw new UsageError('--size is for standard input (-)')

  for (const given of paths) {
    if (given === '-') {
      items.push({ kind: 'stdin', name: options.name ?? 'stdin', size: options.size ?? null })
      continue
    }
    let stat: fs.Stats
    try {
      stat = await fs.promises.stat(given)
    } catch {
      throw new UsageError(`${given}: no such file or directory`)
    }
    const absolutePath = path.resolve(given)
    if (stat.isFile()) {
      items.push({
        kind: 'file',
        name: options.name && paths.length === 1 ? options.name : path.basename(given),
        absolutePath,
        size: stat.size,
        mtimeMs: stat.mtimeMs,
      })
      continue
    }
    if (!stat.isDirectory()) throw new UsageError(`${given}: not a file or a directory`)
    if (!options.recursive) throw new UsageError(`${given} is a directory: add -r to upload the files in it`)
    const entries = await fs.promises.readdir(absolutePath, { recursive: true, withFileTypes: true })
    const found: Item[] = []
    for (const entry of entries) {
      const full = path.join(entry.parentPath, entry.name)
      const name = toPosix(path.relative(absolutePath, full))
      if (entry.isDirectory()) continue
      if (!entry.isFile()) {
        skipped.push({ name, reason: 'not a regular file' })
        continue
      }
      if (!included(name) || excluded(name)) {
        skipped.push({ name, reason: 'filtered out' })
        continue
      }
      const fileStat = await fs.promises.stat(full)
      found.push({ kind: 'file', name, absolutePath: full, size: fileStat.size, mtimeMs: fileStat.mtimeMs })
    }
    items.push(...found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
  }
  return { items, skipped }
}

/** Standard input as a byte stream that counts what it read. */
function countedStdin() {
  const counted = {
    bytes: 0,
    ended: false,
    async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        counted.bytes += chunk.length
        yield chunk
      }
      counted.ended = true
    },
  }
  return counted
}

/** The command line again, quoted for a POSIX shell, to tell how to resume. */
export function commandLine(argv: string[]) {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)
  return ['carcosa', ...argv.map(quote)].join(' ')
}

/**
 * Uploads what `collect` found, `concurrency` files at a time. Large files go multipart with their
 * state saved in a file after each part, so a new run of the same command continues them. Failures
 * of one file are reported and the others go on. Resolves to the summary.
 */
export async function runUpload(
  api: CarcosaApi | null,
  connection: { url: string; apiKey: string },
  collected: Collected,
  options: UploadCommandOptions & { tenantId?: string },
  out: Output,
  signal: AbortSignal,
): Promise<{ summary: Summary; progress: UploadProgress }> {
  const progress = new UploadProgress(out)
  const started = Date.now()
  const { items, skipped } = collected
  const totalBytes = items.reduce((sum, item) => sum + (item.size ?? 0), 0)
  progress.plan(items.length, totalBytes, skipped.length)
  for (const skip of skipped) progress.skipped(skip.name, skip.reason)
  const summary: Summary = { uploaded: 0, skipped: skipped.length, failed: 0, bytes: 0, resumedBytes: 0, seconds: 0 }

  if (options.dryRun) {
    for (const item of items) {
      out.result({ type: 'planned', name: item.name, size: item.size }, () => `would upload ${item.name} (${item.size ?? '?'} bytes)`)
    }
    return { summary: { ...summary, skipped: summary.skipped + items.length, dryRun: true, seconds: (Date.now() - started) / 1000 }, progress }
  }
  if (!api) throw new Error('runUpload needs a client unless dryRun')

  const files = options.resume ? fileResumeStore() : null
  if (files) await pruneResumeStates()
  const stdin = countedStdin()
  const queue = items.map((item, id) => ({ item, id }))
  const worker = async () => {
    for (let next = queue.shift(); next && !signal.aborted; next = queue.shift()) {
      const { item, id } = next
      const key =
        files && item.kind === 'file'
          ? resumeKeyOf({
              ...connection,
              tenant: options.tenantId,
              absolutePath: item.absolutePath,
              size: item.size,
              mtimeMs: item.mtimeMs,
              name: item.name,
            })
          : undefined
      const saved = key ? await files!.get(key) : null
      let resumed =
        saved && saved.upload.method === 'MULTIPART' && saved.parts.length > 0
          ? { parts: saved.parts.length, partCount: saved.upload.partCount, bytes: partBytes(saved.upload, saved.parts, item.size ?? 0) }
          : null
      progress.start(id, item.name, item.size, resumed)
      try {
        const source: UploadSource =
          item.kind === 'file'
            ? { name: item.name, blob: await fs.openAsBlob(item.absolutePath) }
            : { name: item.name, stream: stdin, ...(item.size !== null ? { size: item.size } : {}) }
        const result = await api.uploadFiles(source, {
          tenantId: options.tenantId,
          signal,
          onProgress: ({ loaded, total }) => progress.progress(id, item.name, loaded, total),
          resumeStore:
            files && key
              ? reportingStore(files, (state, added) => {
                  // A save with no parts is a new upload: the saved one could not be continued.
                  if (state.parts.length === 0) resumed = null
                  added.forEach((n) => progress.part(item.name, n, state.parts.length, partCountOf(state.upload)))
                })
              : undefined,
          resumeKey: () => key,
          partConcurrency: options.partConcurrency,
        })
        if (result.error) throw result.error
        summary.uploaded++
        summary.bytes += result.data.size
        summary.resumedBytes += resumed?.bytes ?? 0
        progress.uploaded(id, item.name, result.data as CarcosaFile)
      } catch (caught) {
        // A wrong --size breaks the request mid-way; say what was wrong rather than how it broke.
        const error =
          stdin.ended && item.kind === 'stdin' && item.size !== null && stdin.bytes !== item.size
            ? new Error(`standard input had ${stdin.bytes} bytes, not the ${item.size} that --size says`)
            : caught
        if (signal.aborted) {
          progress.interrupted(id, item.name)
          continue
        }
        summary.failed++
        progress.failed(id, item.name, error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency, Math.max(items.length, 1)) }, worker))
  return { summary: { ...summary, seconds: (Date.now() - started) / 1000, ...(signal.aborted ? { interrupted: true } : {}) }, progress }
}

/** Bytes in the parts already stored (the last part may be short). */
function partBytes(upload: InitUploadResult & { method: 'MULTIPART' }, parts: { partNumber: number }[], size: number) {
  return parts.reduce((sum, part) => sum + Math.min(upload.partSize, size - (part.partNumber - 1) * upload.partSize), 0)
}

const partCountOf = (upload: InitUploadResult) => (upload.method === 'MULTIPART' ? upload.partCount : 1)

/** The store, telling which parts each save adds (the `part` events). */
function reportingStore(
  store: ResumeStore<InitUploadResult>,
  onParts: (state: { upload: InitUploadResult; parts: { partNumber: number }[] }, added: number[]) => void,
): ResumeStore<InitUploadResult> {
  let known = new Set<number>()
  return {
    get: async (key) => {
      const state = await store.get(key)
      known = new Set(state?.parts.map((p) => p.partNumber))
      return state
    },
    set: async (key, state) => {
      await store.set(key, state)
      const added = state.parts.map((p) => p.partNumber).filter((n) => !known.has(n))
      known = new Set(state.parts.map((p) => p.partNumber))
      if (added.length || state.parts.length === 0) onParts(state, added)
    },
    delete: (key) => store.delete(key),
  }
}
