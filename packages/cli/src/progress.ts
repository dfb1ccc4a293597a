import { formatFileSize, type CarcosaFile } from '@carcosa/sdk'
import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import { errorEvent, errorLine } from './errors.js'
import type { Output } from './output.js'

export interface Summary {
  uploaded: number
  skipped: number
  failed: number
  /** Bytes of the files uploaded. */
  bytes: number
  /** Of those, bytes an earlier run had already stored (resumed parts): this run sent the rest. */
  resumedBytes: number
  seconds: number
  interrupted?: boolean
  dryRun?: boolean
}

const shortName = (name: string, width: number) => (name.length <= width ? name.padEnd(width) : `…${name.slice(-(width - 1))}`)

/** Names and bars sized to the terminal, so the total's line (about 55 more characters) fits in it. */
function layout() {
  const columns = process.stderr.columns || 80
  const barsize = columns >= 110 ? 30 : columns >= 90 ? 20 : 10
  return { barsize, labelWidth: Math.max(8, Math.min(40, columns - barsize - 58)) }
}

/**
 * An upload's progress, told three ways: bars on a terminal (one per file in flight and a total
 * with bytes, speed and ETA), JSON events with --json, plain lines otherwise; --quiet keeps only
 * results and the summary. Bytes reported per file only grow (a retried part does not go back).
 */
export class UploadProgress {
  private readonly loaded = new Map<number, number>()
  private readonly emitted = new Map<number, number>()
  private readonly bars = new Map<number, SingleBar>()
  private multibar: MultiBar | null = null
  private totalBar: SingleBar | null = null
  private totalBytes = 0
  private totalFiles = 0
  private filesDone = 0
  private readonly samples: Array<{ at: number; bytes: number }> = []
  readonly mode: 'bars' | 'json' | 'lines' | 'quiet'
  private readonly layout = layout()

  constructor(private readonly out: Output) {
    this.mode = out.json ? 'json' : out.quiet ? 'quiet' : process.stderr.isTTY ? 'bars' : 'lines'
  }

  private get totalLoaded() {
    let sum = 0
    for (const bytes of this.loaded.values()) sum += bytes
    return sum
  }

  plan(files: number, bytes: number, skipped: number) {
    this.totalFiles = files
    this.totalBytes = bytes
    this.out.event({ type: 'plan', files, bytes, skipped })
    if (this.mode === 'bars' && files > 0) {
      this.multibar = new MultiBar(
        {
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
          autopadding: true,
          etaBuffer: 40,
          fps: 8,
          barsize: this.layout.barsize,
          format: '{label} {bar} {percentage}% | {bytes}',
        },
        Presets.shades_classic,
      )
      this.totalBar = this.multibar.create(Math.max(bytes, 1), 0, this.totalPayload(), {
        format: '{label} {bar} {percentage}% | {bytes} | {speed} | ETA {eta_formatted} | {files}',
      })
    } else if (this.mode === 'lines' && files > 0) {
      process.stderr.write(`uploading ${files} file${files === 1 ? '' : 's'} (${formatFileSize(bytes)})\n`)
    }
  }

  skipped(name: string, reason: string) {
    this.out.event({ type: 'skipped', name, reason })
    if (this.mode === 'lines') process.stderr.write(`${name}: skipped (${reason})\n`)
  }

  start(id: number, name: string, size: number | null, resumed: { parts: number; partCount: number; bytes: number } | null) {
    this.loaded.set(id, 0)
    this.out.event({
      type: 'start',
      name,
      size,
      ...(resumed ? { resumedParts: resumed.parts, partCount: resumed.partCount, resumedBytes: resumed.bytes } : {}),
    })
    const note = resumed ? `, resuming after ${resumed.parts} of ${resumed.partCount} parts` : ''
    if (this.mode === 'lines') process.stderr.write(`${name}: started (${size === null ? 'size unknown' : formatFileSize(size)}${note})\n`)
    if (this.multibar) {
      this.bars.set(
        id,
        this.multibar.create(Math.max(size ?? 0, 1), 0, { label: shortName(name, this.layout.labelWidth), bytes: this.bytesText(0, size) }),
      )
    }
  }

