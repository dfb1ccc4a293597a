/**
 * Buckets: registration per provider, validation, roles, shares and their levels, isolation, sealed
 * credentials, the SSRF guard at save time, test connection against s3rver (which ignores signatures:
 * nothing here proves signing), a project's bucket, and the re-encryption command.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { before, describe, test } from 'node:test'
import { PutBucketCorsCommand } from '@aws-sdk/client-s3'
import sodium from 'libsodium-wrappers'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { createBucket, deleteBucket, getBucket, setBucketPrices, shareBucket, updateBucket } from '~/services/buckets/buckets.server'
import { usageOverview } from '~/services/usage/reports.server'
import { usageQuerySchema } from '~/services/usage/schemas'
import { createBucketSchema } from '~/services/buckets/schemas'
import { testBucketConnection } from '~/services/buckets/test-connection.server'
import { createProject, updateProject } from '~/services/workspaces/projects.server'
import { getConfig } from '~/utils/config.server'
import { sealSecret } from '~/utils/credentials.server'
import { prisma } from '~/utils/db.server'
import { api, assertProblem } from '../support/api-client'
import {
  addMember,
  addToTeam,
  assertAppError,
  createProjectIn,
  createTeamIn,
  createWorkspace,
  testMeta,
  type TestUser,
} from '../support/factories'
import { createS3Bucket, rawS3Client, s3Endpoint } from '../support/s3'

// Local buckets live under DATA_DIR/storage: a directory of this file's own.
process.env.DATA_DIR = path.join(os.tmpdir(), `carcosa-buckets-test-${randomBytes(4).toString('hex')}`)

const SECRET_MARK = `sk-${randomBytes(12).toString('hex')}`
const token = async (user: TestUser) => (await issueTokens(user.user.id, testMeta())).accessToken

/** Runs `fn` with a configuration value changed, as an operator would set it. */
async function withConfig<T>(
  change: Partial<{ STORAGE_ALLOW_PRIVATE_ENDPOINTS: boolean; STORAGE_LOCAL_ENABLED: boolean }>,
  fn: () => Promise<T>,
) {
  const config = getConfig()
  const saved = { STORAGE_ALLOW_PRIVATE_ENDPOINTS: config.STORAGE_ALLOW_PRIVATE_ENDPOINTS, STORAGE_LOCAL_ENABLED: config.STORAGE_LOCAL_ENABLED }
  Object.assign(config, change)
  try {
    return await fn()
  } finally {
    Object.assign(config, saved)
  }
}

async function s3Input(teamId: string, overrides: Record<string, unknown> = {}) {
  const fields = await createS3Bucket('carcosa')
  return createBucketSchema.parse({ teamId, name: `S3 ${fields.bucketName}`, ...fields, ...overrides })
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface World {
  owner: TestUser
  ownerToken: string
  organization: { id: string }
  team: { id: string }
  otherTeam: { id: string }
  /** ADMIN of otherTeam only (organization MEMBER). */
  otherTeamAdmin: TestUser
  /** MEMBER of `team` (organization MEMBER). */
  teamMember: TestUser
  stranger: TestUser
  strangerTeam: { id: string }
}
let world: World

before(async () => {
  const { owner, organization, team } = await createWorkspace()
  const otherTeam = await createTeamIn(owner.actor, organization.id)
  const otherTeamAdmin = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, otherTeam.id, otherTeamAdmin, 'ADMIN')
  const teamMember = await addMember(organization.id, owner.actor, 'MEMBER')
  await addToTeam(owner.actor, team.id, teamMember, 'MEMBER')
  const stranger = await createWorkspace()
  world = {
    owner,
    ownerToken: await token(owner),
    organization,
    team,
    otherTeam,
    otherTeamAdmin,
    teamMember,
    stranger: stranger.owner,
    strangerTeam: stranger.team,
  }
})

