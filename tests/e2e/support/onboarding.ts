import { expect, type Page } from '@playwright/test'

/** Each Playwright project (no-js, js) runs against the same database: names must not collide. */
export const unique = (label: string) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

/**
 * Registers someone and goes through onboarding (organization "<organization> <id>", team Media, the
 * named project, which gets the team's local storage); ends on the new project's overview.
 */
export async function registerAndOnboard(page: Page, who: { label: string; person: string; organization: string; project: string }) {
  const id = unique(who.label)
  await page.goto('/register')
  await page.getByLabel('Name').fill(who.person)
  await page.getByLabel('Email').fill(`${id}@example.com`)
  await page.getByLabel('Password').fill('correct horse battery')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByLabel('Organization name').fill(`${who.organization} ${id}`)
  await page.getByRole('button', { name: 'Create organization' }).click()
  await page.getByLabel('Team name').fill('Media')
  await page.getByRole('button', { name: 'Create team' }).click()
  await page.getByLabel('Project name').fill(who.project)
  await page.getByRole('button', { name: 'Create project' }).click()
  await expect(page.getByRole('heading', { level: 1, name: who.project })).toBeVisible()
  const projectUrl = new URL(page.url()).pathname
  const teamUrl = projectUrl.split('/projects/')[0]!
  return { projectUrl, teamUrl, organizationUrl: teamUrl.split('/teams/')[0]! }
}