  progress(id: number, name: string, loaded: number, total: number | null) {
    if (loaded <= (this.loaded.get(id) ?? 0)) return
    this.loaded.set(id, loaded)
    const now = Date.now()
    this.samples.push({ at: now, bytes: this.totalLoaded })
    while (this.samples.length > 2 && now - this.samples[0]!.at > 5000) this.samples.shift()
    if (this.multibar) {
      this.bars.get(id)?.update(loaded, { bytes: this.bytesText(loaded, total) })
      this.totalBar?.update(this.totalLoaded, this.totalPayload())
      return
    }
    // Events and lines are thinned out: every 1% (JSON) or 10% (lines) of the file, and its end.
    const last = this.emitted.get(id) ?? 0
    const step = total ? (this.mode === 'json' ? Math.max(total / 100, 64 * 1024) : total / 10) : 8 * 1024 * 1024
    if (loaded !== total && loaded - last < step) return
    this.emitted.set(id, loaded)
    this.out.event({ type: 'progress', name, loaded, total, totalLoaded: this.totalLoaded, totalBytes: this.totalBytes })
    if (this.mode === 'lines' && total && loaded !== total) {
      process.stderr.write(`${name}: ${Math.floor((loaded / total) * 100)}% (${this.bytesText(loaded, total)})\n`)
    }
  }

  part(name: string, partNumber: number, partsDone: number, partCount: number) {
    this.out.event({ type: 'part', name, partNumber, partsDone, partCount })
  }

  uploaded(id: number, name: string, file: CarcosaFile) {
    this.loaded.set(id, Math.max(this.loaded.get(id) ?? 0, file.size))
    this.finish(id)
    this.out.event({ type: 'uploaded', name, file })
    const line = `uploaded ${name} -> ${file.id} ${file.path}`
    if (this.multibar) this.multibar.log(`${line}\n`)
    else if (!this.out.json) process.stdout.write(`${line}\n`)
  }

  failed(id: number, name: string, error: unknown) {
    this.finish(id)
    this.out.event({ type: 'failed', name, error: errorEvent(error) })
    const line = `failed ${name}: ${errorLine(error)}`
    if (this.multibar) this.multibar.log(`${line}\n`)
    else if (!this.out.json) process.stderr.write(`${line}\n`)
  }

  /** A file that was in flight when the run was interrupted. */
  interrupted(id: number, name: string) {
    this.finish(id)
    this.out.event({ type: 'interrupted', name })
  }

  summary(summary: Summary, resumeHint: string | null) {
    this.stopBars()
    this.out.event({ type: 'summary', ...summary, ...(resumeHint ? { resume: resumeHint } : {}) })
    // Said even with --json or --quiet: whoever pressed Ctrl-C wants to know how to go on.
    if (summary.interrupted) process.stderr.write(`Interrupted. ${resumeHint ?? ''}\n`)
    if (this.out.json) return
    const parts = [`${summary.uploaded} uploaded`, `${summary.skipped} skipped`, `${summary.failed} failed`]
    const verb = summary.dryRun ? 'dry run: nothing sent' : `${formatFileSize(summary.bytes)} in ${summary.seconds.toFixed(1)} s`
    process.stdout.write(`${parts.join(', ')} (${verb})\n`)
  }

  stopBars() {
    if (!this.multibar) return
    this.totalBar?.update(this.totalLoaded, this.totalPayload())
    this.multibar.update() // draws once more, writing lines logged since the last frame
    this.multibar.stop()
    this.multibar = null
  }

  private finish(id: number) {
    this.filesDone++
    const bar = this.bars.get(id)
    if (bar && this.multibar) {
      this.multibar.remove(bar)
      this.totalBar?.update(this.totalLoaded, this.totalPayload())
    }
    this.bars.delete(id)
  }

  private bytesText(loaded: number, total: number | null) {
    return `${formatFileSize(loaded)}/${total === null ? '?' : formatFileSize(total)}`
  }

  private totalPayload() {
    const first = this.samples[0]
    const last = this.samples.at(-1)
    const seconds = first && last ? (last.at - first.at) / 1000 : 0
    const speed = seconds > 0 ? `${formatFileSize(Math.round((last!.bytes - first!.bytes) / seconds))}/s` : '-'
    return {
      label: shortName('total', this.layout.labelWidth),
      bytes: this.bytesText(this.totalLoaded, this.totalBytes),
      speed,
      files: `${this.filesDone}/${this.totalFiles} files`,
    }
  }
}