describe('registration', () => {
  test('each provider is registered with its defaults; answers mask the key and never hold the secret', async () => {
    const s3 = await createBucket(
      world.owner.actor,
      createBucketSchema.parse({
        teamId: world.team.id,
        name: 'AWS',
        provider: 's3',
        bucketName: 'my-aws-bucket',
        region: 'eu-west-1',
        accessKeyId: 'AKIAEXAMPLEWXYZ',
        secretAccessKey: SECRET_MARK,
      }),
    )
    assert.deepEqual(
      [s3.provider, s3.region, s3.endpoint, s3.forcePathStyle, s3.accessKeyId, s3.hasCredentials, s3.access, s3.lastTest],
      ['s3', 'eu-west-1', null, false, '••••WXYZ', true, 'OWNER', null],
    )
    const r2 = await createBucket(
      world.owner.actor,
      createBucketSchema.parse({
        teamId: world.team.id,
        name: 'R2',
        provider: 'r2',
        bucketName: 'my-r2-bucket',
        endpoint: 'https://localhost:4443/',
        accessKeyId: 'r2key1234',
        secretAccessKey: SECRET_MARK,
      }),
    )
    assert.deepEqual([r2.region, r2.endpoint, r2.forcePathStyle], ['auto', 'https://localhost:4443', false])
    const compatible = await createBucket(world.owner.actor, await s3Input(world.team.id, { secretAccessKey: SECRET_MARK }))
    assert.deepEqual([compatible.provider, compatible.forcePathStyle, compatible.region], ['s3-compatible', true, 'us-east-1'])
    const local = await createBucket(
      world.owner.actor,
      createBucketSchema.parse({ teamId: world.team.id, name: 'Disk', provider: 'local', bucketName: `disk-${Date.now()}` }),
    )
    assert.deepEqual([local.provider, local.hasCredentials, local.accessKeyId, local.endpoint], ['local', false, null, null])
    for (const view of [s3, r2, compatible, local]) assert.doesNotMatch(JSON.stringify(view), new RegExp(SECRET_MARK))
  })

  test('REST: create, list, get, rotate, delete; the secret appears nowhere in answers', async () => {
    const fields = await createS3Bucket('rest')
    const created = await api('POST', '/api/v1/buckets', {
      token: world.ownerToken,
      body: { teamId: world.team.id, name: 'Via REST', ...fields, accessKeyId: 'S3RVERKEY1', secretAccessKey: SECRET_MARK },
    })
    assert.equal(created.status, 201, created.text)
    assert.equal(created.json.accessKeyId, '••••KEY1')
    const id = created.json.id as string
    const list = await api('GET', `/api/v1/buckets?teamId=${world.team.id}&limit=100`, { token: world.ownerToken })
    assert.ok(list.json.items.some((b: { id: string }) => b.id === id))
    const got = await api('GET', `/api/v1/buckets/${id}`, { token: world.ownerToken })
    assert.deepEqual([got.json.name, got.json.bucketName, got.json.access], ['Via REST', fields.bucketName, 'OWNER'])
    const rotated = await api('PUT', `/api/v1/buckets/${id}`, {
      token: world.ownerToken,
      body: { accessKeyId: 'NEWKEY9876', secretAccessKey: `${SECRET_MARK}-2` },
    })
    assert.equal(rotated.status, 200, rotated.text)
    assert.equal(rotated.json.accessKeyId, '••••9876')
    const audit = await prisma.auditLog.findFirstOrThrow({ where: { action: 'bucket.update', targetId: id } })
    assert.deepEqual(audit.after, { credentials: 'rotated' })
    const half = await api('PUT', `/api/v1/buckets/${id}`, { token: world.ownerToken, body: { accessKeyId: 'ONLYONE' } })
    assertProblem(half, 400)
    assert.deepEqual(Object.keys(half.json.errors), ['secretAccessKey'])
    for (const response of [created, list, got, rotated, half]) assert.doesNotMatch(response.text, new RegExp(SECRET_MARK))
    const deleted = await api('DELETE', `/api/v1/buckets/${id}`, { token: world.ownerToken })
    assert.equal(deleted.status, 204)
    assert.equal(await prisma.bucket.count({ where: { id } }), 0)
  })

  test('validation errors name the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ provider: 's3', bucketName: 'ok-name', accessKeyId: 'a', secretAccessKey: 'b' }, 'region'],
      [{ provider: 'r2', bucketName: 'ok-name', accessKeyId: 'a', secretAccessKey: 'b' }, 'endpoint'],
      [{ provider: 'r2', bucketName: 'ok-name', endpoint: 'http://localhost:9000', accessKeyId: 'a', secretAccessKey: 'b' }, 'endpoint'],
      [{ provider: 's3-compatible', bucketName: 'ok-name', accessKeyId: 'a', secretAccessKey: 'b' }, 'endpoint'],
      [{ provider: 's3', region: 'us-east-1', bucketName: 'Bad_Name', accessKeyId: 'a', secretAccessKey: 'b' }, 'bucketName'],
      [{ provider: 's3', region: 'us-east-1', bucketName: '192.168.1.1', accessKeyId: 'a', secretAccessKey: 'b' }, 'bucketName'],
      [{ provider: 's3', region: 'us-east-1', bucketName: 'ok-name', accessKeyId: 'a' }, 'secretAccessKey'],
      [{ provider: 'local', bucketName: 'disk', accessKeyId: 'a' }, 'accessKeyId'],
      [{ provider: 'local', bucketName: '../etc' }, 'bucketName'],
      [{ provider: 'local', bucketName: 'team-mine' }, 'bucketName'],
      [{ provider: 'ftp', bucketName: 'ok-name' }, 'provider'],
    ]
    for (const [body, field] of cases) {
      const response = await api('POST', '/api/v1/buckets', {
        token: world.ownerToken,
        body: { teamId: world.team.id, name: 'Invalid', ...body },
      })
      assertProblem(response, 400)
      assert.deepEqual(Object.keys(response.json.errors), [field], JSON.stringify(body))
    }
  })

  test('local buckets: one directory name across teams; refused when the operator disables the provider', async () => {
    const bucketName = `shared-dir-${Date.now()}`
    await createBucket(world.owner.actor, createBucketSchema.parse({ teamId: world.team.id, name: 'One', provider: 'local', bucketName }))
    const taken = await assertAppError(
      createBucket(world.owner.actor, createBucketSchema.parse({ teamId: world.otherTeam.id, name: 'Two', provider: 'local', bucketName })),
      'CONFLICT',
    )
    assert.deepEqual(Object.keys(taken.details.fieldErrors ?? {}), ['bucketName'])
    // The app's build reads its own configuration: the operator's switch is flipped for the service.
    await withConfig({ STORAGE_LOCAL_ENABLED: false }, async () => {
      const error = await assertAppError(
        createBucket(
          world.owner.actor,
          createBucketSchema.parse({ teamId: world.team.id, name: 'Off', provider: 'local', bucketName: `off-${Date.now()}` }),
        ),
        'VALIDATION',
      )
      assert.deepEqual(Object.keys(error.details.fieldErrors ?? {}), ['provider'])
      assert.match(error.details.fieldErrors?.provider?.[0] ?? '', /STORAGE_LOCAL_ENABLED/)
    })
  })

  test('SSRF: metadata and link-local endpoints are refused in every notation, private ones when disallowed', async () => {
    const refusedAlways = [
      'http://169.254.169.254',
      'http://[fd00:ec2::254]',
      'http://2852039166',
      'http://0xa9fea9fe',
      'http://0xa9.0xfe.0xa9.0xfe',
      'http://0251.0376.0251.0376',
      'http://[::ffff:169.254.169.254]',
      'http://169.254.1.1:9000',
    ]
    for (const endpoint of refusedAlways) {
      const response = await api('POST', '/api/v1/buckets', {
        token: world.ownerToken,
        body: {
          teamId: world.team.id,
          name: 'Metadata',
          provider: 's3-compatible',
          bucketName: 'ok-name',
          endpoint,
          accessKeyId: 'a',
          secretAccessKey: 'b',
        },
      })
      assertProblem(response, 400)
      assert.deepEqual(Object.keys(response.json.errors), ['endpoint'], endpoint)
    }
    await withConfig({ STORAGE_ALLOW_PRIVATE_ENDPOINTS: false }, async () => {
      for (const endpoint of ['http://10.0.0.5:9000', 'http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000']) {
        const error = await assertAppError(
          createBucket(
            world.owner.actor,
            createBucketSchema.parse({
              teamId: world.team.id,
              name: 'Private',
              provider: 's3-compatible',
              bucketName: 'ok-name',
              endpoint,
              accessKeyId: 'a',
              secretAccessKey: 'b',
            }),
          ),
          'VALIDATION',
        )
        assert.match(error.details.fieldErrors?.endpoint?.[0] ?? '', /STORAGE_ALLOW_PRIVATE_ENDPOINTS/)
      }
    })
    const bucket = await createBucket(world.owner.actor, await s3Input(world.team.id))
    await assertAppError(updateBucket(world.owner.actor, bucket.id, { endpoint: 'http://169.254.169.254' }), 'VALIDATION')
    assert.equal((await getBucket(world.owner.actor, bucket.id)).endpoint, s3Endpoint())
    assert.equal(await prisma.bucket.count({ where: { name: { in: ['Metadata', 'Private'] } } }), 0)
  })
})

