import path from 'node:path'
import { z } from 'zod'

/** Secrets that development may generate but production must be given. */
export const SECRET_VARIABLES = ['SESSION_SECRET', 'CREDENTIALS_ENCRYPTION_KEY'] as const

const port = z.coerce.number().int().min(1).max(65535)

/** `base64:` followed by exactly 32 bytes in standard base64: a libsodium secretbox key. */
export const encryptionKeySchema = z
  .string()
  .regex(/^base64:[A-Za-z0-9+/]{43}=$/, 'must be "base64:" followed by 32 random bytes in base64 (openssl rand -base64 32)')

const flag = z.stringbool({ error: 'must be true or false' })
const bytes = z.coerce.number().int().min(1)

/**
 * The database connection budget of one instance (ADR: overload answers 503). Parsed on its own as
 * well, because the pool opens wherever DATABASE_URL is set (tests, scripts) without the rest.
 */
export const databaseLimitsSchema = z.object({
  /** Connections this instance opens at most (PostgreSQL allows 100 by default, shared by every instance). */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(20),
  /** Of those, at most this many hold a transaction (writes) at once: the rest stay free for reads. */
  DATABASE_WRITE_CONNECTIONS: z.coerce.number().int().min(1).max(500).optional(),
  /** Longest wait for a connection (or a write's turn); past it the request is answered 503 with Retry-After. */
  DATABASE_WAIT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  /** Requests waiting for a write's turn at once; more are answered 503 at once. */
  DATABASE_WRITE_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(500),
})

export function databaseLimits(env: NodeJS.ProcessEnv = process.env) {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const limits = databaseLimitsSchema.parse(present)
  const writeConnections = Math.min(
    limits.DATABASE_WRITE_CONNECTIONS ?? Math.max(1, Math.floor(limits.DATABASE_POOL_SIZE * 0.75)),
    limits.DATABASE_POOL_SIZE - 1,
  )
  return { ...limits, DATABASE_WRITE_CONNECTIONS: Math.max(1, writeConnections) }
}

