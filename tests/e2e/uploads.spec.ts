import type { Page } from '@playwright/test'
import { expect, test } from './support/test'
import { registerAndOnboard } from './support/onboarding'

/** Registers someone and goes through onboarding; the new project gets the team's local storage. */
const ownerWithProject = async (page: Page) =>
  (await registerAndOnboard(page, { label: 'uploads', person: 'Uma Uploads', organization: 'Uploads', project: 'Gallery' })).projectUrl

test('a file is uploaded from the dashboard form, and a file whose bytes contradict its type is refused with the reason', async ({ page }) => {
  const projectUrl = await ownerWithProject(page)

  await test.step('the form streams the file in and lands on the file browser with a message', async () => {
    await page.goto(`${projectUrl}/files/upload`)
    await expect(page.getByLabel('Tenant', { exact: true })).toHaveValue('')
    await page
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'notes final.txt', mimeType: 'text/plain', buffer: Buffer.from('Carcosa upload notes\n') })
    await page.getByRole('button', { name: 'Upload' }).click()
    await expect(page).toHaveURL(new RegExp(`${projectUrl}/files$`))
    await expect(page.getByText(/Uploaded notes final\.txt as [0-9a-f]{12}-notes final\.txt\./)).toBeVisible()
  })

  await test.step('HTML declared as a PNG is refused on the form, saying what the bytes are', async () => {
    await page.goto(`${projectUrl}/files/upload`)
    await page
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><script>alert(1)</script>') })
    await page.getByRole('button', { name: 'Upload' }).click()
    await expect(page.getByRole('alert')).toContainText('The bytes are HTML, not image/png as declared.')
    await expect(page.getByLabel('File', { exact: true })).toBeVisible()
  })
})
