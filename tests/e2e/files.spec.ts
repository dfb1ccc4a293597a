import type { Page } from '@playwright/test'
import { expect, test } from './support/test'
import { parse as parseDisposition } from 'content-disposition'
import sharp from 'sharp'
import { registerAndOnboard } from './support/onboarding'

/** Registers someone and goes through onboarding; ends on the new project's overview (its bucket is the team's local one). */
const ownerWithProject = async (page: Page) =>
  (await registerAndOnboard(page, { label: 'files', person: 'Fay Files', organization: 'Files', project: 'Assets' })).projectUrl

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name, exact: true })
const flash = (page: Page) => page.getByRole('status')

async function clearFilters(page: Page) {
  await page.getByRole('link', { name: 'Clear filters' }).click()
  await expect(page.getByRole('link', { name: 'Clear filters' })).toHaveCount(0)
}

async function upload(page: Page, file: { name: string; mimeType: string; buffer: Buffer }, tenant?: string) {
  await tab(page, 'Files').click()
  await page.getByRole('link', { name: 'Upload', exact: true }).click()
  // A client-side navigation: wait for the upload page before touching its controls.
  await expect(page.getByRole('heading', { name: 'Upload a file' })).toBeVisible()
  if (tenant) await page.getByLabel('Tenant', { exact: true }).selectOption({ label: tenant })
  await page.getByLabel('File', { exact: true }).setInputFiles(file)
  await page.getByRole('button', { name: 'Upload', exact: true }).click()
  await expect(flash(page)).toContainText(`Uploaded ${file.name}`)
}

