import { pino } from 'pino'

// One logger for the process. Credentials never reach the log: these paths are censored wherever
// they appear in a logged object.
export const logger = pino(
  {
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
  },
  // Written asynchronously: lines logged while a write is under way go out together in the next one,
  // instead of one write(2) per access-log line on the request path. Flushed when the process exits.
  pino.destination({ dest: 1, sync: false }),
)