describe('roles, shares and isolation', () => {
  test('who may manage: team members read, only admins register and change; outsiders get 404', async () => {
    const bucket = await createBucket(world.owner.actor, await s3Input(world.team.id))
    await assertAppError(createBucket(world.teamMember.actor, await s3Input(world.team.id)), 'FORBIDDEN')
    assert.equal((await getBucket(world.teamMember.actor, bucket.id)).id, bucket.id)
    await assertAppError(updateBucket(world.teamMember.actor, bucket.id, { name: 'Nope' }), 'FORBIDDEN')
    await assertAppError(deleteBucket(world.teamMember.actor, bucket.id), 'FORBIDDEN')
    await assertAppError(testBucketConnection(world.teamMember.actor, bucket.id), 'FORBIDDEN')
    const strangerToken = await token(world.stranger)
    for (const [method, url, body] of [
      ['GET', `/api/v1/buckets/${bucket.id}`],
      ['PUT', `/api/v1/buckets/${bucket.id}`, { name: 'Mine now' }],
      ['DELETE', `/api/v1/buckets/${bucket.id}`],
      ['POST', `/api/v1/buckets/${bucket.id}/test`],
      ['GET', `/api/v1/buckets/${bucket.id}/shares`],
      ['POST', `/api/v1/buckets/${bucket.id}/shares`, { teamId: world.strangerTeam.id, access: 'ADMIN' }],
      ['GET', `/api/v1/buckets?teamId=${world.team.id}`],
    ] as const) {
      assertProblem(await api(method, url, { token: strangerToken, body }), 404)
    }
    // A stranger's own team cannot be given the bucket, nor a team of another organization a share.
    await assertAppError(shareBucket(world.owner.actor, bucket.id, { teamId: world.strangerTeam.id, access: 'READ_WRITE' }), 'NOT_FOUND')
    await assertAppError(createProject(world.stranger.actor, world.strangerTeam.id, { name: 'Thief', bucketId: bucket.id }), 'NOT_FOUND')
  })

  test('share levels are enforced: READ_ONLY cannot hold projects, READ_WRITE can, ADMIN edits and tests but neither deletes nor re-shares', async () => {
    const bucket = await createBucket(world.owner.actor, await s3Input(world.team.id))
    const admin = world.otherTeamAdmin.actor
    // Without a share the other team sees it (same organization) but cannot use it.
    const projectB = await createProjectIn(world.owner.actor, world.otherTeam.id)
    await assertAppError(updateProject(admin, projectB.id, { bucketId: bucket.id }), 'FORBIDDEN')

    await shareBucket(world.owner.actor, bucket.id, { teamId: world.otherTeam.id, access: 'READ_ONLY' })
    await assertAppError(shareBucket(world.owner.actor, bucket.id, { teamId: world.otherTeam.id, access: 'ADMIN' }), 'CONFLICT')
    const readOnly = await assertAppError(updateProject(admin, projectB.id, { bucketId: bucket.id }), 'FORBIDDEN')
    assert.match(readOnly.message, /READ_ONLY/)
    await assertAppError(updateBucket(admin, bucket.id, { name: 'Renamed by B' }), 'FORBIDDEN')

    const bToken = await token(world.otherTeamAdmin)
    const upgraded = await api('PUT', `/api/v1/buckets/${bucket.id}/shares/${world.otherTeam.id}`, {
      token: world.ownerToken,
      body: { access: 'READ_WRITE' },
    })
    assert.equal(upgraded.json.access, 'READ_WRITE')
    const assigned = await api('PUT', `/api/v1/projects/${projectB.id}`, { token: bToken, body: { bucketId: bucket.id } })
    assert.equal(assigned.status, 200, assigned.text)
    assert.equal(assigned.json.bucketId, bucket.id)
    const listed = await api('GET', `/api/v1/buckets?teamId=${world.otherTeam.id}`, { token: bToken })
    assert.equal(listed.json.items.find((b: { id: string }) => b.id === bucket.id)?.access, 'READ_WRITE')
    // Taking writing away from a team whose project stores files there is refused.
    assertProblem(await api('DELETE', `/api/v1/buckets/${bucket.id}/shares/${world.otherTeam.id}`, { token: world.ownerToken }), 409)
    assertProblem(
      await api('PUT', `/api/v1/buckets/${bucket.id}/shares/${world.otherTeam.id}`, { token: world.ownerToken, body: { access: 'READ_ONLY' } }),
      409,
    )
    assertProblem(await api('DELETE', `/api/v1/buckets/${bucket.id}`, { token: world.ownerToken }), 409)

    await api('PUT', `/api/v1/buckets/${bucket.id}/shares/${world.otherTeam.id}`, { token: world.ownerToken, body: { access: 'ADMIN' } })
    const renamed = await api('PUT', `/api/v1/buckets/${bucket.id}`, { token: bToken, body: { name: 'Renamed by B' } })
    assert.equal(renamed.status, 200, renamed.text)
    assert.equal((await api('POST', `/api/v1/buckets/${bucket.id}/test`, { token: bToken })).status, 200)
    assertProblem(await api('DELETE', `/api/v1/buckets/${bucket.id}`, { token: bToken }), 403)
    assertProblem(
      await api('POST', `/api/v1/buckets/${bucket.id}/shares`, { token: bToken, body: { teamId: world.team.id, access: 'ADMIN' } }),
      403,
    )

    // Once the project moves away, the share can go.
    const own = await createBucket(admin, await s3Input(world.otherTeam.id))
    await updateProject(admin, projectB.id, { bucketId: own.id })
    assert.equal((await api('DELETE', `/api/v1/buckets/${bucket.id}/shares/${world.otherTeam.id}`, { token: world.ownerToken })).status, 204)
    const shares = await api('GET', `/api/v1/buckets/${bucket.id}/shares`, { token: world.ownerToken })
    assert.deepEqual(shares.json.items, [])
  })
})

