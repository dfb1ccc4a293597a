import { pino } from 'pino'

// One logger for the process. Credentials never reach the log: these paths are censored wherever
// they appear in a logged object.
export const logger = pino({
  level: process.env.LOG_LEVEL || 'info',
  base: { service: 'carcosa' },
  redact: {
    paths: [
      'req.headers.authorization',
      'req.headers.cookie',
      'res.headers["set-cookie"]',
      '*.password',
      '*.passwordHash',
      '*.token',
      '*.secret',
      'DATABASE_URL',
      'REDIS_URL',
    ],
    censor: '[redacted]',
  },
})
