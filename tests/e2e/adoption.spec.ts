import fs from 'node:fs/promises'
import path from 'node:path'
import { expect, test } from './support/test'
import { registerAndOnboard } from './support/onboarding'

/** Where the browser tests' Carcosa keeps local buckets (playwright.config.ts: DATA_DIR). */
const STORAGE_DIR = path.join(process.env.TEST_RESULTS_DIR ?? '.test-results', 'e2e-data', 'storage')

/** Puts an object straight into a local bucket's directory, as something other than Carcosa would have. */
async function putLegacyObject(bucketName: string, key: string, body: string, contentType?: string) {
  const file = path.join(STORAGE_DIR, bucketName, ...key.split('/'))
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, body)
  if (contentType) await fs.writeFile(`${file}.carcosa-meta.json`, JSON.stringify({ contentType }))
}

test('objects already in the bucket are previewed, adopted under their tenant, and the run followed to its end', async ({
  page,
  javaScriptEnabled,
}) => {
  const { projectUrl, teamUrl } = await registerAndOnboard(page, {
    label: 'adopt',
    person: 'Ada Adopter',
    organization: 'Adopters',
    project: 'Legacy',
  })

  const bucketName = await test.step("the project's bucket already holds objects under tenant-named prefixes", async () => {
    await page.goto(`${teamUrl}/buckets`)
    const name = (await page
      .getByText(/team-[a-z0-9]+/)
      .first()
      .textContent())!.match(/team-[a-z0-9]+/)![0]
    await putLegacyObject(name, 'acme/readme.txt', 'hello from before Carcosa\n', 'text/plain')
    await putLegacyObject(name, 'acme/docs/notes.txt', 'notes\n', 'text/plain')
    await putLegacyObject(name, 'acme/fake.png', '<!doctype html><p>not a picture</p>', 'image/png')
    await putLegacyObject(name, 'stranger/x.txt', 'no such tenant\n', 'text/plain')
    return name
  })
  expect(bucketName).toMatch(/^team-/)

  await test.step('a tenant named like the prefix exists', async () => {
    await page.goto(`${projectUrl}/tenants`)
    await page.getByLabel('Tenant name').fill('Acme')
    await page.getByLabel('Tenant slug').fill('acme')
    await page.getByRole('button', { name: 'Create tenant' }).click()
    await expect(page.getByText('Tenant Acme created.')).toBeVisible()
  })

  await test.step('the preview counts per tenant and names the unknown slug; nothing changes yet', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Adoption' }).click()
    await expect(page.getByText('No adoptions in this project yet.')).toBeVisible()
    await page.getByRole('button', { name: 'Preview' }).click()
    const preview = page.getByRole('region', { name: 'Preview' })
    await expect(preview.getByRole('row').filter({ hasText: 'acme' })).toContainText('3')
    await expect(preview).toContainText('stranger')
    await expect(preview).toContainText('acme/readme.txt becomes acme/readme.txt of acme')
    await expect(page.getByText('No adoptions in this project yet.')).toBeVisible()
  })

  await test.step('started, the run is followed to its end: two adopted, the disguised one failed with its reason', async () => {
    await page.getByRole('button', { name: 'Start adoption' }).click()
    const run = page.getByRole('region', { name: /^Adoption run [a-z0-9]+$/ })
    await expect(run).toBeVisible()
    const status = run.getByTestId('run-status')
    if (javaScriptEnabled) {
      // Live: the page follows the run by itself.
      await expect(status).toHaveText('Completed', { timeout: 60_000 })
    } else {
      // Without JavaScript the page reloads itself while the run is in progress; the Refresh link does the same.
      await expect(async () => {
        if ((await status.textContent()) !== 'Completed') await page.getByRole('link', { name: 'Refresh' }).click()
        await expect(status).toHaveText('Completed', { timeout: 2_000 })
      }).toPass({ timeout: 60_000 })
    }
    await expect(run.getByText('Adopted', { exact: true }).locator('..')).toContainText('2')
    await expect(run.getByText('Failed', { exact: true }).locator('..')).toContainText('1')
    await expect(run).toContainText('acme/fake.png: The bytes are HTML, not image/png as declared.')
  })

  await test.step('the adopted files are in the file browser under the tenant', async () => {
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Files' }).click()
    await expect(page.getByText('readme.txt').first()).toBeVisible()
    await expect(page.getByText('notes.txt').first()).toBeVisible()
  })
})
