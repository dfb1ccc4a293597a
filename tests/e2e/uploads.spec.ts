import { expect, test, type Page } from '@playwright/test'

// Each Playwright project (no-js, js) runs against the same database: names must not collide.
const unique = (label: string) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

/** Registers someone and goes through onboarding; the new project gets the team's local storage. */
async function ownerWithProject(page: Page) {
  const id = unique('uploads')
  await page.goto('/register')
  await page.getByLabel('Name').fill('Uma Uploads')
  await page.getByLabel('Email').fill(`${id}@example.com`)
  await page.getByLabel('Password').fill('correct horse battery')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByLabel('Organization name').fill(`Uploads ${id}`)
  await page.getByRole('button', { name: 'Create organization' }).click()
  await page.getByLabel('Team name').fill('Media')
  await page.getByRole('button', { name: 'Create team' }).click()
  await page.getByLabel('Project name').fill('Gallery')
  await page.getByRole('button', { name: 'Create project' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Gallery' })).toBeVisible()
  return new URL(page.url()).pathname
}

test('a file is uploaded from the dashboard form, and a file whose bytes contradict its type is refused with the reason', async ({ page }) => {
  const projectUrl = await ownerWithProject(page)

  await test.step('the form streams the file in and lands on the file browser with a message', async () => {
    await page.goto(`${projectUrl}/files/upload`)
    await expect(page.getByLabel('Tenant', { exact: true })).toHaveValue('')
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'notes final.txt', mimeType: 'text/plain', buffer: Buffer.from('Carcosa upload notes\n') })
    await page.getByRole('button', { name: 'Upload' }).click()
    await expect(page).toHaveURL(new RegExp(`${projectUrl}/files$`))
    await expect(page.getByText(/Uploaded notes final\.txt as [0-9a-f]{12}-notes final\.txt\./)).toBeVisible()
  })

  await test.step('HTML declared as a PNG is refused on the form, saying what the bytes are', async () => {
    await page.goto(`${projectUrl}/files/upload`)
    await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><script>alert(1)</script>') })
    await page.getByRole('button', { name: 'Upload' }).click()
    await expect(page.getByRole('alert')).toContainText('The bytes are HTML, not image/png as declared.')
    await expect(page.getByLabel('File', { exact: true })).toBeVisible()
  })
})
