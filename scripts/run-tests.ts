/**
 * `npm test`: runs ESLint and Prettier's check (a finding of either counts as one failed test), builds the app, starts one embedded
 * PostgreSQL for the run, prepares a migrated template database (each test file clones its own from
 * it), runs the node:test suites and the Playwright suites side by side, and ends with one summary line.
 *
 * While working: `npm test -- tests/integration/foo.test.ts` runs just those node:test files;
 * `--unit` (npm run test:unit) the node:test files beside the code in app/, without type check or
 * build; `--integration` (npm run test:integration) those in tests/; `--e2e-only` (npm run test:e2e)
 * just the Playwright suites (extra Playwright arguments may follow).
 * Two runs at once in one checkout need their own TEST_RESULTS_DIR (and E2E_PORT for browser tests).
 */
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startEmbeddedPostgres } from '../app/utils/embedded-postgres.server'
import { prepareJobStore } from '../app/services/jobs/job-store.server'
import { applyMigrations } from '../app/utils/migrate.server'
import { startS3rver } from '../tests/support/start-s3rver'

const RESULTS_DIR = path.resolve(process.env.TEST_RESULTS_DIR ?? '.test-results')
const TEMPLATE_DATABASE = 'carcosa_template'

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, output?: string) {
  return new Promise<number>((resolve) => {
    // With `output`, what the command prints goes to that file (printed later as one block).
    const child = spawn(command, args, { stdio: output ? ['ignore', 'pipe', 'pipe'] : 'inherit', env })
    if (output) {
      const file = createWriteStream(output)
      child.stdout!.pipe(file, { end: false })
      child.stderr!.pipe(file, { end: false })
      child.on('close', (code, signal) => file.end(() => resolve(code ?? (signal ? 1 : 0))))
    } else child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

async function findTestFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile() && /\.test\.tsx?$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .filter(
      (file) => !file.includes('node_modules') && !file.includes(`${path.sep}dist${path.sep}`) && !file.includes(`${path.sep}e2e${path.sep}`),
    )
    .sort()
}

async function main() {
  await fs.rm(RESULTS_DIR, { recursive: true, force: true })
  await fs.mkdir(RESULTS_DIR, { recursive: true })

  const args = process.argv.slice(2)
  const mode = args[0] === '--e2e-only' ? 'e2e' : args[0] === '--unit' ? 'unit' : args[0] === '--integration' ? 'integration' : 'all'

  // SKIP_BUILD=1 saves the lint, the type check and the build while iterating on service tests that do
  // not need them (SKIP_BUILD=0 runs them); unit tests never load the build.
  const build = !['1', 'true'].includes(process.env.SKIP_BUILD ?? '') && mode !== 'unit'
  // ESLint and Prettier read the sources while the packages, the type check and the app build run:
  // independent work, side by side on the machine's cores.
  const checks = build
    ? Promise.all([run('npx', ['eslint', '.']), run('npx', ['prettier', '--check', '--log-level', 'warn', '.'])])
    : Promise.resolve([null, null] as const)
  if (build) {
    // The packages first: the app's tests import them as built (dist), as their users do.
    if ((await run('npm', ['run', 'build', '--workspaces', '--if-present'])) !== 0) throw new Error('package build failed')
    if ((await run('npx', ['tsc', '--noEmit'])) !== 0) throw new Error('type check failed')
    if ((await run('npx', ['remix', 'build'])) !== 0) throw new Error('remix build failed')
  }
  const [lintExit, formatExit] = await checks

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'carcosa-test-pg-'))
  const database = await startEmbeddedPostgres({ dataDir, password: 'carcosa-test', database: TEMPLATE_DATABASE })
  const s3rver = await startS3rver()
  let exitCode: number
  try {
    await applyMigrations(database.url)
    await prepareJobStore(database.url)
    // Connections to the template would block CREATE DATABASE ... TEMPLATE; none stay open.
    const adminUrl = new URL(database.url)
    adminUrl.pathname = '/postgres'

    const env = {
      ...process.env,
      TEST_DATABASE_ADMIN_URL: adminUrl.toString(),
      TEST_DATABASE_TEMPLATE: TEMPLATE_DATABASE,
      TEST_S3_ENDPOINT: s3rver.endpoint,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    }

    const chosen = mode === 'e2e' ? [] : args.filter((arg) => /\.test\.tsx?$/.test(arg))
    const files =
      chosen.length > 0
        ? chosen
        : [
            ...(mode === 'integration' ? [] : await findTestFiles('app')),
            ...(mode === 'unit' ? [] : await findTestFiles('tests')),
            // The packages' own tests need no database: unit tests.
            ...(mode === 'integration' ? [] : await findTestFiles('packages')),
          ]
    // The browser suites mostly wait (on Chromium, timers and polling) and node:test leaves a core
    // idle between files: run side by side, they take about the time of the longer one. Playwright's
    // output is kept in a file and printed after node:test's, so neither interleaves with the other.
    const runE2e = mode === 'e2e' || (mode === 'all' && chosen.length === 0)
    const e2eOutput = mode === 'all' ? path.join(RESULTS_DIR, 'playwright-output.txt') : undefined
    const e2eRun = runE2e
      ? runPlaywright(adminUrl, database.url, env, mode === 'e2e' ? args.slice(1) : [], e2eOutput).catch((error: unknown) => {
          console.error('The browser tests could not start:', error)
          return 1
        })
      : Promise.resolve(0)
    const nodeExit =
      mode === 'e2e'
        ? 0
        : await run(
            process.execPath,
            [
              '--import',
              'tsx',
              '--test',
              '--test-concurrency=2',
              '--test-reporter=spec',
              '--test-reporter-destination=stdout',
              '--test-reporter=tap',
              `--test-reporter-destination=${path.join(RESULTS_DIR, 'node.tap')}`,
              ...files,
            ],
            env,
          )
    if (e2eOutput && runE2e) console.log('\nBrowser tests (Playwright), run beside the node:test suites:')
    const e2eExit = await e2eRun
    if (e2eOutput && runE2e) process.stdout.write(await fs.readFile(e2eOutput, 'utf8').catch(() => 'Playwright printed nothing.\n'))

    const counts = await summarize()
    if (lintExit !== null) counts[lintExit === 0 ? 'passed' : 'failed'] += 1
    if (formatExit !== null) counts[formatExit === 0 ? 'passed' : 'failed'] += 1
    console.log(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`)
    exitCode = nodeExit === 0 && e2eExit === 0 && counts.failed === 0 ? 0 : 1
    if (lintExit) console.error('ESLint found problems (above); `npm run lint` shows them again.')
    if (formatExit) console.error('Prettier would reformat the files listed above; `npm run format` does it.')
  } finally {
    await s3rver.stop()
    await database.stop()
    await fs.rm(dataDir, { recursive: true, force: true })
  }
  process.exit(exitCode)
}

async function runPlaywright(adminUrl: URL, databaseUrl: string, env: NodeJS.ProcessEnv, extraArgs: string[], output?: string) {
  const e2eDatabase = 'carcosa_e2e'
  const admin = new pg.Client({ connectionString: adminUrl.toString() })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${e2eDatabase} TEMPLATE ${TEMPLATE_DATABASE}`)
  await admin.end()
  const e2eUrl = new URL(databaseUrl)
  e2eUrl.pathname = `/${e2eDatabase}`
  // Named spec files run alone: without --no-deps the js project's dependency would run every no-js spec first.
  const namesSpecs = extraArgs.some((arg) => /\.spec\.ts(:\d+)*$/.test(arg))
  const depsArgs = namesSpecs && !extraArgs.includes('--no-deps') ? ['--no-deps'] : []
  return run('npx', ['playwright', 'test', ...depsArgs, ...extraArgs], { ...env, E2E_DATABASE_URL: e2eUrl.toString() }, output)
}

async function summarize() {
  const tap = await fs.readFile(path.join(RESULTS_DIR, 'node.tap'), 'utf8').catch(() => '')
  const tapCount = (name: string) => Number(tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? 0)
  const report = JSON.parse(await fs.readFile(path.join(RESULTS_DIR, 'playwright.json'), 'utf8').catch(() => '{}')) as {
    stats?: { expected: number; unexpected: number; skipped: number; flaky: number }
  }
  const e2e = report.stats ?? { expected: 0, unexpected: 0, skipped: 0, flaky: 0 }
  return {
    passed: tapCount('pass') + e2e.expected + e2e.flaky,
    failed: tapCount('fail') + tapCount('cancelled') + e2e.unexpected,
    skipped: tapCount('skipped') + tapCount('todo') + e2e.skipped,
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