describe('prices for cost estimates', () => {
  test("a team's own prices replace the list prices in estimates, are audited, and only bucket editors set them", async () => {
    const bucket = await createBucket(world.owner.actor, await s3Input(world.team.id))
    // An S3-compatible bucket has no list prices: no estimate until the team sets its own.
    assert.equal(bucket.prices, null)
    const project = await createProject(world.owner.actor, world.team.id, { name: 'Priced', bucketId: bucket.id })
    const prices = { storagePerGbMonth: 0.01, writesPerMillion: 2, readsPerMillion: 0.3, egressPerGb: 0.04 }
    await assertAppError(setBucketPrices(world.teamMember.actor, bucket.id, prices), 'FORBIDDEN')
    const priced = await setBucketPrices(world.owner.actor, bucket.id, prices)
    assert.deepEqual(priced.prices, { source: 'custom', name: "The team's own prices for this bucket", ...prices })
    const overview = await usageOverview(world.owner.actor, usageQuerySchema.parse({ projectId: project.id }))
    assert.deepEqual(
      overview.cost.prices.map(({ source, storagePerGbMonth, egressPerGb }) => [source, storagePerGbMonth, egressPerGb]),
      [['custom', 0.01, 0.04]],
    )
    const entry = await prisma.auditLog.findFirstOrThrow({ where: { action: 'bucket.prices.update', targetId: bucket.id } })
    assert.deepEqual(entry.after, { prices })

    const refused = await api('PUT', `/api/v1/buckets/${bucket.id}/prices`, {
      token: await token(world.owner),
      body: { ...prices, egressPerGb: -1 },
    })
    assertProblem(refused, 400)
    assert.match(JSON.stringify(refused.json.errors), /egressPerGb/)
    const cleared = await api('DELETE', `/api/v1/buckets/${bucket.id}/prices`, { token: await token(world.owner) })
    assert.equal(cleared.status, 200)
    assert.equal(cleared.json.prices, null)
  })
})

