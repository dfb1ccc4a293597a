import type { Page } from '@playwright/test'
import { expect, test } from './support/test'
import { registerAndOnboard, unique } from './support/onboarding'

/** Registers someone and goes through onboarding; ends on the new project's overview. */
async function ownerWithProject(page: Page) {
  const { projectUrl } = await registerAndOnboard(page, { label: 'keys', person: 'Kim Keys', organization: 'Keys', project: 'Uploads' })
  const projectId = await page.locator('dt:text-is("Project ID") + dd').innerText()
  return { projectId: projectId.trim(), projectUrl }
}

/** Creates a key on the API keys tab and returns the secret the page shows once. */
async function createKey(page: Page, name: string, permissions: string[]) {
  await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'API keys' }).click()
  await page.getByLabel('Key name').fill(name)
  for (const permission of permissions) await page.getByRole('checkbox', { name: new RegExp(`^${permission}\\b`) }).check()
  await page.getByRole('button', { name: 'Create API key' }).click()
  await expect(page.getByText(`API key ${name} created.`)).toBeVisible()
  // The secret sits in the new key's row, with the warning that it will not come back.
  const row = page.getByRole('listitem').filter({ has: page.getByRole('list', { name: `Permissions of ${name}` }) })
  await expect(row).toContainText('It will not be shown again')
  return row.getByLabel('API key (shown once: copy it now)').inputValue()
}

test('an API key is created, shown once, works against the API and stops when revoked', async ({ page, request, javaScriptEnabled }) => {
  const { projectId } = await ownerWithProject(page)

  await test.step('the create form explains what is missing', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'API keys' }).click()
    await expect(page.getByText('No API keys in this project yet.')).toBeVisible()
    await page.getByLabel('Key name').fill('CI')
    await page.getByRole('button', { name: 'Create API key' }).click()
    await expect(page.getByText('Choose at least one permission')).toBeVisible()
  })

  const key = await createKey(page, 'CI uploads', ['projects:read', 'files:write'])
  expect(key).toMatch(/^ck_[\w-]{43}$/)

  await test.step('with JavaScript, a button copies the secret; without, it is selectable text', async () => {
    const copy = page.getByRole('button', { name: 'Copy API key' })
    if (!javaScriptEnabled) return expect(copy).toHaveCount(0)
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await copy.click()
    await expect(page.getByText('Copied to the clipboard.')).toBeVisible()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key)
  })

  await test.step('the list shows the key by prefix and last four characters, with its permissions', async () => {
    await expect(page.getByText(`ck_…${key.slice(-4)}`)).toBeVisible()
    const permissions = page.getByRole('list', { name: 'Permissions of CI uploads' })
    await expect(permissions.getByRole('listitem')).toHaveText(['files:write', 'projects:read'])
    await page.reload()
    await expect(page.getByLabel('API key (shown once: copy it now)')).toHaveCount(0)
    await expect(page.locator('body')).not.toContainText(key)
  })

  await test.step('the key reads its project through the API', async () => {
    const response = await request.get(`/api/v1/projects/${projectId}`, { headers: { Authorization: `Bearer ${key}` } })
    expect(response.status()).toBe(200)
    expect((await response.json()).id).toBe(projectId)
  })

  await test.step('revoked, the same call is refused', async () => {
    await page.getByRole('button', { name: 'Revoke CI uploads' }).click()
    await expect(page.getByText('API key CI uploads revoked. Requests with it are refused from now on.')).toBeVisible()
    await expect(page.getByText('Revoked', { exact: true }).first()).toBeVisible()
    await expect(page.getByRole('button', { name: 'Revoke CI uploads' })).toHaveCount(0)
    const response = await request.get(`/api/v1/projects/${projectId}`, { headers: { Authorization: `Bearer ${key}` } })
    expect(response.status()).toBe(401)
  })
})

test('project settings and rate-limit overrides are saved, shown, and applied to the project keys', async ({ page, request }) => {
  const { projectId } = await ownerWithProject(page)
  const key = await createKey(page, 'Reader', ['projects:read'])
  await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Settings' }).click()

  await test.step('project settings: an invalid origin is refused, valid ones are saved', async () => {
    await page.getByLabel('Description').fill('Marketing uploads')
    await page.getByLabel('Allowed origins').fill('https://app.example.com\nnot a url')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await expect(page.getByText('"not a url" is not a URL')).toBeVisible()
    await page.getByLabel('Allowed origins').fill('https://app.example.com\nhttp://localhost:3000/')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await expect(page.getByText('Settings saved.')).toBeVisible()
    await expect(page.getByLabel('Description')).toHaveValue('Marketing uploads')
    await expect(page.getByLabel('Allowed origins')).toHaveValue('https://app.example.com\nhttp://localhost:3000')
  })

  await test.step('rate limits: empty keeps the default, a bad number is refused, an override is saved', async () => {
    await expect(page.getByLabel('READ requests per hour')).toHaveAttribute('placeholder', '10000')
    await page.getByLabel('ADMIN requests per hour').fill('0')
    await page.getByRole('button', { name: 'Save rate limits' }).click()
    await expect(page.getByText('ADMIN must be at least 1 request per hour')).toBeVisible()
    await page.getByLabel('ADMIN requests per hour').fill('')
    await page.getByLabel('READ requests per hour').fill('5000')
    await page.getByRole('button', { name: 'Save rate limits' }).click()
    await expect(page.getByText('Rate limits saved.')).toBeVisible()
    await expect(page.getByLabel('READ requests per hour')).toHaveValue('5000')
    await expect(page.getByLabel('ADMIN requests per hour')).toHaveValue('')
  })

  await test.step("the project's keys get the new limit", async () => {
    const response = await request.get(`/api/v1/projects/${projectId}`, { headers: { Authorization: `Bearer ${key}` } })
    expect(response.status()).toBe(200)
    expect(response.headers()['x-ratelimit-limit']).toBe('5000')
  })
})

