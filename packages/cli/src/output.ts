/** Where a command's words go: results to stdout (one JSON object per line with --json), the rest to stderr. */
export class Output {
  constructor(
    readonly json: boolean,
    readonly quiet: boolean,
  ) {}

  /** One JSON line on stdout (only with --json). */
  event(value: object) {
    if (this.json) process.stdout.write(`${JSON.stringify(value)}\n`)
  }

  /** A result: its JSON line, or the human text on stdout. */
  result(value: object, human: () => string) {
    if (this.json) this.event(value)
    else process.stdout.write(`${human()}\n`)
  }

  /** A remark for people (stderr), silent with --json or --quiet. */
  note(text: string) {
    if (!this.json && !this.quiet) process.stderr.write(`${text}\n`)
  }
}

/** Rows as aligned columns; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? []
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')
}

// A closed pipe (`carcosa files ls | head`) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})