describe("a project's bucket", () => {
  test("a new project gets its team's local bucket, created once; a chosen bucket wins; none when local storage is off", async () => {
    const { owner, team } = await createWorkspace()
    const first = await createProjectIn(owner.actor, team.id)
    const second = await createProjectIn(owner.actor, team.id)
    assert.ok(first.bucketId)
    assert.equal(second.bucketId, first.bucketId)
    const local = await prisma.bucket.findUniqueOrThrow({ where: { id: first.bucketId! } })
    assert.deepEqual([local.provider, local.name, local.teamId, local.bucketName], ['local', 'Local storage', team.id, `team-${team.id}`])
    const chosen = await createBucket(owner.actor, await s3Input(team.id))
    const ownerToken = await token(owner)
    const created = await api('POST', '/api/v1/projects', { token: ownerToken, body: { teamId: team.id, name: 'Chosen', bucketId: chosen.id } })
    assert.equal(created.status, 201, created.text)
    assert.equal(created.json.bucketId, chosen.id)
    assert.equal((await api('GET', `/api/v1/projects/${created.json.id}`, { token: ownerToken })).json.bucketId, chosen.id)
    await withConfig({ STORAGE_LOCAL_ENABLED: false }, async () => {
      const other = await createWorkspace()
      assert.equal(other.project.bucketId, null)
      assert.equal(await prisma.bucket.count({ where: { teamId: other.team.id } }), 0)
    })
  })

  test('deleting a team deletes its local bucket with its projects', async () => {
    const { owner, organization } = await createWorkspace()
    const team = await createTeamIn(owner.actor, organization.id)
    const project = await createProjectIn(owner.actor, team.id)
    const teamToken = await token(owner)
    assert.equal((await api('DELETE', `/api/v1/teams/${team.id}`, { token: teamToken })).status, 204)
    assert.equal(await prisma.bucket.count({ where: { id: project.bucketId! } }), 0)
  })

  test("a team whose bucket holds another team's project is not deleted until that project moves", async () => {
    const { owner, organization, team: borrowerTeam } = await createWorkspace()
    const lender = await createTeamIn(owner.actor, organization.id)
    const bucket = await createBucket(owner.actor, await s3Input(lender.id))
    await shareBucket(owner.actor, bucket.id, { teamId: borrowerTeam.id, access: 'READ_WRITE' })
    const borrower = await createProjectIn(owner.actor, borrowerTeam.id)
    await updateProject(owner.actor, borrower.id, { bucketId: bucket.id })
    const ownerToken = await token(owner)
    const refused = await api('DELETE', `/api/v1/teams/${lender.id}`, { token: ownerToken })
    assertProblem(refused, 409)
    assert.match(refused.json.detail, new RegExp(`Project "${borrower.name}"`))
    assert.equal(await prisma.team.count({ where: { id: lender.id } }), 1, 'nothing was deleted')
    await updateProject(owner.actor, borrower.id, { bucketId: (await createBucket(owner.actor, await s3Input(borrowerTeam.id))).id })
    assert.equal((await api('DELETE', `/api/v1/teams/${lender.id}`, { token: ownerToken })).status, 204)
    assert.equal(await prisma.bucket.count({ where: { id: bucket.id } }), 0)
  })
})

