import { expect, test } from '@playwright/test'
import { registerAndOnboard } from './support/onboarding'

// Live progress is what JavaScript adds; without it both pages work as before (uploads.spec.ts, files.spec.ts).
test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'live updates need JavaScript')

test('the upload page shows the server phases, and the file browser shows a file arriving from elsewhere without a reload', async ({
  page,
  context,
}) => {
  const { projectUrl } = await registerAndOnboard(page, { label: 'live', person: 'Lena Live', organization: 'Live', project: 'Stream' })

  await test.step('the file browser listens to the project', async () => {
    await page.goto(`${projectUrl}/files`)
    await expect(page.locator('[data-live="on"]')).toBeAttached()
  })

  const uploader = await context.newPage()
  await test.step('another tab uploads through the form and sees uploading, verifying and done', async () => {
    await uploader.goto(`${projectUrl}/files/upload`)
    await expect(uploader.locator('form[data-live="on"]')).toBeAttached()
    // Phases can pass quickly on loopback: record every one the page shows.
    await uploader.evaluate(() => {
      const seen: string[] = []
      ;(window as unknown as { phases: string[] }).phases = seen
      new MutationObserver(() => {
        const phase = document.querySelector('[data-phase]')?.getAttribute('data-phase')
        if (phase && seen.at(-1) !== phase) seen.push(phase)
      }).observe(document.body, { subtree: true, childList: true, attributes: true })
    })
    await uploader
      .getByLabel('File', { exact: true })
      .setInputFiles({ name: 'live.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(2 * 1024 * 1024, 9) })
    await uploader.getByRole('button', { name: 'Upload' }).click()
    await expect(uploader.getByText(/Uploaded live\.bin as/)).toBeVisible()
    const phases = await uploader.evaluate(() => (window as unknown as { phases: string[] }).phases)
    expect(phases).toContain('uploading')
    expect(phases).toContain('verifying')
  })

  await test.step('the first tab lists the new file without a reload', async () => {
    await expect(page.getByRole('link', { name: 'live.bin', exact: true })).toBeVisible({ timeout: 10_000 })
  })
})
