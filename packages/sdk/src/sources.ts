import { guessContentType } from './file-types.js'

/** A Node Readable (anything async-iterable over byte chunks) or a web ReadableStream. */
export type ByteStream = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>

/** Bytes with a name: a File, a named Blob, or a stream (give `size` when known: it allows a direct PUT). */
export type UploadSource =
  File | { name: string; blob: Blob; type?: string } | { name: string; stream: ByteStream; size?: number; type?: string }

export interface NormalizedSource {
  name: string
  type: string
  size: number | null
  blob: Blob | null
  stream: (() => ReadableStream<Uint8Array>) | null
}

export function toWebStream(stream: ByteStream): ReadableStream<Uint8Array> {
  if (stream instanceof ReadableStream) return stream
  const encoder = new TextEncoder()
  const iterator = stream[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next()
      if (done) return controller.close()
      controller.enqueue(typeof value === 'string' ? encoder.encode(value) : value)
    },
    async cancel(reason) {
      await iterator.return?.(reason)
    },
  })
}

export function normalizeSource(source: UploadSource): NormalizedSource {
  if (source instanceof Blob) {
    const name = (source as File).name ?? 'file'
    return { name, type: source.type || guessContentType(name), size: source.size, blob: source, stream: null }
  }
  if ('blob' in source) {
    return {
      name: source.name,
      type: source.type ?? (source.blob.type || guessContentType(source.name)),
      size: source.blob.size,
      blob: source.blob,
      stream: null,
    }
  }
  let used = false
  return {
    name: source.name,
    type: source.type ?? guessContentType(source.name),
    size: source.size ?? null,
    blob: null,
    stream: () => {
      if (used) throw new TypeError(`The stream of ${source.name} was already read`)
      used = true
      return toWebStream(source.stream)
    },
  }
}

/**
 * A multipart/form-data body that streams the file (never buffered): the text fields first, as
 * Carcosa's streamed upload wants them, then one part named `file`.
 */
export function multipartFormStream(fields: Record<string, string>, file: { name: string; type: string; stream: ReadableStream<Uint8Array> }) {
  const boundary = `carcosa-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`
  const encoder = new TextEncoder()
  const quote = (text: string) => text.replace(/["\r\n\\]/g, (c) => encodeURIComponent(c))
  let head = ''
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.name)}"\r\nContent-Type: ${file.type}\r\n\r\n`
  const tail = `\r\n--${boundary}--\r\n`
  const reader = file.stream.getReader()
  let stage: 'head' | 'body' | 'done' = 'head'
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'head') {
        stage = 'body'
        return controller.enqueue(encoder.encode(head))
      }
      if (stage === 'done') return
      const { done, value } = await reader.read()
      if (!done) return controller.enqueue(value)
      stage = 'done'
      controller.enqueue(encoder.encode(tail))
      controller.close()
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
  return { body, contentType: `multipart/form-data; boundary=${boundary}` }
}