describe('test connection', () => {
  test('ok with CORS for PUT; "cors" without; no such bucket; unreachable; endpoint refused when private endpoints are disallowed', async () => {
    const input = await s3Input(world.team.id)
    const bucket = await createBucket(world.owner.actor, input)
    const noCors = await testBucketConnection(world.owner.actor, bucket.id)
    assert.deepEqual([noCors.ok, noCors.failure], [false, 'cors'])
    assert.match(noCors.reason ?? '', /No CORS configuration: browsers cannot upload directly/)

    await rawS3Client().send(
      new PutBucketCorsCommand({
        Bucket: input.bucketName,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'] }],
        },
      }),
    )
    const response = await api('POST', `/api/v1/buckets/${bucket.id}/test`, { token: world.ownerToken })
    assert.equal(response.status, 200, response.text)
    assert.deepEqual([response.json.ok, response.json.failure, response.json.reason], [true, null, null])
    const stored = await getBucket(world.owner.actor, bucket.id)
    assert.equal(stored.lastTest?.ok, true)
    // The probe object is gone again.
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3')
    const left = await rawS3Client().send(new ListObjectsV2Command({ Bucket: input.bucketName }))
    assert.equal(left.KeyCount ?? 0, 0)
    const audits = await prisma.auditLog.findMany({ where: { action: 'bucket.test', targetId: bucket.id }, orderBy: { createdAt: 'asc' } })
    assert.deepEqual(
      audits.map((row) => row.after),
      [
        { ok: false, failure: 'cors' },
        { ok: true, failure: null },
      ],
    )

    const missing = await createBucket(
      world.owner.actor,
      createBucketSchema.parse({ ...input, name: 'Missing', bucketName: `missing-${Date.now()}` }),
    )
    const noBucket = await testBucketConnection(world.owner.actor, missing.id)
    assert.deepEqual([noBucket.ok, noBucket.failure], [false, 'no-such-bucket'])

    const down = await createBucket(
      world.owner.actor,
      createBucketSchema.parse({ ...input, name: 'Down', endpoint: `http://127.0.0.1:${await closedPort()}` }),
    )
    const unreachable = await testBucketConnection(world.owner.actor, down.id)
    assert.deepEqual([unreachable.ok, unreachable.failure], [false, 'unreachable'])
    assert.equal((await getBucket(world.owner.actor, down.id)).lastTest?.reason, unreachable.reason)

    await withConfig({ STORAGE_ALLOW_PRIVATE_ENDPOINTS: false }, async () => {
      const refused = await testBucketConnection(world.owner.actor, bucket.id)
      assert.deepEqual([refused.ok, refused.failure], [false, 'endpoint-refused'])
      assert.match(refused.reason ?? '', /private or loopback/)
    })
  })

  test('a local bucket connects (CORS does not apply)', async () => {
    const local = await createBucket(
      world.owner.actor,
      createBucketSchema.parse({ teamId: world.team.id, name: 'Local probe', provider: 'local', bucketName: `probe-${Date.now()}` }),
    )
    const result = await testBucketConnection(world.owner.actor, local.id)
    assert.deepEqual([result.ok, result.failure], [true, null])
  })
})

