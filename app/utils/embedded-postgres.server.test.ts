/**
 * Initialising a cluster, with stand-ins for initdb (shell scripts) that report what they were given
 * or fail as initdb does. The real initdb runs in tests/integration/server-start.test.ts and
 * npm-start.test.ts.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { initialiseCluster } from './embedded-postgres.server'
import { locatePostgres } from './postgres-install.server'

const dirs: string[] = []
after(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true })
})

/** A directory every user may enter (the stand-in runs as the postgres user when the tests run as root). */
async function openTempDir(prefix: string) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  await fs.chmod(dir, 0o755)
  dirs.push(dir)
  return dir
}

async function standIn(dir: string, body: string) {
  const program = path.join(dir, 'initdb')
  await fs.writeFile(program, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return program
}

async function tmpEntries() {
  return new Set(await fs.readdir(os.tmpdir()))
}

describe('initialiseCluster', () => {
  test('hands initdb the password in a file only the cluster owner can read, then removes it', async () => {
    const { runAs } = await locatePostgres()
    const work = await openTempDir('carcosa-initdb-test-')
    const report = path.join(work, 'report')
    await fs.writeFile(report, '')
    await fs.chmod(report, 0o666)
    // Records the password file's mode, owner and content and its directory's mode, then makes a cluster.
    const initdb = await standIn(
      work,
      [
        'for arg in "$@"; do case "$arg" in --pwfile=*) pw="${arg#--pwfile=}";; --pgdata=*) data="${arg#--pgdata=}";; esac; done',
        `stat -c '%a %U' "$pw" >> ${report}`,
        `stat -c '%a' "$(dirname "$pw")" >> ${report}`,
        `cat "$pw" >> ${report}`,
        'echo 18 > "$data/PG_VERSION"',
      ].join('\n'),
    )
    const before = await tmpEntries()
    const clusterDir = path.join(work, 'cluster')
    await initialiseCluster({ initdb, runAs }, clusterDir, 'sw0rdfish')

    const [fileLine, dirLine, password] = (await fs.readFile(report, 'utf8')).trim().split('\n')
    const owner = runAs ? 'postgres' : os.userInfo().username
    assert.equal(fileLine, `600 ${owner}`, 'the password file is 0600 and belongs to whoever runs initdb')
    assert.equal(dirLine, '700', 'in a directory no one else may enter')
    assert.equal(password, 'sw0rdfish')
    assert.equal(await fs.readFile(path.join(clusterDir, 'PG_VERSION'), 'utf8'), '18\n', 'the cluster is in place')
    const left = [...(await tmpEntries())].filter((name) => !before.has(name) && /pg-password|carcosa-initdb-(?!test)/.test(name))
    assert.deepEqual(left, [], 'no password file or directory is left in the temporary directory')
  })

  test('a failing initdb leaves no cluster directory and says why in one line', async () => {
    const { runAs } = await locatePostgres()
    const work = await openTempDir('carcosa-initdb-test-')
    const initdb = await standIn(
      work,
      [
        'for arg in "$@"; do case "$arg" in --pgdata=*) data="${arg#--pgdata=}";; esac; done',
        'touch "$data/half-written"',
        'echo "The files belonging to this database system will be owned by user \\"postgres\\"." >&2',
        'echo "initdb: error: could not create directory \\"$data/base\\": No space left on device" >&2',
        'echo "initdb: removing contents of data directory" >&2',
        'exit 1',
      ].join('\n'),
    )
    const clusterDir = path.join(work, 'cluster')
    const error = await initialiseCluster({ initdb, runAs }, clusterDir, 'pw').then(
      () => assert.fail('initialiseCluster resolved'),
      (caught: Error) => caught,
    )
    assert.match(error.message, /^initdb failed: initdb: error: could not create directory .*No space left on device$/)
    assert.doesNotMatch(error.message, /\n/)
    assert.deepEqual(await fs.readdir(work), ['initdb'], 'neither the cluster directory nor its staging directory is left')
  })

  test('an initdb that cannot be run at all is reported in one line, nothing left behind', async () => {
    const work = await openTempDir('carcosa-initdb-test-')
    const clusterDir = path.join(work, 'cluster')
    const error = await initialiseCluster({ initdb: path.join(work, 'missing-initdb'), runAs: null }, clusterDir, 'pw').then(
      () => assert.fail('initialiseCluster resolved'),
      (caught: Error) => caught,
    )
    assert.match(error.message, /^missing-initdb could not run: spawn .* ENOENT$/)
    assert.deepEqual(await fs.readdir(work), [])
  })

  test('an empty directory in the way is replaced; one with files in it is left alone and named', async () => {
    const { runAs } = await locatePostgres()
    const work = await openTempDir('carcosa-initdb-test-')
    const initdb = await standIn(work, 'for arg in "$@"; do case "$arg" in --pgdata=*) echo 18 > "${arg#--pgdata=}/PG_VERSION";; esac; done')

    const empty = path.join(work, 'empty')
    await fs.mkdir(empty)
    await initialiseCluster({ initdb, runAs }, empty, 'pw')
    assert.deepEqual(await fs.readdir(empty), ['PG_VERSION'])

    const occupied = path.join(work, 'occupied')
    await fs.mkdir(occupied)
    await fs.writeFile(path.join(occupied, 'notes.txt'), 'mine')
    await assert.rejects(initialiseCluster({ initdb, runAs }, occupied, 'pw'), /occupied is not empty but holds no PostgreSQL cluster/)
    assert.deepEqual(await fs.readdir(occupied), ['notes.txt'])
  })
})
