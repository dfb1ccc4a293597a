/**
 * Bounds the transforms rendered at once: `concurrency` run, up to `queueLimit` wait their turn in
 * order, and anything beyond is refused at once (503 with Retry-After) instead of piling up memory.
 */
export class TransformsBusy extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many image transforms are in progress; retry shortly.')
    this.name = 'TransformsBusy'
  }
}

export interface TransformLimiter {
  run<T>(work: () => Promise<T>): Promise<T>
  readonly active: number
  readonly waiting: number
}

export function createTransformLimiter({
  concurrency,
  queueLimit,
  retryAfterSeconds = 1,
}: {
  concurrency: number
  queueLimit: number
  retryAfterSeconds?: number
}): TransformLimiter {
  let active = 0
  const queue: (() => void)[] = []

  const release = () => {
    const next = queue.shift()
    if (next) next()
    else active--
  }

  return {
    get active() {
      return active
    },
    get waiting() {
      return queue.length
    },
    async run(work) {
      if (active < concurrency) {
        active++
      } else {
        if (queue.length >= queueLimit) throw new TransformsBusy(retryAfterSeconds)
        // The slot passes straight from the finishing job to this one: `active` stays as it is.
        await new Promise<void>((resolve) => queue.push(resolve))
      }
      try {
        return await work()
      } finally {
        release()
      }
    },
  }
}
