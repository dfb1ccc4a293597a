/**
 * Builders for integration tests. Everything goes through the services (and their input schemas, as
 * a route would), so a factory exercises the same rules the product does.
 */
import assert from 'node:assert/strict'
import type { Role } from '~/generated/prisma/enums'
import { userActor, type Actor, type UserActor } from '~/services/actor'
import { registerSchema } from '~/services/accounts/schemas'
import { registerUser } from '~/services/accounts/users.server'
import { authenticateApiKey, createApiKey } from '~/services/api-keys/api-keys.server'
import type { Permission } from '~/services/api-keys/permissions'
import { createApiKeySchema } from '~/services/api-keys/schemas'
import { acceptInvitation, createInvitation } from '~/services/workspaces/invitations.server'
import { listOrganizationMembers } from '~/services/workspaces/members.server'
import { createOrganization } from '~/services/workspaces/organizations.server'
import { createProject } from '~/services/workspaces/projects.server'
import { createOrganizationSchema, createProjectSchema, createTeamSchema } from '~/services/workspaces/schemas'
import { addTeamMember, createTeam } from '~/services/workspaces/teams.server'
import { prisma } from '~/utils/db.server'
import { AppError, type ErrorCode } from '~/utils/errors.server'
import type { RequestMeta } from '~/utils/request.server'

export const TEST_PASSWORD = 'correct horse battery staple'

let sequence = 0
const nextId = () => `${process.pid.toString(36)}${Date.now().toString(36)}${(++sequence).toString(36)}`

/** An email no other call (in this process or a parallel test file) returns. */
export const uniqueEmail = (prefix = 'user') => `${prefix}-${nextId()}@example.test`

/** A distinct documentation-range IP address per call, so throttling tests do not share a bucket. */
export const uniqueIp = () => {
  const n = ++sequence
  return `198.51.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`
}

export const testMeta = (overrides: Partial<RequestMeta> = {}): RequestMeta => ({
  ipAddress: '203.0.113.7',
  userAgent: 'carcosa-integration-tests',
  ...overrides,
})

export interface TestUser {
  user: { id: string; email: string; name: string; createdAt: Date }
  actor: UserActor
  password: string
}

/** Registers a user through registerSchema + registerUser and returns it with an actor for it. */
export async function createTestUser(
  overrides: { name?: string; email?: string; password?: string; meta?: Partial<RequestMeta> } = {},
): Promise<TestUser> {
  const password = overrides.password ?? TEST_PASSWORD
  const meta = testMeta(overrides.meta)
  const input = registerSchema.parse({ name: overrides.name ?? 'Test User', email: overrides.email ?? uniqueEmail(), password })
  const user = await registerUser(input, meta)
  return { user, actor: userActor(user.id, meta), password }
}

export async function createOrganizationFor(actor: UserActor, overrides: { name?: string; slug?: string } = {}) {
  const input = createOrganizationSchema.parse({ name: overrides.name ?? `Org ${nextId()}`, slug: overrides.slug })
  return createOrganization(actor, input)
}

export async function createTeamIn(actor: UserActor, organizationId: string, overrides: { name?: string; slug?: string } = {}) {
  const input = createTeamSchema.parse({ name: overrides.name ?? `Team ${nextId()}`, slug: overrides.slug })
  return createTeam(actor, organizationId, input)
}

export async function createProjectIn(actor: UserActor, teamId: string, overrides: { name?: string; slug?: string } = {}) {
  const input = createProjectSchema.parse({ name: overrides.name ?? `Project ${nextId()}`, slug: overrides.slug })
  return createProject(actor, teamId, input)
}

/**
 * Makes a user (a new one unless given) a member of the organization with `role`, the way a person
 * joins: `inviter` creates an invitation link and the user accepts it.
 */
