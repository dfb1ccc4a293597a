/**
 * The REST API's status matrix, generated from the operation table (OPERATIONS): for every operation
 * the refusals its declaration implies (401, 403, 404, 400, 405) and its happy path, over HTTP
 * through the real app. Each operation needs a fixture below: a new endpoint without one fails here.
 */
import '../support/test-database'
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { z } from 'zod'
import { OPERATIONS } from '~/api/registry.server'
import type { Operation } from '~/api/operation.server'
import { issueTokens } from '~/services/accounts/api-tokens.server'
import { PERMISSIONS, type Permission } from '~/services/api-keys/permissions'
import { createBucket, shareBucket } from '~/services/buckets/buckets.server'
import { createBucketSchema } from '~/services/buckets/schemas'
import { addTeamMember } from '~/services/workspaces/teams.server'
import { createPreset } from '~/services/transforms/presets.server'
import { createTenant } from '~/services/tenants/tenants.server'
import { adoptPage } from '~/services/adoption/adopt-page.server'
import { startAdoption } from '~/services/adoption/adoption.server'
import { adoptionOptionsSchema } from '~/services/adoption/schemas'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { createPlan } from '~/services/tenants/plans.server'
import { createWebhookSchema } from '~/services/webhooks/schemas'
import { createWebhook, sendTestEvent } from '~/services/webhooks/webhooks.server'
import { initUpload } from '~/services/uploads/init-upload.server'
import { completeUpload } from '~/services/uploads/complete-upload.server'
import { claimUploadCallback } from '~/services/uploads/upload-callback.server'
import { initUploadSchema } from '~/services/uploads/schemas'
import { prisma } from '~/utils/db.server'
import { DEFAULT_TIER_LIMITS } from '~/utils/rate-limiter.server'
import { api, assertProblem, fillPath, type ApiResponse } from '../support/api-client'
import { createS3Bucket, rawS3Client } from '../support/s3'
import {
  addMember,
  createOrganizationFor,
  createProjectIn,
  createTeamIn,
  createTestApiKey,
  createWorkspace,
  testMeta,
  uniqueEmail,
  uniqueIp,
  type TestUser,
} from '../support/factories'
import { putTestFile } from '../support/file-factories'
import { attachS3Bucket } from '../support/storage-factories'
import { assertNoServerSecrets, serverSecrets } from '../support/leak-scan'

// ---------------------------------------------------------------------------------------------
// The world every fixture builds on: made once, since each user costs a password hash.

interface World {
  owner: TestUser
  ownerToken: string
  organization: { id: string }
  team: { id: string }
  /** Project A: the owner's. */
  project: { id: string }
  /** A member of the organization who is in no team yet. */
  member: TestUser
  /** Someone in no organization of the owner's, with a workspace (project B) of their own. */
  stranger: TestUser
  strangerToken: string
  otherProject: { id: string }
  /** A key of project B holding every permission (admin included). */
  otherProjectKey: string
}

let world: World

before(async () => {
  const { owner, organization, team, project } = await createWorkspace()
  const member = await addMember(organization.id, owner.actor, 'MEMBER')
  const other = await createWorkspace()
  world = {
    owner,
    ownerToken: await accessToken(owner),
    organization,
    team,
    project,
    member,
    stranger: other.owner,
    strangerToken: await accessToken(other.owner),
    otherProject: other.project,
    otherProjectKey: (await createTestApiKey(other.owner.actor, other.project.id, [...PERMISSIONS])).key,
  }
})

async function accessToken(user: TestUser) {
  return (await issueTokens(user.user.id, testMeta())).accessToken
}

/** A key of one of the owner's projects (the owner, OWNER of the team, may grant anything). */
async function keyIn(projectId: string, permissions: Permission[]) {
  return (await createTestApiKey(world.owner.actor, projectId, permissions)).key
}

const freshOrganization = () => createOrganizationFor(world.owner.actor)
const freshTeam = () => createTeamIn(world.owner.actor, world.organization.id)
const freshProject = () => createProjectIn(world.owner.actor, world.team.id)
let bucketSequence = 0
/** A bucket of the owner's team on a fresh s3rver bucket. */
const freshBucket = async () =>
  createBucket(
    world.owner.actor,
    createBucketSchema.parse({ teamId: world.team.id, name: `Matrix S3 ${++bucketSequence}`, ...(await createS3Bucket('matrix')) }),
  )
/** A webhook endpoint in a fresh project of the owner's (a project holds at most 20; nothing listens at its URL). */
const matrixWebhook = async () => {
  const project = await freshProject()
  return (await createWebhook(world.owner.actor, { ...createWebhookSchema.parse({ url: 'http://127.0.0.1:9/hooks' }), projectId: project.id }))
    .webhook
}
/** A settled (failed) delivery of a fresh endpoint of project A. */
const failedDelivery = async () => {
  const webhook = await matrixWebhook()
  const delivery = await sendTestEvent(world.owner.actor, webhook.id)
  await prisma.webhookDelivery.update({ where: { id: delivery.id }, data: { status: 'FAILED', attemptCount: 1 } })
  return { webhook, delivery }
}
/** A tenant of project A with a unique slug. */
const matrixPlan = () => createPlan(world.owner.actor, { projectId: world.project.id, name: `Plan ${uniqueIp()}` })
const matrixTenant = () =>
  createTenant(world.owner.actor, { projectId: world.project.id, slug: `t-${uniqueIp().replace(/\./g, '-')}`, name: 'Matrix tenant' })