test('files and tenants: create and edit a tenant, upload, browse, filter, download, delete with confirmation', async ({
  page,
  javaScriptEnabled,
}) => {
  await ownerWithProject(page)
  await expect(page.getByText('Storage used')).toBeVisible()

  await test.step('a tenant is created (bad JSON metadata is explained) and edited', async () => {
    await tab(page, 'Tenants').click()
    await expect(page.getByText('No tenants in this project yet.')).toBeVisible()
    await page.getByLabel('Tenant name').fill('Acme')
    await page.getByLabel('Tenant slug').fill('acme')
    await page.getByLabel('Metadata (JSON)').fill('{"plan": pro}')
    await page.getByRole('button', { name: 'Create tenant' }).click()
    await expect(page.getByText(/^Metadata is not valid JSON: /)).toBeVisible()
    await page.getByLabel('Metadata (JSON)').fill('{"plan": "pro"}')
    await page.getByRole('button', { name: 'Create tenant' }).click()
    await expect(flash(page)).toHaveText('Tenant Acme created.')

    await page.getByRole('link', { name: 'Acme', exact: true }).click()
    await expect(page.getByLabel('Metadata (JSON)')).toHaveValue('{\n  "plan": "pro"\n}')
    await page.getByLabel('Tenant name').fill('Acme Corp')
    await page.getByLabel('Metadata (JSON)').fill('[1, 2]')
    await page.getByRole('button', { name: 'Save tenant' }).click()
    await expect(page.getByText('Metadata must be a JSON object, e.g. {"plan": "pro"}')).toBeVisible()
    await page.getByLabel('Metadata (JSON)').fill('{"plan": "enterprise", "seats": 40}')
    await page.getByRole('button', { name: 'Save tenant' }).click()
    await expect(flash(page)).toHaveText('Tenant Acme Corp saved.')
    await expect(page.getByLabel('Metadata (JSON)')).toHaveValue('{\n  "plan": "enterprise",\n  "seats": 40\n}')
  })

  const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#cc3366' } })
    .png()
    .toBuffer()
  await test.step('uploads appear in the browser, an image with a thumbnail', async () => {
    await tab(page, 'Files').click()
    await expect(page.getByText('No files in this project yet.')).toBeVisible()
    await upload(page, { name: 'poster.png', mimeType: 'image/png', buffer: png }, 'Acme Corp (acme)')
    await upload(page, { name: 'Notes.txt', mimeType: 'text/plain', buffer: Buffer.from('remember the milk\n') })
    await tab(page, 'Files').click()
    const rows = page.getByRole('table', { name: 'Files' }).getByRole('row')
    await expect(rows).toHaveCount(3)
    await expect(page.getByRole('row', { name: /poster\.png/ })).toContainText('Acme Corp')
    const thumbnail = page.getByRole('img', { name: 'Thumbnail of poster.png' })
    await expect(thumbnail).toBeVisible()
    const answer = await page.request.get((await thumbnail.getAttribute('src'))!)
    expect(answer.status()).toBe(200)
    expect(answer.headers()['content-type']).toBe('image/webp')
    expect(answer.headers()['x-content-type-options']).toBe('nosniff')
    expect((await sharp(await answer.body()).metadata()).width).toBe(160)
    await expect(page.getByTestId('storage-totals')).toContainText('in 2 files')
  })

  await test.step('filters by type, tenant and name', async () => {
    const names = page
      .getByRole('table', { name: 'Files' })
      .getByRole('row')
      .getByRole('link')
      .filter({ hasNotText: /Download|Delete/ })
    await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Images' })
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(names).toHaveText(['poster.png'])
    await clearFilters(page)
    await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Acme Corp (acme)' })
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(names).toHaveText(['poster.png'])
    await expect(page.getByTestId('storage-totals')).toContainText('This tenant stores')
    await clearFilters(page)
    await page.getByLabel('Name starts with').fill('notes')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(names).toHaveText(['Notes.txt'])
    await page.getByLabel('Name starts with').fill('zzz')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(page.getByText('No files match these filters.')).toBeVisible()
    await clearFilters(page)
  })

  await test.step('the download link redirects to a signed URL serving the bytes with a safe disposition', async () => {
    const href = await page.getByRole('link', { name: 'Download poster.png' }).getAttribute('href')
    const redirect = await page.request.get(href!, { maxRedirects: 0 })
    expect(redirect.status()).toBe(302)
    const location = redirect.headers()['location']!
    expect(new URL(location, 'http://x').pathname).toMatch(/^\/storage\/local\//)
    const bytes = await page.request.get(location)
    expect(bytes.status()).toBe(200)
    expect(Buffer.compare(await bytes.body(), png)).toBe(0)
    expect(parseDisposition(bytes.headers()['content-disposition']!)).toMatchObject({ type: 'inline', parameters: { filename: 'poster.png' } })

    const text = await page.request.get((await page.getByRole('link', { name: 'Download Notes.txt' }).getAttribute('href'))!)
    expect(await text.text()).toBe('remember the milk\n')
    expect(parseDisposition(text.headers()['content-disposition']!).type).toBe('attachment')
  })

  await test.step('deleting asks for a ticked box first', async () => {
    await page.getByRole('link', { name: 'Delete… Notes.txt' }).click()
    await expect(page.getByRole('heading', { name: 'Notes.txt' })).toBeVisible()
    await page.getByRole('button', { name: 'Delete file' }).click()
    await expect(page.getByText('Tick the box to confirm that the file should be deleted')).toBeVisible()
    // Without JavaScript the server refused it: the page that comes back announces that.
    if (!javaScriptEnabled) await expect(page.getByRole('alert')).toHaveText('Nothing was changed: one field below needs attention.')
    // On the page that refused it (the form's id is unique there, so the submit works with JavaScript too).
    await page.getByLabel('Yes, delete Notes.txt permanently').check()
    await page.getByRole('button', { name: 'Delete file' }).click()
    await expect(flash(page)).toHaveText('File Notes.txt deleted.')
    await expect(page.getByRole('link', { name: 'Notes.txt', exact: true })).toHaveCount(0)
    await expect(page.getByTestId('storage-totals')).toContainText('in 1 file')
  })

  await test.step('a tenant with files cannot be deleted; once they are gone it can', async () => {
    await tab(page, 'Tenants').click()
    await page.getByRole('link', { name: 'Files of Acme Corp' }).click()
    await expect(page.getByLabel('Tenant', { exact: true }).locator('option:checked')).toHaveText('Acme Corp (acme)')
    await expect(page.getByRole('link', { name: 'poster.png', exact: true })).toBeVisible()
    await tab(page, 'Tenants').click()
    await page.getByRole('link', { name: 'Acme Corp', exact: true }).click()
    await page.getByLabel('Type acme to confirm').fill('acme')
    await page.getByRole('button', { name: 'Delete tenant' }).click()
    await expect(page.getByRole('alert')).toContainText('Tenant acme still has 1 file; delete them first.')

    await tab(page, 'Files').click()
    await page.getByRole('link', { name: 'poster.png', exact: true }).click()
    await page.getByLabel('Yes, delete poster.png permanently').check()
    await page.getByRole('button', { name: 'Delete file' }).click()
    await expect(flash(page)).toHaveText('File poster.png deleted.')

    await tab(page, 'Tenants').click()
    await page.getByRole('link', { name: 'Acme Corp', exact: true }).click()
    await page.getByLabel('Type acme to confirm').fill('acme')
    await page.getByRole('button', { name: 'Delete tenant' }).click()
    await expect(flash(page)).toHaveText('Tenant Acme Corp deleted.')
    await expect(page.getByText('No tenants in this project yet.')).toBeVisible()
  })
})
