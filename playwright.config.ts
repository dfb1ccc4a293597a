import { defineConfig } from '@playwright/test'

const port = Number(process.env.E2E_PORT ?? 3417)
const baseURL = `http://127.0.0.1:${port}`
// Separate directories let two runs in one checkout (E2E_PORT, TEST_RESULTS_DIR) keep apart.
const resultsDir = process.env.TEST_RESULTS_DIR ?? '.test-results'

// `npm test` provides E2E_DATABASE_URL (a fresh database on its embedded PostgreSQL).
const databaseUrl = process.env.E2E_DATABASE_URL
if (!databaseUrl) throw new Error('Run the browser tests through `npm test` (E2E_DATABASE_URL is unset)')

const chromium = {
  browserName: 'chromium' as const,
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  },
}

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // Every page is also checked with axe (tests/e2e/support/accessibility.ts): long flows need the time.
  timeout: 180_000,
  // An assertion on a page not yet checked includes that page's axe run (seconds on a loaded machine).
  expect: { timeout: 20_000 },
  reporter: [['list'], ['json', { outputFile: `${resultsDir}/playwright.json` }]],
  use: { baseURL, trace: 'retain-on-failure' },
  outputDir: `${resultsDir}/playwright-output`,
  // Forms must work without JavaScript: that project runs first.
  projects: [
    { name: 'no-js', use: { ...chromium, javaScriptEnabled: false }, testIgnore: /client-validation\.spec\.ts/ },
    // HTTP-level checks need no browser features; they run once.
    { name: 'js', use: { ...chromium, javaScriptEnabled: true }, dependencies: ['no-js'], testIgnore: /host\.spec\.ts/ },
  ],
  webServer: {
    // As production starts it (the tsx CLI would SIGKILL the server if its shutdown took over 30 ms).
    command: 'node --import tsx server.ts',
    url: `${baseURL}/api/v1/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      SESSION_SECRET: 'e2e-session-secret-that-is-long-enough-0123456789',
      CREDENTIALS_ENCRYPTION_KEY: 'base64:ZTJlLWNyZWRlbnRpYWxzLWtleS0zMi1ieXRlcy1sb24=',
      LOG_LEVEL: 'warn',
      DATA_DIR: `${resultsDir}/e2e-data`,
      // Test-only password hashing cost (app/services/accounts/passwords.server.ts).
      NODE_ENV: 'test',
      // Usage pages show new activity within a second instead of ten.
      USAGE_FLUSH_SECONDS: '1',
      // A failing webhook is retried once, a second later, then its delivery has failed (replay tests).
      WEBHOOK_RETRY_DELAYS_SECONDS: '1',
    },
  },
})
