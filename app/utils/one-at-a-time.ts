/**
 * Runs `work` for one key at a time in this process: a second call with the same key waits for the
 * first to settle, then runs. Keys are forgotten once nothing waits on them, so the map stays as
 * small as the work in flight.
 */
export function oneAtATime() {
  const tails = new Map<string, Promise<unknown>>()
  return async function run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = tails.get(key) ?? Promise.resolve()
    const result = before.then(work, work)
    const tail = result.then(
      () => undefined,
      () => undefined,
    )
    tails.set(key, tail)
    try {
      return await result
    } finally {
      if (tails.get(key) === tail) tails.delete(key)
    }
  }
}