describe('credentials at rest', () => {
  test('the secret access key is in no column of any table and no audit entry', async () => {
    await createBucket(world.owner.actor, await s3Input(world.team.id, { secretAccessKey: `${SECRET_MARK}-rest` }))
    const tables = await prisma.$queryRaw<
      { tablename: string }[]
    >`SELECT tablename::text AS tablename FROM pg_tables WHERE schemaname = 'public'`
    for (const { tablename } of tables) {
      const rows = await prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`)
      for (const { row } of rows) assert.ok(!row.includes(SECRET_MARK), `plaintext secret in table ${tablename}`)
    }
    const sealed = await prisma.bucket.findMany({ where: { credentials: { not: null } }, select: { credentials: true } })
    assert.ok(sealed.length > 0)
    for (const { credentials } of sealed) assert.match(credentials!, /^v1\.[0-9a-f]{8}\./)
  })

  test('npm run credentials:reencrypt re-seals every row under the new key; the old key is then not needed', async () => {
    const oldKey = process.env.CREDENTIALS_ENCRYPTION_KEY!
    const newKeyBytes = randomBytes(32)
    const newKey = `base64:${newKeyBytes.toString('base64')}`
    const bucket = await createBucket(world.owner.actor, await s3Input(world.team.id, { secretAccessKey: `${SECRET_MARK}-rotate` }))
    const { project } = await createWorkspace()
    await prisma.transformSigningSecret.create({ data: { projectId: project.id, secret: await sealSecret('transform-secret-1') } })

    const run = () =>
      spawnSync('npx', ['tsx', 'scripts/reencrypt-credentials.ts'], {
        env: { ...process.env, CREDENTIALS_ENCRYPTION_KEY: newKey, CREDENTIALS_ENCRYPTION_OLD_KEYS: oldKey, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      })
    const first = run()
    assert.equal(first.status, 0, first.stderr + first.stdout)
    assert.match(first.stdout, /bucket credentials: [1-9]\d* re-encrypted/)
    assert.match(first.stdout, /transform signing secrets: [1-9]\d* re-encrypted/)
    assert.doesNotMatch(first.stdout + first.stderr, new RegExp(SECRET_MARK))

    // Open every row with the new key alone.
    await sodium.ready
    const newKeyId = createHash('sha256').update(newKeyBytes).digest('hex').slice(0, 8)
    const open = (sealed: string) => {
      const [version, keyId, nonce, box] = sealed.split('.')
      assert.deepEqual([version, keyId], ['v1', newKeyId])
      return sodium.to_string(
        sodium.crypto_secretbox_open_easy(Buffer.from(box!, 'base64'), Buffer.from(nonce!, 'base64'), new Uint8Array(newKeyBytes)),
      )
    }
    for (const row of await prisma.bucket.findMany({ where: { credentials: { not: null } } })) JSON.parse(open(row.credentials!))
    for (const row of await prisma.transformSigningSecret.findMany()) open(row.secret)
    const mine = await prisma.bucket.findUniqueOrThrow({ where: { id: bucket.id } })
    assert.equal(JSON.parse(open(mine.credentials!)).secretAccessKey, `${SECRET_MARK}-rotate`)

    const second = run()
    assert.equal(second.status, 0, second.stderr)
    assert.match(second.stdout, /bucket credentials: 0 re-encrypted/)
  })
})
