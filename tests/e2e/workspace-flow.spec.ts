import type { Page } from '@playwright/test'
import { expect, test } from './support/test'

// Each Playwright project (no-js, js) runs against the same database: names must not collide.
const unique = (label: string) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

async function register(page: Page, name: string, email: string, password: string, path = '/register') {
  await page.goto(path)
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Create account' }).click()
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

test('register, onboard, manage teams and projects, invite a member who is refused an owner action', async ({ page, newVisitor }) => {
  const id = unique('flow')
  const owner = { name: 'Olive Owner', email: `owner-${id}@example.com`, password: 'correct horse battery' }
  const orgName = `Acme ${id}`

  await test.step('register and land on onboarding', async () => {
    await register(page, owner.name, owner.email, owner.password)
    await expect(page.getByRole('heading', { name: 'Set up your workspace' })).toBeVisible()
    await expect(page.getByText(`Welcome to Carcosa, ${owner.name}.`)).toBeVisible()
  })

  await test.step('onboarding creates an organization, a team and a project', async () => {
    await page.getByLabel('Organization name').fill(orgName)
    await page.getByRole('button', { name: 'Create organization' }).click()
    await expect(page.getByText(`Organization ${orgName} created.`)).toBeVisible()
    await page.getByLabel('Team name').fill('Media')
    await page.getByRole('button', { name: 'Create team' }).click()
    await expect(page.getByText('Team Media created.')).toBeVisible()
    await page.getByLabel('Project name').fill('Marketing site')
    await page.getByRole('button', { name: 'Create project' }).click()
    await expect(page.getByRole('heading', { level: 1, name: 'Marketing site' })).toBeVisible()
    await expect(page.getByText('You are all set.')).toBeVisible()
  })

  await test.step('an invalid slug is refused with its message', async () => {
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: orgName }).click()
    await page.getByLabel('Team name').fill('Bad team')
    await page.getByLabel('Team slug (optional)').fill('Bad Slug!')
    await page.getByRole('button', { name: 'Create team' }).click()
    await expect(page.getByText('Slug may contain only lowercase letters, digits and single hyphens between them')).toBeVisible()
  })

  await test.step('create, rename and delete a team and a project', async () => {
    await page.getByLabel('Team name').fill('Design')
    await page.getByLabel('Team slug (optional)').fill('design')
    await page.getByRole('button', { name: 'Create team' }).click()
    await expect(page.getByRole('heading', { level: 1, name: 'Design' })).toBeVisible()

    await page.getByLabel('Project name').fill('Website')
    await page.getByRole('button', { name: 'Create project' }).click()
    await expect(page.getByRole('heading', { level: 1, name: 'Website' })).toBeVisible()
    await page.getByLabel('Project name').fill('Website v2')
    await page.getByLabel('Project slug').fill('website-v2')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page.getByText('Project settings saved.')).toBeVisible()
    await expect(page.getByRole('heading', { level: 1, name: 'Website v2' })).toBeVisible()
    expect(new URL(page.url()).pathname).toMatch(/\/teams\/design\/projects\/website-v2$/)

    await page.getByLabel('Type website-v2 to confirm').fill('website-v2')
    await page.getByRole('button', { name: 'Delete project' }).click()
    await expect(page.getByText('Project Website v2 deleted.')).toBeVisible()
    await expect(page.getByText('No projects in this team yet.')).toBeVisible()

    await page.getByRole('link', { name: 'Settings' }).click()
    await page.getByLabel('Team name').fill('Design Studio')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page.getByText('Team settings saved.')).toBeVisible()
    await expect(page.getByRole('heading', { level: 1, name: 'Design Studio' })).toBeVisible()

    await page.getByLabel('Type design to confirm').fill('design')
    await page.getByRole('button', { name: 'Delete team' }).click()
    await expect(page.getByText('Team Design Studio deleted.')).toBeVisible()
    await expect(page.getByRole('link', { name: 'Design Studio' })).toHaveCount(0)
  })

  let invitationLink = ''
  await test.step('invite a second user by link', async () => {
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Members' }).click()
    await page.getByLabel('Role for the invited person').selectOption('MEMBER')
    await page.getByRole('button', { name: 'Create invitation link' }).click()
    const link = page.getByLabel('Invitation link (shown once: copy it now)')
    await expect(link).toBeVisible()
    invitationLink = await link.inputValue()
    expect(invitationLink).toMatch(/\/invitations\/[\w-]{20,}$/)
  })

  const memberPage = await newVisitor()
  const member = { name: 'Max Member', email: `member-${id}@example.com`, password: 'another good password' }
  await test.step('the second user registers from the link and accepts', async () => {
    await memberPage.goto(invitationLink)
    await expect(memberPage.getByRole('heading', { name: 'Sign in to Carcosa' })).toBeVisible()
    await memberPage.getByRole('link', { name: 'Create an account' }).click()
    await memberPage.getByLabel('Name').fill(member.name)
    await memberPage.getByLabel('Email').fill(member.email)
    await memberPage.getByLabel('Password').fill(member.password)
    await memberPage.getByRole('button', { name: 'Create account' }).click()
    await expect(memberPage.getByRole('heading', { name: `Join ${orgName}` })).toBeVisible()
    await memberPage.getByRole('button', { name: 'Accept invitation' }).click()
    await expect(memberPage.getByText(`You joined ${orgName}.`)).toBeVisible()
    await expect(memberPage.getByRole('heading', { level: 1, name: orgName })).toBeVisible()
  })

  await test.step('a MEMBER is refused deleting the organization', async () => {
    await memberPage.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Settings' }).click()
    const slug = new URL(memberPage.url()).pathname.split('/')[2] as string
    await memberPage.getByLabel(`Type ${slug} to confirm`).fill(slug)
    await memberPage.getByRole('button', { name: 'Delete organization' }).click()
    await expect(memberPage.getByRole('alert')).toContainText('Only an owner can delete this organization. Your role is MEMBER.')
    await memberPage.goto('/orgs')
    await expect(memberPage.getByRole('link', { name: orgName })).toBeVisible()
  })

  await test.step('the owner sees the new member', async () => {
    await page.reload()
    await expect(page.getByText(member.email)).toBeVisible()
  })

  await test.step('sign out', async () => {
    await memberPage.getByRole('button', { name: 'Sign out' }).click()
    await expect(memberPage.getByRole('heading', { name: 'Sign in to Carcosa' })).toBeVisible()
    await memberPage.goto('/orgs')
    await expect(memberPage.getByRole('heading', { name: 'Sign in to Carcosa' })).toBeVisible()
  })
})

test('a wrong password is refused with a message', async ({ page }) => {
  const email = `${unique('pw')}@example.com`
  await register(page, 'Pat Password', email, 'the right password')
  await page.getByRole('button', { name: 'Sign out' }).click()
  await signIn(page, email, 'the wrong password')
  await expect(page.getByRole('alert')).toContainText('Email or password is incorrect')
  await signIn(page, email, 'the right password')
  await expect(page.getByRole('heading', { name: 'Set up your workspace' })).toBeVisible()
})

test('a duplicate email and a short password are refused with messages', async ({ page, newVisitor }) => {
  const email = `${unique('dup')}@example.com`
  await register(page, 'First Person', email, 'long enough password')
  await expect(page.getByRole('heading', { name: 'Set up your workspace' })).toBeVisible()

  const otherPage = await newVisitor()
  await register(otherPage, 'Second Person', email.toUpperCase(), 'another long password')
  await expect(otherPage.getByText('An account with this email already exists')).toBeVisible()
  await register(otherPage, 'Third Person', `${unique('short')}@example.com`, 'short')
  await expect(otherPage.getByText('Password must be at least 8 characters')).toBeVisible()
})
