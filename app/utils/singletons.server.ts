import { forget, remember } from '@epic-web/remember'

/**
 * Process-wide singletons are made with `remember(name, init)` from `@epic-web/remember`: the host
 * (server.ts), the Remix build and the tests each load their own copy of a module, and the value kept
 * on globalThis under its name is the one all copies share. Names start with `carcosa.`.
 *
 * Stops a remembered resource (a pool, a connection) if this process ever made one, and forgets it.
 */
export async function releaseRemembered<Value>(name: string, stop: (value: Value) => Promise<unknown>): Promise<void> {
  // remember() is the only reader the library has: an absent name comes back undefined and is forgotten at once.
  const value = remember<Value | undefined>(name, () => undefined)
  forget(name)
  if (value !== undefined) await stop(value)
}