/** A fresh project of the owner's whose s3rver bucket already holds an object under its tenant's prefix (adoption). */
const adoptionProject = async () => {
  const project = await freshProject()
  const { s3 } = await attachS3Bucket(project.id)
  await createTenant(world.owner.actor, { projectId: project.id, slug: 'acme', name: 'Acme' })
  await rawS3Client().send(new PutObjectCommand({ Bucket: s3.bucketName, Key: 'acme/a.txt', Body: 'legacy', ContentType: 'text/plain' }))
  return project
}
/** An adoption run in progress in a fresh project (or failed, to resume). */
const adoptionRun = async (status: 'RUNNING' | 'FAILED' = 'RUNNING') => {
  const project = await adoptionProject()
  const run = await startAdoption(world.owner.actor, project.id, adoptionOptionsSchema.parse({}))
  if (status === 'FAILED') await prisma.adoptionRun.update({ where: { id: run.id }, data: { status, error: 'The bucket could not be read' } })
  return { project, run }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one per operation id.

interface Call {
  params?: Record<string, string>
  query?: Record<string, string>
  body?: unknown
  /** Bearer token of the happy path; the owner's access token when left out (none for auth 'none'). */
  token?: string
  /** The project an API key must belong to for this call (every operation an API key may call). */
  projectId?: string
  /** What a key needs for the happy path, when more than the operation's permission (e.g. what it grants). */
  keyPermissions?: Permission[]
}

interface Fixture {
  /** Builds fresh resources for one call and returns a call that succeeds. */
  setup: () => Promise<Call>
  /** The status of that successful call. */
  status: number
  /** A user outside the owner's organization gets 404 for the same call. */
  hiddenFromOutsiders?: true
  /** Further checks of a successful answer. */
  check?: (response: ApiResponse, call: Call) => void | Promise<void>
}

let presetSequence = 0
/** A transform preset in project A with a name no other call uses. */
const freshPreset = () => createPreset(world.owner.actor, world.project.id, { name: `preset-${++presetSequence}`, params: { w: 100 } })

const FIXTURES: Record<string, Fixture> = {
  listTransformPresets: {
    setup: async () => {
      await freshPreset()
      return { query: { projectId: world.project.id }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const preset of r.json.items) assert.equal(preset.projectId, world.project.id)
    },
  },
  createTransformPreset: {
    setup: async () => ({
      body: { projectId: world.project.id, name: `created-${++presetSequence}`, params: { w: 300, h: 200, fit: 'cover', format: 'webp' } },
      projectId: world.project.id,
    }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual(r.json.params, { w: 300, h: 200, fit: 'cover', format: 'webp' }),
  },
  signTransformUrl: {
    setup: async () => ({
      body: { projectId: world.project.id, path: 'photos/cat.jpg', params: { w: 200 }, expiresIn: 600 },
      projectId: world.project.id,
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.match(r.json.url, new RegExp(`/api/v1/transform/${world.project.id}/photos/cat\\.jpg\\?exp=\\d+&w=200&sig=[A-Za-z0-9_-]{43}$`))
      assert.ok(new Date(r.json.expiresAt).getTime() > Date.now())
    },
  },
  signTransformUrls: {
    setup: async () => ({
      body: {
        projectId: world.project.id,
        items: [
          { path: 'photos/cat.jpg', params: { w: 200 } },
          { path: 'photos/dog.png', params: { w: 400 }, expiresIn: 600 },
        ],
      },
      projectId: world.project.id,
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.equal(r.json.items.length, 2)
      assert.match(
        r.json.items[0].url,
        new RegExp(`/api/v1/transform/${world.project.id}/photos/cat\\.jpg\\?exp=\\d+&w=200&sig=[A-Za-z0-9_-]{43}$`),
      )
      assert.match(
        r.json.items[1].url,
        new RegExp(`/api/v1/transform/${world.project.id}/photos/dog\\.png\\?exp=\\d+&w=400&sig=[A-Za-z0-9_-]{43}$`),
      )
    },
  },
  getTransformPreset: {
    setup: async () => ({ params: { id: (await freshPreset()).id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.id, r.json.params], [call.params!.id, { w: 100 }]),
  },
  updateTransformPreset: {
    setup: async () => ({ params: { id: (await freshPreset()).id }, projectId: world.project.id, body: { params: { w: 640, quality: 70 } } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual(r.json.params, { w: 640, quality: 70 }),
  },
  deleteTransformPreset: {
    setup: async () => ({ params: { id: (await freshPreset()).id }, projectId: world.project.id }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.transformPreset.count({ where: { id: call.params!.id } }), 0),
  },
  rotateTransformSecret: {
    setup: async () => {
      const { id } = await freshProject()
      return { params: { id }, projectId: id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: async (r, call) => {
      assert.equal(r.json.active.length, 1)
      assert.equal(await prisma.transformSigningSecret.count({ where: { projectId: call.params!.id, revokedAt: null } }), 1)
      assert.equal(JSON.stringify(r.json).includes('secret"'), false, 'no secret in the answer')
    },
  },
  health: {
    setup: async () => ({}),
    status: 200,
    check: (r) => assert.equal(r.json.status, 'ok'),
  },
  openapi: {
    setup: async () => ({}),
    status: 200,
    check: (r) => assert.equal(r.json.openapi, '3.1.0'),
  },
  register: {
    setup: async () => ({ body: { name: 'New Person', email: uniqueEmail('registered'), password: 'a long enough password' } }),
    status: 201,
    check: (r, call) => {
      assert.equal(r.json.user.email, (call.body as { email: string }).email)
      assert.match(r.json.accessToken, /^cat_/)
      assert.match(r.json.refreshToken, /^crt_/)
    },
  },
  login: {
    setup: async () => ({ body: { email: world.owner.user.email, password: world.owner.password } }),
    status: 200,
    check: (r) => {
      assert.equal(r.json.user.id, world.owner.user.id)
      assert.match(r.json.accessToken, /^cat_/)
      assert.equal(r.json.tokenType, 'Bearer')
    },
  },
  logout: {
    setup: async () => ({ token: await accessToken(world.owner) }),
    status: 204,
    check: async (_r, call) => {
      const after = await api('GET', '/api/v1/auth/me', { token: call.token })
      assertProblem(after, 401)
    },
  },
  me: {
    setup: async () => ({}),
    status: 200,
    check: (r) => assert.deepEqual([r.json.id, r.json.email], [world.owner.user.id, world.owner.user.email]),
  },
  refreshTokens: {
    setup: async () => ({ body: { refreshToken: (await issueTokens(world.owner.user.id, testMeta())).refreshToken } }),
    status: 200,
    check: (r, call) => {
      assert.match(r.json.accessToken, /^cat_/)
      assert.notEqual(r.json.refreshToken, (call.body as { refreshToken: string }).refreshToken)
    },
  },
  validateApiKey: {
    setup: async () => ({ body: { key: await keyIn(world.project.id, ['files:read']) } }),
    status: 200,
    check: (r) => assert.deepEqual([r.json.valid, r.json.projectId, r.json.permissions], [true, world.project.id, ['files:read']]),
  },
  listOrganizations: {
    setup: async () => ({ query: { limit: '100' } }),
    status: 200,
    check: (r) => assert.ok(r.json.items.some((o: { id: string }) => o.id === world.organization.id)),
  },
  createOrganization: {
    setup: async () => ({ body: { name: 'Fresh organization' } }),
    status: 201,
    check: (r) => assert.deepEqual([r.json.name, r.json.role], ['Fresh organization', 'OWNER']),
  },
  getOrganization: {
    setup: async () => ({ params: { id: world.organization.id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.id, r.json.role], [world.organization.id, 'OWNER']),
  },
  updateOrganization: {
    setup: async () => ({ params: { id: (await freshOrganization()).id }, body: { name: 'Renamed organization' } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.name, 'Renamed organization'),
  },
  deleteOrganization: {
    setup: async () => ({ params: { id: (await freshOrganization()).id } }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.organization.count({ where: { id: call.params!.id } }), 0),
  },
  listTeams: {
    setup: async () => ({ query: { organizationId: world.organization.id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(r.json.items.some((t: { id: string }) => t.id === world.team.id)),
  },
  createTeam: {
    setup: async () => ({ body: { organizationId: world.organization.id, name: 'Fresh team' } }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.name, r.json.organizationId], ['Fresh team', world.organization.id]),
  },
  getTeam: {
    setup: async () => ({ params: { id: world.team.id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.id, world.team.id),
  },
  updateTeam: {
    setup: async () => ({ params: { id: (await freshTeam()).id }, body: { name: 'Renamed team' } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.name, 'Renamed team'),
  },
  deleteTeam: {
    setup: async () => ({ params: { id: (await freshTeam()).id } }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.team.count({ where: { id: call.params!.id } }), 0),
  },
  listTeamMembers: {
    setup: async () => ({ params: { id: world.team.id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(r.json.items.some((m: { user: { id: string } }) => m.user.id === world.owner.user.id)),
  },
  addTeamMember: {
    setup: async () => ({ params: { id: (await freshTeam()).id }, body: { userId: world.member.user.id, role: 'MEMBER' } }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.userId, r.json.role], [world.member.user.id, 'MEMBER']),
  },
  removeTeamMember: {
    setup: async () => {
      const team = await freshTeam()
      await addTeamMember(world.owner.actor, team.id, world.member.user.id, 'MEMBER')
      return { params: { id: team.id, userId: world.member.user.id } }
    },
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) =>
      assert.equal(await prisma.teamMember.count({ where: { teamId: call.params!.id, userId: world.member.user.id } }), 0),
  },
  listProjects: {
    setup: async () => ({ query: { teamId: world.team.id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(r.json.items.some((p: { id: string }) => p.id === world.project.id)),
  },
  createProject: {
    setup: async () => ({ body: { teamId: world.team.id, name: 'Fresh project' } }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.name, r.json.teamId], ['Fresh project', world.team.id]),
  },
  getProject: {
    setup: async () => ({ params: { id: world.project.id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.id, world.project.id),
  },
  updateProject: {
    setup: async () => {
      const { id } = await freshProject()
      return { params: { id }, projectId: id, body: { name: 'Renamed project' } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.name, 'Renamed project'),
  },
  deleteProject: {
    setup: async () => {
      const { id } = await freshProject()
      return { params: { id }, projectId: id }
    },
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.project.count({ where: { id: call.params!.id } }), 0),
  },
  getProjectSettings: {
    setup: async () => ({ params: { id: world.project.id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(Array.isArray(r.json.allowedOrigins)),
  },
  updateProjectSettings: {
    setup: async () => {
      const { id } = await freshProject()
      return { params: { id }, projectId: id, body: { description: 'Uploads', allowedOrigins: ['https://app.example.com/'] } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual(r.json, { description: 'Uploads', allowedOrigins: ['https://app.example.com'] }),
  },
  getRateLimits: {
    setup: async () => ({ params: { id: world.project.id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual(r.json.defaults, DEFAULT_TIER_LIMITS),
  },
  updateRateLimits: {
    // A project of its own: an override on project A would change the limits the matrix's keys see.
    setup: async () => {
      const { id } = await freshProject()
      return { params: { id }, projectId: id, body: { overrides: { EXPENSIVE: 42 } } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.overrides, r.json.effective.EXPENSIVE], [{ EXPENSIVE: 42 }, 42]),
  },
  getUserSettings: {
    setup: async () => ({}),
    status: 200,
    check: (r) => assert.ok(typeof r.json.theme === 'string' && typeof r.json.timezone === 'string'),
  },
  updateUserSettings: {
    setup: async () => ({ body: { theme: 'dark', timezone: 'Europe/Paris' } }),
    status: 200,
    check: (r) => assert.deepEqual(r.json, { theme: 'dark', timezone: 'Europe/Paris' }),
  },
  listApiKeys: {
    setup: async () => ({ query: { projectId: world.project.id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const key of r.json.items) assert.equal(key.projectId, world.project.id)
    },
  },
  createApiKey: {
    setup: async () => ({
      body: { projectId: world.project.id, name: 'Matrix key', permissions: ['projects:read'] },
      projectId: world.project.id,
      keyPermissions: ['api-keys:write', 'projects:read'],
    }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.match(r.json.key, /^ck_/)
      assert.deepEqual(r.json.permissions, ['projects:read'])
    },
  },
  getApiKey: {
    setup: async () => {
      const { apiKey } = await createTestApiKey(world.owner.actor, world.project.id, ['files:read'])
      return { params: { id: apiKey.id }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => {
      assert.equal(r.json.id, call.params!.id)
      assert.equal(r.json.key, undefined, 'the secret is never shown again')
    },
  },
  updateApiKey: {
    setup: async () => {
      const { apiKey } = await createTestApiKey(world.owner.actor, world.project.id, ['files:read'])
      return {
        params: { id: apiKey.id },
        projectId: world.project.id,
        body: { name: 'Renamed key', permissions: ['files:read', 'files:write'] },
        keyPermissions: ['api-keys:write', 'files:read', 'files:write'],
      }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.name, r.json.permissions], ['Renamed key', ['files:read', 'files:write']]),
  },
  listBuckets: {
    setup: async () => {
      await freshBucket()
      return { query: { teamId: world.team.id } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const bucket of r.json.items) assert.equal(bucket.credentials, undefined)
    },
  },
  createBucket: {
    setup: async () => {
      const n = ++bucketSequence
      return { body: { teamId: world.team.id, name: `Matrix bucket ${n}`, provider: 'local', bucketName: `matrix-${process.pid}-${n}` } }
    },
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.provider, r.json.teamId, r.json.access], ['local', world.team.id, 'OWNER']),
  },
  getBucket: {
    setup: async () => ({ params: { id: (await freshBucket()).id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.id, r.json.accessKeyId, r.json.hasCredentials], [call.params!.id, '••••RVER', true]),
  },
  updateBucket: {
    setup: async () => ({ params: { id: (await freshBucket()).id }, body: { name: 'Renamed bucket' } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.name, 'Renamed bucket'),
  },
  setBucketPrices: {
    setup: async () => ({
      params: { id: (await freshBucket()).id },
      body: { storagePerGbMonth: 0.01, writesPerMillion: 2, readsPerMillion: 0.2, egressPerGb: 0.05 },
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: async (r, call) => {
      assert.deepEqual(r.json.prices, {
        source: 'custom',
        name: "The team's own prices for this bucket",
        storagePerGbMonth: 0.01,
        writesPerMillion: 2,
        readsPerMillion: 0.2,
        egressPerGb: 0.05,
      })
      assert.ok((await prisma.bucket.findUniqueOrThrow({ where: { id: call.params!.id } })).prices)
    },
  },
  clearBucketPrices: {
    setup: async () => ({ params: { id: (await freshBucket()).id } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal((await prisma.bucket.findUniqueOrThrow({ where: { id: call.params!.id } })).prices, null),
  },
  deleteBucket: {
    setup: async () => ({ params: { id: (await freshBucket()).id } }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.bucket.count({ where: { id: call.params!.id } }), 0),
  },
  testBucket: {
    setup: async () => ({ params: { id: (await freshBucket()).id } }),
    status: 200,
    hiddenFromOutsiders: true,
    // A fresh s3rver bucket has no CORS rules: reachable, but browsers could not upload to it.
    check: (r) => assert.deepEqual([r.json.ok, r.json.failure], [false, 'cors']),
  },
  listBucketShares: {
    setup: async () => {
      const bucket = await freshBucket()
      const team = await freshTeam()
      await shareBucket(world.owner.actor, bucket.id, { teamId: team.id, access: 'READ_ONLY' })
      return { params: { id: bucket.id } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.items[0]?.access, 'READ_ONLY'),
  },
  shareBucket: {
    setup: async () => ({ params: { id: (await freshBucket()).id }, body: { teamId: (await freshTeam()).id, access: 'READ_WRITE' } }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.teamId, r.json.access], [(call.body as { teamId: string }).teamId, 'READ_WRITE']),
  },
  updateBucketShare: {
    setup: async () => {
      const bucket = await freshBucket()
      const team = await freshTeam()
      await shareBucket(world.owner.actor, bucket.id, { teamId: team.id, access: 'READ_ONLY' })
      return { params: { id: bucket.id, teamId: team.id }, body: { access: 'ADMIN' } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.access, 'ADMIN'),
  },
  revokeBucketShare: {
    setup: async () => {
      const bucket = await freshBucket()
      const team = await freshTeam()
      await shareBucket(world.owner.actor, bucket.id, { teamId: team.id, access: 'READ_WRITE' })
      return { params: { id: bucket.id, teamId: team.id } }
    },
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.bucketShare.count({ where: { bucketId: call.params!.id } }), 0),
  },
  revokeApiKey: {
    setup: async () => {
      const { apiKey } = await createTestApiKey(world.owner.actor, world.project.id, ['files:read'])
      return { params: { id: apiKey.id }, projectId: world.project.id }
    },
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.ok((await prisma.apiKey.findUniqueOrThrow({ where: { id: call.params!.id } })).revokedAt),
  },
  listTenants: {
    setup: async () => {
      await matrixTenant()
      return { query: { projectId: world.project.id }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const tenant of r.json.items) assert.equal(tenant.projectId, world.project.id)
    },
  },
  usageOverview: {
    setup: async () => ({ query: { projectId: world.project.id, granularity: 'day' }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.scope.kind, r.json.scope.id, r.json.cost.estimate], ['project', world.project.id, true]),
  },
  usageBreakdown: {
    setup: async () => ({ query: { projectId: world.project.id, groupBy: 'operation' }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.groupBy, r.json.items[0].key], ['operation', 'uploads']),
  },
  usageTrends: {
    setup: async () => ({
      query: { projectId: world.project.id, granularity: 'hour', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
      projectId: world.project.id,
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.points.length, 24),
  },
  listAuditLogs: {
    setup: async () => ({ query: { projectId: world.project.id, limit: '5' }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const entry of r.json.items) assert.equal(entry.projectId, world.project.id)
    },
  },
  verifyAuditLogs: {
    setup: async () => ({ query: { projectId: world.project.id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.organizationId, r.json.ok, r.json.firstBroken], [world.organization.id, true, null]),
  },
  getAuditLog: {
    setup: async () => ({
      params: { id: (await prisma.auditLog.findFirstOrThrow({ where: { projectId: world.project.id } })).id },
      projectId: world.project.id,
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.id, r.json.projectId, 'after' in r.json], [call.params!.id, world.project.id, true]),
  },
  createTenant: {
    setup: async () => ({
      body: { projectId: world.project.id, slug: `tenant-${uniqueIp().replace(/\./g, '-')}`, name: 'Matrix tenant', metadata: { plan: 'pro' } },
      projectId: world.project.id,
    }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r, call) => {
      assert.deepEqual(
        [r.json.slug, r.json.projectId, r.json.metadata],
        [(call.body as { slug: string }).slug, world.project.id, { plan: 'pro' }],
      )
    },
  },
  getTenant: {
    setup: async () => ({ params: { id: (await matrixTenant()).id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.equal(r.json.id, call.params!.id),
  },
  updateTenant: {
    setup: async () => ({
      params: { id: (await matrixTenant()).id },
      projectId: world.project.id,
      body: { name: 'Renamed tenant', metadata: { seats: 3 } },
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.name, r.json.metadata], ['Renamed tenant', { seats: 3 }]),
  },
  deleteTenant: {
    setup: async () => ({ params: { id: (await matrixTenant()).id }, projectId: world.project.id }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.tenant.count({ where: { id: call.params!.id } }), 0),
  },
  previewAdoption: {
    setup: async () => {
      const project = await adoptionProject()
      return { body: { projectId: project.id }, projectId: project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.scanned, r.json.perTenant[0].tenant.slug, r.json.perTenant[0].objects], [1, 'acme', 1]),
  },
  startAdoption: {
    setup: async () => {
      const project = await adoptionProject()
      return { body: { projectId: project.id, mode: 'copy' }, projectId: project.id }
    },
    status: 201,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.status, r.json.projectId, r.json.options.mode], ['running', call.projectId, 'copy']),
  },
  listAdoptions: {
    setup: async () => {
      const { project } = await adoptionRun()
      return { query: { projectId: project.id }, projectId: project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) =>
      assert.deepEqual(
        r.json.items.map((run: { projectId: string }) => run.projectId),
        [call.projectId],
      ),
  },
  getAdoption: {
    setup: async () => {
      const { project, run } = await adoptionRun()
      return { params: { id: run.id }, projectId: project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.id, r.json.status, r.json.counts.scanned], [call.params!.id, 'running', 0]),
  },
  listAdoptionItems: {
    setup: async () => {
      const { project, run } = await adoptionRun()
      await adoptPage(run.id, 0)
      return { params: { id: run.id }, query: { status: 'adopted' }, projectId: project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) =>
      assert.deepEqual(
        r.json.items.map((item: { key: string; status: string }) => [item.key, item.status]),
        [['acme/a.txt', 'adopted']],
      ),
  },
  cancelAdoption: {
    setup: async () => {
      const { project, run } = await adoptionRun()
      return { params: { id: run.id }, projectId: project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.status, 'cancelled'),
  },
  resumeAdoption: {
    setup: async () => {
      const { project, run } = await adoptionRun('FAILED')
      return { params: { id: run.id }, projectId: project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.status, r.json.error], ['running', null]),
  },
  importTenants: {
    setup: async () => ({
      body: { projectId: world.project.id, tenants: [{ slug: `imported-${uniqueIp().replace(/\./g, '-')}`, name: 'Imported' }] },
      projectId: world.project.id,
    }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.created, 1),
  },
  exportTenants: {
    setup: async () => {
      await matrixTenant()
      return { query: { projectId: world.project.id }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(JSON.parse(r.text).length > 0),
  },
  listPlans: {
    setup: async () => {
      await matrixPlan()
      return { query: { projectId: world.project.id }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const plan of r.json.items) assert.equal(plan.projectId, world.project.id)
    },
  },
  createPlan: {
    setup: async () => ({
      body: { projectId: world.project.id, name: `Plan ${uniqueIp()}`, limits: { storedBytes: 1000 } },
      projectId: world.project.id,
    }),
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.limits.storedBytes, 1000),
  },
  getPlan: {
    setup: async () => ({ params: { id: (await matrixPlan()).id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.equal(r.json.id, call.params!.id),
  },
  updatePlan: {
    setup: async () => ({ params: { id: (await matrixPlan()).id }, projectId: world.project.id, body: { limits: { fileCount: 7 } } }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.equal(r.json.limits.fileCount, 7),
  },
  deletePlan: {
    setup: async () => ({ params: { id: (await matrixPlan()).id }, projectId: world.project.id }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.plan.count({ where: { id: call.params!.id } }), 0),
  },
  listWebhooks: {
    setup: async () => {
      const { projectId } = await matrixWebhook()
      return { query: { projectId }, projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => {
      assert.equal(r.json.items.length, 1)
      for (const webhook of r.json.items) assert.deepEqual([webhook.projectId, 'secret' in webhook], [call.projectId, false])
    },
  },
  createWebhook: {
    setup: async () => {
      const project = await freshProject()
      return {
        body: { projectId: project.id, url: 'http://127.0.0.1:9/created', eventTypes: ['file.uploaded', 'file.deleted'], description: 'Matrix' },
        projectId: project.id,
      }
    },
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.match(r.json.secret, /^whsec_/)
      assert.deepEqual([r.json.url, r.json.eventTypes, r.json.enabled], ['http://127.0.0.1:9/created', ['file.uploaded', 'file.deleted'], true])
    },
  },
  getWebhook: {
    setup: async () => {
      const webhook = await matrixWebhook()
      return { params: { id: webhook.id }, projectId: webhook.projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.deepEqual([r.json.id, 'secret' in r.json], [call.params!.id, false]),
  },
  updateWebhook: {
    setup: async () => {
      const webhook = await matrixWebhook()
      return { params: { id: webhook.id }, projectId: webhook.projectId, body: { description: 'Changed', enabled: false } }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.description, r.json.enabled], ['Changed', false]),
  },
  deleteWebhook: {
    setup: async () => {
      const webhook = await matrixWebhook()
      return { params: { id: webhook.id }, projectId: webhook.projectId }
    },
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.webhookEndpoint.count({ where: { id: call.params!.id } }), 0),
  },
  rotateWebhookSecret: {
    setup: async () => {
      const webhook = await matrixWebhook()
      return { params: { id: webhook.id }, projectId: webhook.projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.match(r.json.secret, /^whsec_/)
      assert.ok(Date.parse(r.json.previousSecretExpiresAt) > Date.now())
    },
  },
  sendWebhookTestEvent: {
    setup: async () => {
      const webhook = await matrixWebhook()
      return { params: { id: webhook.id }, projectId: webhook.projectId }
    },
    status: 201,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.eventType, r.json.status], ['webhook.test', 'PENDING']),
  },
  listWebhookDeliveries: {
    setup: async () => {
      const { webhook } = await failedDelivery()
      return { params: { id: webhook.id }, query: { status: 'FAILED' }, projectId: webhook.projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) =>
      assert.deepEqual(
        r.json.items.map((d: { status: string }) => d.status),
        ['FAILED'],
      ),
  },
  getWebhookDelivery: {
    setup: async () => {
      const { webhook, delivery } = await failedDelivery()
      return { params: { id: webhook.id, deliveryId: delivery.id }, projectId: webhook.projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.equal(r.json.id, call.params!.deliveryId),
  },
  replayWebhookDelivery: {
    setup: async () => {
      const { webhook, delivery } = await failedDelivery()
      return { params: { id: webhook.id, deliveryId: delivery.id }, projectId: webhook.projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.status, r.json.attemptCount], ['PENDING', 0]),
  },
  replayFailedWebhookDeliveries: {
    setup: async () => {
      const { webhook } = await failedDelivery()
      return { params: { id: webhook.id }, body: { since: new Date(Date.now() - 60_000).toISOString() }, projectId: webhook.projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual(r.json, { replayed: 1 }),
  },
  listUploadCallbackAttempts: {
    setup: async () => {
      const { projectId, uploadId } = await pendingUpload()
      // One failed callback attempt, as reconciliation records it (upload-reconcile.test.ts sends real ones).
      await prisma.uploadCallbackAttempt.create({ data: { uploadId, projectId, statusCode: 500, latencyMs: 3, responseBody: 'no' } })
      return { query: { projectId, uploadId, failed: 'true' }, projectId }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) =>
      assert.deepEqual(
        r.json.items.map((a: { uploadId: string; statusCode: number }) => [a.uploadId, a.statusCode]),
        [[call.query!.uploadId, 500]],
      ),
  },
  listFiles: {
    setup: async () => {
      await putTestFile(world.project.id)
      return { query: { projectId: world.project.id, contentType: 'text/*' }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => {
      assert.ok(r.json.items.length > 0)
      for (const file of r.json.items) assert.deepEqual([file.projectId, file.contentType], [world.project.id, 'text/plain'])
    },
  },
  getFile: {
    setup: async () => ({ params: { id: (await putTestFile(world.project.id)).id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => assert.equal(r.json.id, call.params!.id),
  },
  downloadFile: {
    // The JSON answer; the 302 is covered in files.test.ts.
    setup: async () => ({ params: { id: (await putTestFile(world.project.id)).id }, query: { redirect: 'false' }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(typeof r.json.url === 'string' && !Number.isNaN(Date.parse(r.json.expiresAt))),
  },
  deleteFile: {
    setup: async () => ({ params: { id: (await putTestFile(world.project.id)).id }, projectId: world.project.id }),
    status: 204,
    hiddenFromOutsiders: true,
    check: async (_r, call) => assert.equal(await prisma.file.count({ where: { id: call.params!.id } }), 0),
  },
  bulkDeleteFiles: {
    setup: async () => ({ body: { ids: [(await putTestFile(world.project.id)).id, 'no-such-file'] }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r, call) => {
      const [id] = (call.body as { ids: string[] }).ids
      assert.deepEqual(r.json, { deleted: [id], notFound: ['no-such-file'] })
    },
  },
  carcosaStats: {
    setup: async () => {
      await putTestFile(world.project.id)
      return { query: { projectId: world.project.id }, projectId: world.project.id }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.ok(r.json.projectId === world.project.id && r.json.fileCount > 0 && r.json.bytes > 0),
  },
  carcosaFile: {
    setup: async () => ({ params: { id: (await putTestFile(world.project.id)).id }, query: { redirect: 'false' }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.match(r.json.url, /^http/),
  },
  ...uploadFixtures(),
}

// ---------------------------------------------------------------------------------------------
// Uploads: a project of their own on an s3rver bucket (made once), a fresh upload per call.

let uploadsProject: Promise<{ id: string }> | undefined
const uploadProject = () =>
  (uploadsProject ??= freshProject().then(async (project) => {
    await attachS3Bucket(project.id)
    return project
  }))

/** A pending upload in the uploads project; with `bytes`, already PUT to its signed URL. */
async function pendingUpload(options: { multipart?: boolean; bytes?: Buffer } = {}) {
  const project = await uploadProject()
  const size = options.multipart ? 10 * 1024 * 1024 : (options.bytes?.length ?? 16)
  const started = await initUpload(
    world.owner.actor,
    initUploadSchema.parse({
      projectId: project.id,
      fileName: 'matrix.bin',
      contentType: 'application/octet-stream',
      size,
      multipart: options.multipart,
    }),
  )
  if (options.bytes && started.method === 'PUT') {
    const put = await fetch(started.url, { method: 'PUT', headers: started.headers, body: options.bytes as BodyInit })
    assert.equal(put.status, 200)
  }
  return { projectId: project.id, uploadId: started.uploadId }
}

/** A completed upload in the uploads project. */
async function completedUpload() {
  const pending = await pendingUpload({ bytes: Buffer.from('matrix upload bytes') })
  await completeUpload(world.owner.actor, { uploadId: pending.uploadId })
  return pending
}

let source: Promise<string> | undefined
/** A loopback HTTP server answering every GET with a small text file, for uploads from a URL. */
const sourceServer = () =>
  (source ??= new Promise((resolve) => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      res.end('fetched by the matrix')
    })
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`))
    sourceServers.push(server)
  }))
const sourceServers: http.Server[] = []
after(() => {
  for (const server of sourceServers) {
    server.closeAllConnections()
    server.close()
  }
})

function uploadFixtures(): Record<string, Fixture> {
  const initCall = async () => {
    const project = await uploadProject()
    return { body: { projectId: project.id, fileName: 'matrix.png', contentType: 'image/png', size: 1234 }, projectId: project.id }
  }
  const checkInit = (r: ApiResponse) => assert.deepEqual([r.json.method, typeof r.json.url, r.json.name], ['PUT', 'string', 'matrix.png'])
  const completeCall = async () => {
    const { projectId, uploadId } = await pendingUpload({ bytes: Buffer.from('matrix upload bytes') })
    return { body: { uploadId }, projectId }
  }
  const checkComplete = async (r: ApiResponse, call: Call) => {
    assert.equal(r.json.file.size, 'matrix upload bytes'.length)
    const upload = await prisma.upload.findUniqueOrThrow({ where: { id: (call.body as { uploadId: string }).uploadId } })
    assert.deepEqual([upload.status, upload.fileId], ['COMPLETED', r.json.file.id])
  }
  return {
    initUpload: { setup: initCall, status: 201, hiddenFromOutsiders: true, check: checkInit },
    carcosaInitUpload: { setup: initCall, status: 201, hiddenFromOutsiders: true, check: checkInit },
    completeUpload: { setup: completeCall, status: 200, hiddenFromOutsiders: true, check: checkComplete },
    carcosaCompleteUpload: { setup: completeCall, status: 200, hiddenFromOutsiders: true, check: checkComplete },
    signUploadParts: {
      setup: async () => {
        const { projectId, uploadId } = await pendingUpload({ multipart: true })
        return { params: { id: uploadId }, body: { partNumbers: [2, 1] }, projectId }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: (r) =>
        assert.deepEqual(
          r.json.parts.map((p: { partNumber: number }) => p.partNumber),
          [1, 2],
        ),
    },
    recordUploadPart: {
      setup: async () => {
        const { projectId, uploadId } = await pendingUpload({ multipart: true })
        return { params: { id: uploadId, partNumber: '1' }, body: { etag: '"matrix-etag"', size: 8 * 1024 * 1024 }, projectId }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: (r) => assert.deepEqual(r.json.parts, [{ partNumber: 1, etag: '"matrix-etag"', size: 8 * 1024 * 1024 }]),
    },
    getUploadStatus: {
      setup: async () => {
        const { projectId, uploadId } = await pendingUpload()
        return { params: { id: uploadId }, projectId }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: (r, call) => assert.deepEqual([r.json.uploadId, r.json.status], [call.params!.id, 'PENDING']),
    },
    abortUpload: {
      setup: async () => {
        const { projectId, uploadId } = await pendingUpload()
        return { params: { id: uploadId }, projectId }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: async (r, call) => {
        assert.equal(r.json.status, 'ABORTED')
        assert.equal((await prisma.upload.findUniqueOrThrow({ where: { id: call.params!.id } })).status, 'ABORTED')
      },
    },
    streamFileUpload: {
      setup: async () => {
        const project = await uploadProject()
        const form = new FormData()
        form.append('file', new Blob([Buffer.from('streamed through the matrix')], { type: 'text/plain' }), 'matrix.txt')
        return { query: { projectId: project.id }, body: form, projectId: project.id }
      },
      status: 201,
      hiddenFromOutsiders: true,
      check: (r) => assert.deepEqual([r.json.file.name, r.json.file.size, r.json.file.contentType], ['matrix.txt', 27, 'text/plain']),
    },
    createRealtimeToken: {
      setup: async () => {
        const { projectId, uploadId } = await pendingUpload()
        return { body: { projectId, uploadIds: [uploadId] }, projectId, keyPermissions: ['files:read'] }
      },
      status: 201,
      hiddenFromOutsiders: true,
      check: (r, call) => {
        const body = call.body as { projectId: string; uploadIds: string[] }
        assert.match(r.json.token, /^crt_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
        assert.deepEqual([r.json.projectId, r.json.uploadIds], [body.projectId, body.uploadIds])
        assert.ok(new Date(r.json.expiresAt).getTime() > Date.now())
      },
    },
    claimUploadCallback: {
      setup: async () => {
        const { projectId, uploadId } = await completedUpload()
        return { params: { id: uploadId }, projectId }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: (r, call) => assert.deepEqual([r.json.state, r.json.uploadId, typeof r.json.claimId], ['claimed', call.params!.id, 'string']),
    },
    settleUploadCallback: {
      setup: async () => {
        const { projectId, uploadId } = await completedUpload()
        const claim = await claimUploadCallback(world.owner.actor, uploadId)
        assert.equal(claim.state, 'claimed')
        return {
          params: { id: uploadId },
          body: { claimId: claim.state === 'claimed' ? claim.claimId : '', outcome: 'done', serverData: { ok: 1 } },
          projectId,
        }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: async (r, call) => {
        assert.equal(r.json.state, 'done')
        const claim = await claimUploadCallback(world.owner.actor, call.params!.id!)
        assert.deepEqual([claim.state, claim.state === 'done' ? claim.serverData : null], ['done', { ok: 1 }])
      },
    },
    uploadFromUrl: {
      setup: async () => {
        const project = await uploadProject()
        return { body: { projectId: project.id, url: `${await sourceServer()}/files/matrix.txt` }, projectId: project.id }
      },
      status: 201,
      hiddenFromOutsiders: true,
      check: (r) =>
        assert.deepEqual(
          [r.json.file.name, r.json.file.size, r.json.file.contentType],
          ['matrix.txt', 'fetched by the matrix'.length, 'text/plain'],
        ),
    },
    carcosaHealth: {
      setup: async () => {
        const project = await uploadProject()
        return { query: { projectId: project.id }, projectId: project.id }
      },
      status: 200,
      hiddenFromOutsiders: true,
      check: (r) => assert.deepEqual([r.json.ok, r.json.bucket.configured, r.json.bucket.provider], [true, true, 's3-compatible']),
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers derived from an operation's declaration.

const fixtureFor = (operation: Operation) => {
  const fixture = FIXTURES[operation.id]
  if (!fixture) assert.fail(`operation ${operation.id} has no fixture: add one to FIXTURES in tests/integration/api-matrix.test.ts`)
  return fixture
}

async function setupFor(operation: Operation) {
  const call = await fixtureFor(operation).setup()
  if (operation.auth === 'any') assert.ok(call.projectId, `the fixture of ${operation.id} must name the projectId its keys belong to`)
  return call
}

// The paths of Carcosa's first README answer on the same operations: the same fixtures prove them.
Object.assign(FIXTURES, {
  shareBucketAtSharePath: FIXTURES.shareBucket!,
  revokeBucketShareAtSharePath: FIXTURES.revokeBucketShare!,
  getProjectSettingsAtSettingsPath: FIXTURES.getProjectSettings!,
  updateProjectSettingsAtSettingsPath: FIXTURES.updateProjectSettings!,
  getUserSettingsAtSettingsPath: FIXTURES.getUserSettings!,
  updateUserSettingsAtSettingsPath: FIXTURES.updateUserSettings!,
  carcosaStorageStats: FIXTURES.carcosaStats!,
  getRateLimitsOfCall: {
    setup: async () => ({ query: { projectId: world.project.id }, projectId: world.project.id }),
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual(r.json.defaults, DEFAULT_TIER_LIMITS),
  },
  updateRateLimitsOfCall: {
    // GET's answer, changed and sent back: one shape both ways.
    setup: async () => {
      const { id } = await freshProject()
      return {
        query: { projectId: id },
        projectId: id,
        body: { overrides: { EXPENSIVE: 42 }, defaults: DEFAULT_TIER_LIMITS, effective: DEFAULT_TIER_LIMITS, windowSeconds: 3600 },
      }
    },
    status: 200,
    hiddenFromOutsiders: true,
    check: (r) => assert.deepEqual([r.json.overrides, r.json.effective.EXPENSIVE], [{ EXPENSIVE: 42 }, 42]),
  },
} satisfies Record<string, Fixture>)

/** Placeholder values for every `{name}` of a path: enough to be refused before anything is looked up. */
const placeholders = (path: string) => Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, 'placeholder']))

function send(operation: Operation, call: Call, overrides: Partial<Call> & { headers?: Record<string, string>; rawBody?: string } = {}) {
  const merged = { ...call, ...overrides }
  const token = 'token' in overrides ? overrides.token : (call.token ?? (operation.auth === 'none' ? undefined : world.ownerToken))
  return api(operation.method, fillPath(operation.path, merged.params ?? placeholders(operation.path), merged.query), {
    token,
    body: overrides.rawBody ?? merged.body,
    headers: overrides.headers,
    ip: uniqueIp(),
  })
}

/** Entries of changes; a refused credential is recorded too (as `auth.credential_refused`) but changes nothing. */
const auditCount = () => prisma.auditLog.count({ where: { action: { not: 'auth.credential_refused' } } })
const refusalCount = () => prisma.auditLog.count({ where: { action: 'auth.credential_refused' } })

/** Runs a refused call and checks that it changed nothing (every change writes an audit entry). */
async function refused(status: number, call: () => Promise<ApiResponse>) {
  const before = await auditCount()
  const response = await call()
  assertProblem(response, status)
  assert.equal(await auditCount(), before, `a refused call (${status}) must change nothing`)
  return response
}

type JsonSchema = {
  type?: string | string[]
  enum?: unknown[]
  anyOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  $ref?: string
  $defs?: Record<string, JsonSchema>
}
const inputJsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema

const acceptsString = (schema: JsonSchema): boolean =>
  schema.type === 'string' ||
  (Array.isArray(schema.type) && schema.type.includes('string')) ||
  (schema.enum ?? []).some((value) => typeof value === 'string') ||
  (schema.anyOf ?? []).some(acceptsString)

const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object']

/** Whether a property takes any JSON value at all (z.json(), e.g. a callback's result): no type is wrong for it. */
function acceptsAnyJson(schema: JsonSchema, defs: Record<string, JsonSchema>): boolean {
  const resolved = schema.$ref ? defs[schema.$ref.replace('#/$defs/', '')] : schema
  const types = (resolved?.anyOf ?? []).flatMap((option) => (Array.isArray(option.type) ? option.type : option.type ? [option.type] : []))
  return JSON_TYPES.every((type) => types.includes(type))
}

/** A body whose every property (that has a wrong type at all) has the wrong JSON type for the operation's body schema. */
function wrongTypes(schema: z.ZodType) {
  const json = inputJsonSchema(schema)
  const properties = Object.entries(json.properties ?? {}).filter(([, property]) => !acceptsAnyJson(property, json.$defs ?? {}))
  return Object.fromEntries(properties.map(([name, property]) => [name, acceptsString(property) ? 12345 : 'not-a-valid-value']))
}

/** The field names the API pipeline reports for a value the schema refuses. */
function expectedFields(schema: z.ZodType, value: unknown, where: string) {
  const result = schema.safeParse(value)
  return result.success ? [] : [...new Set(result.error.issues.map((issue) => (issue.path.length > 0 ? issue.path.join('.') : where)))].sort()
}

const keyPermissionsFor = (operation: Operation, call: Call): Permission[] =>
  call.keyPermissions ?? (operation.permission ? [operation.permission] : [])

// ---------------------------------------------------------------------------------------------
// The matrix.

test('every operation has a fixture, and every fixture an operation', () => {
  const ids = OPERATIONS.map((operation) => operation.id)
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique')
  assert.deepEqual(
    ids.filter((id) => !FIXTURES[id]),
    [],
    'operations without a fixture in FIXTURES',
  )
  assert.deepEqual(
    Object.keys(FIXTURES).filter((id) => !ids.includes(id)),
    [],
    'fixtures of operations that no longer exist',
  )
})

for (const operation of OPERATIONS) {
  const { id, method, path, auth, permission } = operation
  describe(`${id}: ${method} ${path} (auth ${auth}${permission ? `, key needs ${permission}` : ''})`, () => {
    if (auth !== 'none') {
      test('401 problem without credentials', async () => {
        const response = await refused(401, () => send(operation, {}, { token: undefined }))
        assert.equal(response.headers.get('WWW-Authenticate'), 'Bearer')
      })

      test('401 with a bearer token that is unknown, malformed or of another scheme', async () => {
        for (const header of [`Bearer ck_${'A'.repeat(43)}`, `Bearer cat_${'A'.repeat(43)}`, 'Bearer nonsense', 'Basic dXNlcjpwYXNz']) {
          const before = await refusalCount()
          await refused(401, () => send(operation, {}, { token: undefined, headers: { Authorization: header } }))
          assert.equal(await refusalCount(), before + 1, 'the refused credential is recorded in the audit log')
        }
      })
    }

    if (auth === 'user') {
      test('403 for an API key (user tokens only)', async () => {
        const key = await keyIn(world.project.id, ['admin'])
        const call = await setupFor(operation)
        await refused(403, () => send(operation, call, { token: key }))
      })
    }

    if (auth === 'any' && permission) {
      test(`403 for a key of the project holding every permission but ${permission}`, async () => {
        const call = await setupFor(operation)
        const key = await keyIn(
          call.projectId!,
          PERMISSIONS.filter((p) => p !== permission && p !== 'admin'),
        )
        const response = await refused(403, () => send(operation, call, { token: key }))
        assert.ok(response.json.detail.includes(permission), `the refusal names ${permission}: ${response.json.detail}`)
      })
    }

    if (auth === 'any') {
      test("404 for a key of another project holding every permission (never 403 for another project's resources)", async () => {
        const call = await setupFor(operation)
        assert.notEqual(call.projectId, world.otherProject.id)
        await refused(404, () => send(operation, call, { token: world.otherProjectKey }))
      })
    }

    if (FIXTURES[id]?.hiddenFromOutsiders) {
      test('404 for a user outside the organization', async () => {
        const call = await setupFor(operation)
        await refused(404, () => send(operation, call, { token: world.strangerToken }))
      })
    }

    // Invalid input is checked with credentials that may call the operation: the owner's token, or
    // for operations a key may call a fresh admin key of the project (its rate limits are its own).
    const validToken = async (call: Call) =>
      auth === 'any' ? keyIn(call.projectId!, ['admin']) : auth === 'user' ? (call.token ?? world.ownerToken) : undefined

    const paramsShape = operation.params instanceof z.ZodObject ? Object.keys(operation.params.shape) : []
    for (const name of paramsShape) {
      test(`400 with field errors for an over-long {${name}}`, async () => {
        const call = await setupFor(operation)
        const token = await validToken(call)
        const response = await refused(400, () => send(operation, call, { token, params: { ...call.params, [name]: 'x'.repeat(65) } }))
        assert.deepEqual(Object.keys(response.json.errors), [name])
      })
    }

    if (operation.query) {
      const query = inputJsonSchema(operation.query)
      if (query.properties?.limit) {
        for (const limit of ['1000', '0', 'ten']) {
          test(`400 with field errors for limit=${limit}`, async () => {
            const call = await setupFor(operation)
            const token = await validToken(call)
            const response = await refused(400, () => send(operation, call, { token, query: { ...call.query, limit } }))
            assert.deepEqual(Object.keys(response.json.errors), ['limit'])
          })
        }
      }
      for (const name of query.required ?? []) {
        test(`400 with field errors without the required query parameter ${name}`, async () => {
          const call = await setupFor(operation)
          const { [name]: _left, ...rest } = call.query ?? {}
          const token = await validToken(call)
          const response = await refused(400, () => send(operation, call, { token, query: rest }))
          assert.deepEqual(Object.keys(response.json.errors), [name])
        })
      }
    }

    const body = operation.body
    if (body) {
      test('400 with an error per field for a body of wrong types', async () => {
        const call = await setupFor(operation)
        const invalid = wrongTypes(body)
        assert.ok(Object.keys(invalid).length > 0, 'the body schema has properties')
        const token = await validToken(call)
        const response = await refused(400, () => send(operation, call, { token, body: invalid }))
        assert.deepEqual(Object.keys(response.json.errors).sort(), Object.keys(invalid).sort())
        for (const messages of Object.values(response.json.errors)) {
          assert.ok(Array.isArray(messages) && messages.length > 0 && messages.every((m) => typeof m === 'string' && m.length > 0))
        }
      })

      const emptyBodyFields = expectedFields(body, {}, 'body')
      if (emptyBodyFields.length > 0) {
        test(`400 with field errors for an empty object (${emptyBodyFields.join(', ')})`, async () => {
          const call = await setupFor(operation)
          const token = await validToken(call)
          const response = await refused(400, () => send(operation, call, { token, body: {} }))
          assert.deepEqual(Object.keys(response.json.errors).sort(), emptyBodyFields)
        })
      }

      test('400 for a body that is not JSON, 415 for another media type, 413 past 256 KiB', async () => {
        const call = await setupFor(operation)
        const token = await validToken(call)
        await refused(400, () => send(operation, call, { token, rawBody: '{"name": ' }))
        await refused(415, () => send(operation, call, { token, rawBody: JSON.stringify(call.body), headers: { 'Content-Type': 'text/plain' } }))
        // Past the operation's own bound when it has one (an import takes more than 256 KiB).
        await refused(413, () =>
          send(operation, call, { token, rawBody: JSON.stringify({ padding: 'x'.repeat((operation.maxBodyBytes ?? 256 * 1024) + 44 * 1024) }) }),
        )
      })
    }

    const succeeds = async (call: Call, token: string | undefined, who: string) => {
      const fixture = fixtureFor(operation)
      assert.equal(fixture.status, operation.status, `the fixture expects the documented success status ${operation.status}`)
      const response = await send(operation, call, { token })
      assert.equal(response.status, fixture.status, `${who}: ${response.status} ${response.text.slice(0, 500)}`)
      assert.equal(response.headers.get('Cache-Control'), 'no-store')
      if (fixture.status === 204) {
        assert.equal(response.text, '')
      } else {
        assert.match(response.headers.get('Content-Type') ?? '', /^application\/json\b/)
      }
      assert.equal(response.headers.get('X-RateLimit-Limit'), String(DEFAULT_TIER_LIMITS[operation.tier]), `the ${operation.tier} tier's limit`)
      assert.match(response.headers.get('X-RateLimit-Remaining') ?? '', /^\d+$/)
      assert.match(response.headers.get('X-RateLimit-Reset') ?? '', /^\d+$/)
      if (operation.query && inputJsonSchema(operation.query).properties?.limit) {
        assert.ok(Array.isArray(response.json.items), 'a list answers { items, nextCursor }')
        assert.ok('nextCursor' in response.json)
      }
      await fixture.check?.(response, call)
      // Whatever the answer, nothing stored server-side only (sealed credentials, hashes, object keys) is in it.
      assertNoServerSecrets(response.text, await serverSecrets(), `${operation.method} ${operation.path} (${who})`, {
        describesInputs: operation.id === 'openapi',
      })
    }

    test(`${operation.status} on the happy path${auth === 'none' ? ' (anonymous)' : ' with a user token'}`, async () => {
      const call = await setupFor(operation)
      await succeeds(call, auth === 'none' ? undefined : (call.token ?? world.ownerToken), 'user token')
    })

    if (auth === 'any') {
      test(`${operation.status} on the happy path with a key of the project holding just what it needs`, async () => {
        const call = await setupFor(operation)
        const key = await keyIn(call.projectId!, keyPermissionsFor(operation, call))
        await succeeds(call, key, `API key with ${keyPermissionsFor(operation, call).join(', ')}`)
      })
    }
  })
}

describe('405 with Allow for the methods a path does not serve', () => {
  const methodsByPath = new Map<string, Set<string>>()
  for (const { path, method } of OPERATIONS) methodsByPath.set(path, (methodsByPath.get(path) ?? new Set()).add(method))
  for (const [path, methods] of methodsByPath) {
    const unsupported = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((method) => !methods.has(method))
    test(`${path}: ${unsupported.join(', ')} -> 405 (Allow: ${[...methods].join(', ')})`, async () => {
      for (const method of unsupported) {
        const response = await api(method, fillPath(path, placeholders(path)), { token: world.ownerToken })
        assertProblem(response, 405)
        const allow = (response.headers.get('Allow') ?? '').split(/,\s*/).sort()
        assert.deepEqual(allow, [...methods].sort(), `${method} ${path}`)
      }
    })
  }
})
