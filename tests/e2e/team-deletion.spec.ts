import { expect, test } from './support/test'
import { registerAndOnboard, unique } from './support/onboarding'

const denied = 'Only a team owner or an organization owner or admin can delete this team.'

test('an organization admin who is not in the team is offered its deletion, and it works', async ({ page, newVisitor }) => {
  const { teamUrl, organizationUrl } = await registerAndOnboard(page, {
    label: 'team-del',
    person: 'Olive Owner',
    organization: 'Acme',
    project: 'Site',
  })
  await page.goto(`${organizationUrl}/members`)
  await page.getByLabel('Role for the invited person').selectOption('ADMIN')
  await page.getByRole('button', { name: 'Create invitation link' }).click()
  const invitationLink = await page.getByLabel('Invitation link (shown once: copy it now)').inputValue()

  const admin = await newVisitor()
  await admin.goto(invitationLink)
  await admin.getByRole('link', { name: 'Create an account' }).click()
  await admin.getByLabel('Name').fill('Ada Admin')
  await admin.getByLabel('Email').fill(`${unique('org-admin')}@example.com`)
  await admin.getByLabel('Password').fill('another good password')
  await admin.getByRole('button', { name: 'Create account' }).click()
  await admin.getByRole('button', { name: 'Accept invitation' }).click()
  await expect(admin.getByText(/You joined/)).toBeVisible()

  await admin.goto(`${teamUrl}/settings`)
  await expect(admin.getByRole('button', { name: 'Delete team' })).toBeVisible()
  await expect(admin.getByText(denied)).toHaveCount(0)
  await admin.getByLabel('Type media to confirm').fill('media')
  await admin.getByRole('button', { name: 'Delete team' }).click()
  await expect(admin.getByText('Team Media deleted.')).toBeVisible()
})
