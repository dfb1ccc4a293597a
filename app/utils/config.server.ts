import path from 'node:path'
import { z } from 'zod'

/** Secrets that development may generate but production must be given. */
export const SECRET_VARIABLES = ['SESSION_SECRET'] as const

const port = z.coerce.number().int().min(1).max(65535)

const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: port.default(3000),
    HOST: z.string().min(1).optional(),
    APP_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATA_DIR: z.string().min(1).default('.carcosa'),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
    SESSION_SECRET: z.string().min(32, 'must be at least 32 characters'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    SESSION_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  })
  .transform((env) => {
    const host = env.HOST ?? (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1')
    return {
      ...env,
      HOST: host,
      DATA_DIR: path.resolve(env.DATA_DIR),
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
