import { createHash } from 'node:crypto'
import sodium from 'libsodium-wrappers'
import { getConfig } from './config.server'

/**
 * Secrets at rest (bucket credentials, transform signing secrets): libsodium secretbox under
 * CREDENTIALS_ENCRYPTION_KEY. A sealed value reads `v1.<key id>.<nonce>.<ciphertext>`; the key id
 * (first bytes of the key's SHA-256) says which key sealed it, so retired keys listed in
 * CREDENTIALS_ENCRYPTION_OLD_KEYS still open old rows until `npm run credentials:reencrypt` runs.
 */

interface Key {
  id: string
  bytes: Uint8Array
}

const VERSION = 'v1'

export class CredentialsError extends Error {}

function toKey(text: string): Key {
  const bytes = Buffer.from(text.slice('base64:'.length), 'base64')
  if (bytes.length !== 32) throw new CredentialsError('An encryption key must be 32 bytes')
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes: new Uint8Array(bytes) }
}

let keys: { current: Key; all: Map<string, Key> } | undefined

function loadKeys() {
  if (!keys) {
    const config = getConfig()
    const current = toKey(config.CREDENTIALS_ENCRYPTION_KEY)
    const all = new Map([current, ...config.CREDENTIALS_ENCRYPTION_OLD_KEYS.map(toKey)].map((key) => [key.id, key]))
    keys = { current, all }
  }
  return keys
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** Seals a UTF-8 string under the current key. */
export async function sealSecret(plaintext: string): Promise<string> {
  await sodium.ready
  const { current } = loadKeys()
  const nonce = sodium.randombytes_buf(sodium.crypto_secretbox_NONCEBYTES)
  const box = sodium.crypto_secretbox_easy(sodium.from_string(plaintext), nonce, current.bytes)
  return [VERSION, current.id, b64(nonce), b64(box)].join('.')
}

/** Opens a sealed value with whichever configured key sealed it. */
export async function openSecret(sealed: string): Promise<string> {
  await sodium.ready
  const [version, keyId, nonce, box] = sealed.split('.')
  if (version !== VERSION || !keyId || !nonce || !box) throw new CredentialsError('Not a sealed secret')
  const key = loadKeys().all.get(keyId)
  if (!key) {
    throw new CredentialsError(
      `A secret was sealed with key ${keyId}, which is neither CREDENTIALS_ENCRYPTION_KEY nor listed in CREDENTIALS_ENCRYPTION_OLD_KEYS`,
    )
  }
  try {
    const plain = sodium.crypto_secretbox_open_easy(Buffer.from(box, 'base64'), Buffer.from(nonce, 'base64'), key.bytes)
    return sodium.to_string(plain)
  } catch {
    throw new CredentialsError(`A secret sealed with key ${keyId} failed to open (tampered or wrong key)`)
  }
}

/** True when `sealed` was sealed with a key other than the current one. */
export function sealedWithOldKey(sealed: string): boolean {
  return sealed.split('.')[1] !== loadKeys().current.id
}

/** Test seam: forget the keys read from the configuration. */
export function resetCredentialKeys() {
  keys = undefined
}
