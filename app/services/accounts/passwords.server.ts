import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { getConfig } from '~/utils/config.server'

export interface ScryptParams {
  N: number
  r: number
  p: number
}

// OWASP's scrypt profile N=2^15, r=8, p=3 (32 MiB). node:crypto runs it on libuv's thread pool, off
// the event loop. Parameters are stored in the hash so they can be raised later.
const PRODUCTION_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 3 }
// NODE_ENV=test only (never production: the config accepts one value): the suites create hundreds of
// accounts, and each hash at production cost takes a core for a fifth of a second.
const TEST_PARAMS: ScryptParams = { N: 2 ** 10, r: 8, p: 1 }
const KEY_LENGTH = 32
// A stored hash names its own cost; these bounds keep a damaged row from asking for gigabytes.
const MAX_N = 2 ** 20
const MAX_R = 32
const MAX_P = 16

/** The parameters new hashes get in this environment. */
export function scryptParamsFor(nodeEnv: 'development' | 'production' | 'test'): ScryptParams {
  return nodeEnv === 'test' ? TEST_PARAMS : PRODUCTION_PARAMS
}

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions) {
  return new Promise<Buffer>((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, keyLength, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

export async function hashPassword(password: string): Promise<string> {
  const params = scryptParamsFor(getConfig().NODE_ENV)
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, KEY_LENGTH, params)
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$')
}

/** Checks a password against a stored hash with the parameters that hash was made with. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !key) return false
  const params = { N: Number(n), r: Number(r), p: Number(p) }
  const valid = (value: number, max: number) => Number.isSafeInteger(value) && value >= 1 && value <= max
  const powerOfTwo = (params.N & (params.N - 1)) === 0 && params.N > 1
  if (!valid(params.N, MAX_N) || !powerOfTwo || !valid(params.r, MAX_R) || !valid(params.p, MAX_P)) return false
  const expected = Buffer.from(key, 'base64')
  if (expected.length === 0) return false
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, params)
  return timingSafeEqual(actual, expected)
}

/** Verifies against a throwaway hash so that an unknown email costs as much time as a known one. */
let decoy: Promise<string> | undefined
export async function spendPasswordCheck(password: string) {
  decoy ??= hashPassword(randomBytes(16).toString('hex'))
  await verifyPassword(password, await decoy)
}