export async function addMember(organizationId: string, inviter: UserActor, role: Role, existing?: TestUser) {
  const joiner = existing ?? (await createTestUser({ name: `${role.toLowerCase()} member` }))
  const { token } = await createInvitation(inviter, organizationId, role)
  await acceptInvitation(joiner.actor, token)
  const members = await listOrganizationMembers(inviter, organizationId)
  const member = members.find((m) => m.user.id === joiner.user.id)
  assert.ok(member, 'the invited user should be a member after accepting')
  return { ...joiner, member }
}

/** Adds an organization member to a team with a team role. */
export async function addToTeam(manager: UserActor, teamId: string, joiner: TestUser, role: Role) {
  return addTeamMember(manager, teamId, joiner.user.id, role)
}

/** An owner with an organization, one team in it and one project in that team. */
export async function createWorkspace(overrides: { owner?: TestUser } = {}) {
  const owner = overrides.owner ?? (await createTestUser({ name: 'Owner' }))
  const organization = await createOrganizationFor(owner.actor)
  const team = await createTeamIn(owner.actor, organization.id)
  const project = await createProjectIn(owner.actor, team.id)
  return { owner, organization, team, project }
}

/**
 * Awaits a promise that must reject with an AppError of `code` (and the matching HTTP status), and
 * returns the error for further checks.
 */
export async function assertAppError(promise: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  let outcome: unknown
  try {
    await promise
  } catch (error) {
    outcome = error
  }
  if (!(outcome instanceof AppError)) {
    assert.fail(
      outcome === undefined ? `expected an AppError ${code}, but the call succeeded` : `expected an AppError ${code}, got ${String(outcome)}`,
    )
  }
  assert.equal(outcome.code, code, `expected ${code}, got ${outcome.code}: ${outcome.message}`)
  const statuses: Record<ErrorCode, number> = {
    VALIDATION: 400,
    UNAUTHENTICATED: 401,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    CONFLICT: 409,
    GONE: 410,
    PAYLOAD_TOO_LARGE: 413,
    UNSUPPORTED_MEDIA_TYPE: 415,
    UNPROCESSABLE: 422,
    RATE_LIMITED: 429,
    METHOD_NOT_ALLOWED: 405,
    INTERNAL: 500,
    STORAGE_FAILED: 502,
    UNAVAILABLE: 503,
    QUOTA_EXCEEDED: 403,
  }
  assert.equal(outcome.status, statuses[code])
  return outcome
}

/** Audit rows matching `where`, oldest first. */
export function auditEntries(where: { action?: string; organizationId?: string; actorId?: string; targetId?: string } = {}) {
  return prisma.auditLog.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
}

/**
 * Runs `fn` and returns its result with the audit rows it added. Test files run in their own
 * database and their tests one at a time, so every new row is the call's own.
 */
export async function withAuditDelta<T>(fn: () => Promise<T>) {
  const before = await prisma.auditLog.findMany({ select: { id: true } })
  const seen = new Set(before.map((row) => row.id))
  let result: T | undefined
  let error: unknown
  try {
    result = await fn()
  } catch (caught) {
    error = caught
  }
  const rows = (await prisma.auditLog.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).filter((row) => !seen.has(row.id))
  return { result, error, rows }
}

/**
 * Creates an API key in a project through createApiKeySchema + createApiKey, as the API route would,
 * and returns it with its secret and the actor that authenticating with it yields.
 */
export async function createTestApiKey(
  creator: Actor,
  projectId: string,
  permissions: Permission[],
  overrides: { name?: string; expiresAt?: string; tenantId?: string } = {},
) {
  const input = createApiKeySchema.parse({
    projectId,
    name: overrides.name ?? `Key ${nextId()}`,
    permissions,
    expiresAt: overrides.expiresAt,
    tenantId: overrides.tenantId,
  })
  const created = await createApiKey(creator, input)
  const actor = await authenticateApiKey(created.key, testMeta())
  assert.ok(actor, 'a new key should authenticate')
  return { ...created, actor }
}
