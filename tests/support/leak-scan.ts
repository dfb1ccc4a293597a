/**
 * What must never leave the server, and a check that an answer (JSON or an HTML page) holds none of
 * it: the stored secrets themselves (sealed credentials and signing secrets, password, key, token and
 * invitation hashes), object keys outside a signed URL, and the names of the columns that hold them.
 */
import assert from 'node:assert/strict'
import { prisma } from '~/utils/db.server'

/** Property names no view has: their presence means a stored row was spread into an answer. */
const FORBIDDEN_NAMES = ['passwordHash', 'keyHash', 'tokenHash', 'credentials', 'secretAccessKey', 'objectKey', 'bucketConnection']
/** A sealed value (`v1.<key id>.<nonce>.<box>`, app/utils/credentials.server.ts), whichever row it came from. */
const SEALED_VALUE = /\bv1\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9+/_=-]{16,}\.[A-Za-z0-9+/_=-]{16,}/

export interface ServerSecrets {
  /** Values that must appear nowhere. */
  secrets: string[]
  /** Object keys: allowed only inside a signed URL (a presigned PUT or GET names its key). */
  objectKeys: string[]
}

/** Every secret and object key the database holds now. */
export async function serverSecrets(): Promise<ServerSecrets> {
  // Session ids are not listed: they are the SHA-256 of the cookie's token, shown to their owner as the handle to revoke them.
  const [buckets, signing, users, keys, tokens, invitations, files, uploads, webhooks] = await Promise.all([
    prisma.bucket.findMany({ select: { credentials: true } }),
    prisma.transformSigningSecret.findMany({ select: { secret: true } }),
    prisma.user.findMany({ select: { passwordHash: true } }),
    prisma.apiKey.findMany({ select: { keyHash: true } }),
    prisma.apiToken.findMany({ select: { tokenHash: true } }),
    prisma.invitation.findMany({ select: { tokenHash: true } }),
    prisma.file.findMany({ select: { objectKey: true, adoptedFromKey: true } }),
    prisma.upload.findMany({ select: { objectKey: true } }),
    prisma.webhookEndpoint.findMany({ select: { secret: true, previousSecret: true } }),
  ])
  const secrets = [
    ...buckets.flatMap((b) => (b.credentials ? [b.credentials] : [])),
    ...signing.map((s) => s.secret),
    ...users.map((u) => u.passwordHash),
    ...keys.map((k) => k.keyHash),
    ...tokens.map((t) => t.tokenHash),
    ...invitations.map((i) => i.tokenHash),
    ...webhooks.flatMap((w) => (w.previousSecret ? [w.secret, w.previousSecret] : [w.secret])),
  ]
  // An object adopted in place keeps the key its owner gave it before Carcosa: theirs to see (adoption runs list it).
  const ownKeys = files.filter((file) => file.objectKey !== file.adoptedFromKey)
  return { secrets, objectKeys: [...ownKeys, ...uploads].map((row) => row.objectKey) }
}

/**
 * Asserts that `text` (a JSON body or an HTML page) leaks nothing of `known`; `where` names the answer.
 * `describesInputs`: the text documents request fields (the OpenAPI document names `secretAccessKey`
 * as an input), so only values are checked.
 */
export function assertNoServerSecrets(text: string, known: ServerSecrets, where: string, options: { describesInputs?: boolean } = {}) {
  for (const name of options.describesInputs ? [] : FORBIDDEN_NAMES) {
    assert.ok(!new RegExp(`["']?\\b${name}\\b["']?\\s*:`).test(text), `${where}: answers a field named ${name}`)
  }
  assert.doesNotMatch(text, SEALED_VALUE, `${where}: contains a sealed value`)
  for (const secret of known.secrets) assert.ok(!text.includes(secret), `${where}: contains a stored secret or hash`)
  // Signed URLs name their object; anywhere else an object key is storage layout the caller has no use for.
  const withoutUrls = text.replace(/(?:https?:\/\/|\/storage\/local\/)[^\s"'<>\\]+/g, '')
  for (const key of known.objectKeys) assert.ok(!withoutUrls.includes(key), `${where}: shows the object key ${key} outside a signed URL`)
}