const configSchema = z
  .object({
    ...databaseLimitsSchema.shape,
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: port.default(3000),
    HOST: z.string().min(1).optional(),
    APP_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATA_DIR: z.string().min(1).default('.carcosa'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
    /** How long a rate-limit check waits for Redis (then once more) before this instance counts alone. */
    RATE_LIMIT_REDIS_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    /** Prefix of the Redis pub/sub channels that carry realtime events between instances (several deployments may share one Redis). */
    REALTIME_REDIS_PREFIX: z
      .string()
      .regex(/^[\w:.-]{1,64}$/, 'must be 1-64 letters, digits, or _ : . -')
      .default('carcosa:realtime:'),
    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    SESSION_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    CREDENTIALS_ENCRYPTION_KEY: encryptionKeySchema,
    /** Retired keys, comma-separated, still accepted for decryption until `npm run credentials:reencrypt` has run. */
    CREDENTIALS_ENCRYPTION_OLD_KEYS: z
      .string()
      .default('')
      .transform((text) =>
        text
          .split(',')
          .map((key) => key.trim())
          .filter(Boolean),
      )
      .pipe(z.array(encryptionKeySchema)),
    /** Bucket endpoints on loopback or private networks (MinIO next door); defaults to on outside production. */
    STORAGE_ALLOW_PRIVATE_ENDPOINTS: flag.optional(),
    /** The `local` provider (a directory under DATA_DIR) for single-machine installs. */
    STORAGE_LOCAL_ENABLED: flag.default(true),
    /** Largest file accepted by any upload path, before a project's own (smaller) limit. */
    UPLOAD_MAX_BYTES: bytes.default(5 * 1024 ** 3),
    /** Largest body streamed through Carcosa itself (dashboard form, `POST /api/v1/files/upload`). */
    STREAMED_UPLOAD_MAX_BYTES: bytes.default(2 * 1024 ** 3),
    /** How long a started upload may stay pending before it is swept. */
    UPLOAD_EXPIRY_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    /** Seconds one report of a completed upload holds the right to run its completion callback before another may take it. */
    UPLOAD_CALLBACK_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
    UPLOAD_RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** Image transforms: sources with more pixels than this are refused before decoding (decompression bombs). */
    TRANSFORM_MAX_INPUT_PIXELS: z.coerce.number().int().min(1).max(1_000_000_000).default(50_000_000),
    /** Image transforms: largest source file, in bytes. */
    TRANSFORM_MAX_SOURCE_BYTES: bytes.default(50 * 1024 ** 2),
    /** Image transforms rendered at once per instance; unset means one per CPU core. */
    TRANSFORM_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
    /** Image transforms waiting for a turn; beyond this a request gets 503 with Retry-After. */
    TRANSFORM_QUEUE_LIMIT: z.coerce.number().int().min(0).max(10_000).default(64),
    /** Bytes of rendered variants kept in memory per instance (0 turns the memory cache off). */
    TRANSFORM_CACHE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(128 * 1024 ** 2),
    /** Whether rendered variants are also stored in the project's bucket, for restarts and other instances. */
    TRANSFORM_STORE_VARIANTS: flag.default(true),
    /** WebSocket connections one instance accepts at once (`/api/v1/realtime`). */
    REALTIME_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** WebSocket connections one credential (API key, user, realtime token) may hold open on one instance. */
    REALTIME_MAX_CONNECTIONS_PER_CREDENTIAL: z.coerce.number().int().min(1).max(100_000).default(50),
    /** Channels one credential may be subscribed to at once, over all its connections on one instance. */
    REALTIME_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: z.coerce.number().int().min(1).max(1_000_000).default(500),
    /** Bytes a connection may have waiting to be sent; past this the client is too slow and is disconnected. */
    REALTIME_SEND_BUFFER_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 ** 2)
      .default(1024 ** 2),
    /** Seconds between pings; a connection that has not answered the previous ping is closed. */
    REALTIME_PING_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    /** Lifetime of a token from `POST /api/v1/realtime/tokens` (it is checked when a connection opens). */
    REALTIME_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
    /** Seconds the host's fast path for cached signed transforms trusts a file's identity without the database (0 turns it off). */
    TRANSFORM_FAST_PATH_TTL_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
    /** Seconds a resolved API key or user access token is answered from memory (0 turns the cache off). */
    API_CREDENTIAL_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
    /** Resolved API keys (and, separately, access tokens) kept in memory per instance. */
    API_CREDENTIAL_CACHE_MAX: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
    /** Seconds to wait before each retry of a failed webhook delivery, comma-separated; their count is the number of retries. */
    WEBHOOK_RETRY_DELAYS_SECONDS: z
      .string()
      .default('5,300,1800,7200,18000,36000,36000')
      .transform((text) =>
        text
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
          .map(Number),
      )
      .pipe(
        z
          .array(
            z
              .number()
              .int('must be whole seconds')
              .min(0)
              .max(7 * 24 * 3600),
          )
          .max(20, 'at most 20 retries'),
      ),
    /** Webhook URLs on loopback and private networks; defaults to on outside production. */
    WEBHOOK_ALLOW_PRIVATE_URLS: flag.optional(),
    /** Seconds a webhook endpoint has to answer one attempt. */
    WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(15),
    /** Webhook attempts in flight at once per instance. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    /** Attempts in flight at once per instance for one endpoint, so a slow endpoint cannot hold every slot. */
    WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /** An endpoint whose every attempt has failed for this many days is disabled. */
    WEBHOOK_DISABLE_AFTER_DAYS: z.coerce.number().min(0.001).max(365).default(5),
    /** Hours the previous signing secret keeps signing after a rotation. */
    WEBHOOK_SECRET_ROTATION_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 30)
      .default(24),
    /** Days events and webhook delivery logs are kept. */
    EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** Days audit entries are kept; a daily job prunes older ones, keeping each chain verifiable from its anchor (ADR 024). */
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
    /** Seconds between writes of the in-memory usage counts to the database (a crash loses at most this much). */
    USAGE_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
    /** Distinct project/tenant/hour entries kept in memory between usage flushes; beyond it new entries are dropped and logged. */
    USAGE_MAX_PENDING_KEYS: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  })
  .transform((env) => {
    const host = env.HOST ?? (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1')
    return {
      ...env,
      HOST: host,
      DATA_DIR: path.resolve(env.DATA_DIR),
      STORAGE_ALLOW_PRIVATE_ENDPOINTS: env.STORAGE_ALLOW_PRIVATE_ENDPOINTS ?? env.NODE_ENV !== 'production',
      WEBHOOK_ALLOW_PRIVATE_URLS: env.WEBHOOK_ALLOW_PRIVATE_URLS ?? env.NODE_ENV !== 'production',
      isProduction: env.NODE_ENV === 'production',
    }
  })

export type Config = z.output<typeof configSchema>

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Parses an environment; throws ConfigError with one line per problem. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  // Empty strings (e.g. `FOO=` in an env file) mean "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const result = configSchema.safeParse(present)
  if (result.success) return result.data
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.') || 'environment'
      const message = issue.code === 'invalid_type' && present[name] === undefined ? 'is required' : issue.message
      return `${name} ${message}`
    }),
  )
}

let cached: Config | undefined

/** The process configuration, parsed once from process.env. */
export function getConfig(): Config {
  cached ??= parseConfig(process.env)
  return cached
}
