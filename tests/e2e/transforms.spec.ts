import type { Page } from '@playwright/test'
import { expect, test } from './support/test'
import sharp from 'sharp'
import { registerAndOnboard } from './support/onboarding'

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name, exact: true })

async function ownerWithImage(page: Page) {
  await registerAndOnboard(page, { label: 'transforms', person: 'Tia Transforms', organization: 'Transforms', project: 'Photos' })
  const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer()
  await tab(page, 'Files').click()
  await page.getByRole('link', { name: 'Upload', exact: true }).click()
  await expect(page.getByRole('heading', { name: 'Upload a file' })).toBeVisible()
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png })
  await page.getByRole('button', { name: 'Upload', exact: true }).click()
  await expect(page.getByRole('status')).toContainText('Uploaded sunset.png')
}

test('transforms page: presets, access settings, secret rotation and a URL builder showing the signed URL and its image', async ({ page }) => {
  await ownerWithImage(page)
  await tab(page, 'Transforms').click()
  await expect(page.getByRole('heading', { name: 'URL builder' })).toBeVisible()

  await test.step('a preset is refused with a reason, then created, edited', async () => {
    await page.getByLabel('Preset name').fill('thumb')
    await page.getByLabel('Parameters', { exact: true }).fill('w=0&fit=squash')
    await page.getByRole('button', { name: 'Create preset' }).click()
    await expect(page.getByText(/w must be from 1 to 4096/)).toBeVisible()
    await page.getByLabel('Parameters', { exact: true }).fill('w=120&h=90&fit=cover&format=webp')
    await page.getByRole('button', { name: 'Create preset' }).click()
    await expect(page.getByText('Preset thumb created.')).toBeVisible()
    await page.getByLabel('Parameters of preset thumb').fill('w=100&h=100&fit=cover&format=webp')
    await page.getByRole('button', { name: 'Save preset thumb' }).click()
    await expect(page.getByText('Preset thumb saved.')).toBeVisible()
    await expect(page.getByLabel('Parameters of preset thumb')).toHaveValue('fit=cover&format=webp&h=100&w=100')
  })

  await test.step('the builder signs a URL for an image and shows the transformed result', async () => {
    await page
      .getByRole('navigation', { name: 'Images in this project' })
      .getByRole('link', { name: /sunset\.png/ })
      .click()
    await expect(page.getByLabel('File path')).toHaveValue(/sunset\.png$/)
    await page.getByLabel('Preset', { exact: true }).selectOption('thumb')
    await page.getByRole('button', { name: 'Build signed URL' }).click()
    // Choosing the file already built a URL without the preset: wait for the new answer.
    await expect(page.getByLabel(/Signed URL/)).toHaveValue(/preset=thumb/)
    const url = await page.getByLabel(/Signed URL/).inputValue()
    expect(url).toMatch(/\/api\/v1\/transform\/[^/]+\/.+sunset\.png\?exp=\d+&preset=thumb&sig=[\w-]{43}$/)
    const img = page.getByRole('img', { name: 'Transformed result' })
    await expect(img).toBeVisible()
    await expect.poll(() => img.evaluate((element: HTMLImageElement) => element.naturalWidth)).toBe(100)
    const answer = await page.request.get(url)
    expect(answer.status()).toBe(200)
    expect(answer.headers()['content-type']).toBe('image/webp')
    const tampered = await page.request.get(url.replace('preset=thumb', 'preset=thumbs'))
    expect(tampered.status()).toBe(403)
  })

  await test.step('fit and format are chosen from their valid values; the validity is said in words and the result captioned', async () => {
    await page.getByLabel('Preset', { exact: true }).selectOption('')
    await page.getByLabel('Width (w)').fill('80')
    await page.getByLabel('Height (h)').fill('60')
    await page.getByLabel('Fit', { exact: true }).selectOption({ label: 'contain: the whole image inside the box, letterboxed' })
    await page.getByLabel('Format', { exact: true }).selectOption({ label: 'PNG' })
    await page.getByLabel('Expires in (seconds)').fill('5400')
    await page.getByRole('button', { name: 'Build signed URL' }).click()
    await expect(page.getByLabel('Signed URL')).toHaveValue(/exp=\d+&fit=contain&format=png&h=60&w=80&sig=/)
    await expect(page.getByText(/^Valid for 1 hour 30 minutes, until \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC\.$/)).toBeVisible()
    const figure = page.getByRole('figure')
    await expect(figure.getByRole('img', { name: 'Transformed result' })).toBeVisible()
    await expect(figure).toContainText(/sunset\.png with fit=contain&format=png&h=60&w=80$/)
  })

  await test.step('access settings are saved; the secret is rotated; the preset is deleted', async () => {
    await page.getByLabel('Who may request transforms').selectOption('public')
    await page.getByLabel('Accept presets only').check()
    await page.getByRole('button', { name: 'Save access settings' }).click()
    await expect(page.getByText('Transform settings saved.')).toBeVisible()
    await expect(page.getByLabel('Who may request transforms')).toHaveValue('public')
    await expect(page.getByLabel('Accept presets only')).toBeChecked()
    await page.getByRole('button', { name: 'Rotate signing secret' }).click()
    await expect(page.getByText(/Signing secret rotated/)).toBeVisible()
    await expect(page.getByText(/2 active secrets/)).toBeVisible()
    await page.getByRole('button', { name: 'Delete preset thumb' }).click()
    await expect(page.getByText('Preset deleted.')).toBeVisible()
    await expect(page.getByText('No presets yet.')).toBeVisible()
  })
})