test('a viewer sees the project settings but is refused changing the rate limits', async ({ page, newVisitor }) => {
  const { projectUrl } = await ownerWithProject(page)
  await page.goto(`${projectUrl.split('/teams/')[0]}/members`)
  await page.getByLabel('Role for the invited person').selectOption('MEMBER')
  await page.getByRole('button', { name: 'Create invitation link' }).click()
  const invitationLink = await page.getByLabel('Invitation link (shown once: copy it now)').inputValue()

  // An organization member outside the team views its projects.
  const viewer = await newVisitor()
  await viewer.goto(invitationLink)
  await viewer.getByRole('link', { name: 'Create an account' }).click()
  await viewer.getByLabel('Name').fill('Vic Viewer')
  await viewer.getByLabel('Email').fill(`${unique('viewer')}@example.com`)
  await viewer.getByLabel('Password').fill('another good password')
  await viewer.getByRole('button', { name: 'Create account' }).click()
  await viewer.getByRole('button', { name: 'Accept invitation' }).click()
  await expect(viewer.getByText(/^You joined /)).toBeVisible()

  await viewer.goto(`${projectUrl}/settings`)
  await expect(viewer.getByText('Only project admins can change rate limits.')).toBeVisible()
  await viewer.getByLabel('READ requests per hour').fill('5000')
  await viewer.getByRole('button', { name: 'Save rate limits' }).click()
  await expect(viewer.getByRole('alert')).toContainText('Your role VIEWER does not allow you to change the rate limits of this project.')

  await viewer.goto(`${projectUrl}/api-keys`)
  await expect(viewer.getByRole('checkbox', { name: /^projects:read\b/ })).toBeEnabled()
  await expect(viewer.getByRole('checkbox', { name: /^projects:write\b/ })).toBeDisabled()
})

test('the API reference lists every operation without signing in', async ({ page, checkAccessibility }) => {
  await page.goto('/')
  await page.getByRole('link', { name: 'API docs' }).click()
  await page.waitForURL('**/docs/api')
  await checkAccessibility()
  await expect(page.getByRole('heading', { level: 1, name: 'API reference' })).toBeVisible()
  const createKey = page.getByRole('region', { name: 'POST /api/v1/api-keys', exact: true })
  await expect(createKey).toContainText('api-keys:write')
  await expect(createKey).toContainText('User token or API key')
  await expect(createKey.getByRole('row', { name: /permissions body array of permission/ })).toBeVisible()
  await expect(page.getByRole('region', { name: 'GET /api/v1/projects/{id}', exact: true })).toContainText('projects:read')
  await expect(page.getByRole('link', { name: '/api/v1/openapi.json', exact: true })).toHaveAttribute('href', '/api/v1/openapi.json')
})

test('the interactive reference at /api-docs sends a call with an API key and shows the answer', async ({ page, checkAccessibility }) => {
  const { projectId } = await ownerWithProject(page)
  const key = await createKey(page, 'Console', ['projects:read'])
  await page.goto('/api-docs')
  // The whole reference is one long page: its axe run may outlast an assertion's timeout on a busy machine.
  await checkAccessibility()
  await expect(page.getByRole('heading', { level: 1, name: 'API reference' })).toBeVisible()
  await page.getByRole('link', { name: 'Try it: GET /api/v1/projects/{id}', exact: true }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Try GET /api/v1/projects/{id}' })).toBeVisible()
  await page.getByLabel('API key or user access token').fill(key)
  await page.getByLabel('id (path, required)').fill(projectId)
  await page.getByRole('button', { name: 'Send GET request' }).click()
  await expect(page.getByRole('heading', { name: 'Answer: 200 OK' })).toBeVisible()
  await expect(page.getByLabel('Response body')).toContainText(`"id": "${projectId}"`)
  await expect(page.locator('body')).not.toContainText(key)
})
