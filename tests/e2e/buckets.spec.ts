import type { Page } from '@playwright/test'
import { expect, test } from './support/test'
import { createS3Bucket } from '../support/s3'
import { registerAndOnboard, unique } from './support/onboarding'

/** Registers someone and goes through onboarding; returns the team's and the organization's URLs. */
const ownerWithTeam = (page: Page) =>
  registerAndOnboard(page, { label: 'buckets', person: 'Bea Buckets', organization: 'Buckets', project: 'Uploads' })

async function registerBucket(page: Page, fields: Record<string, string>, provider: string) {
  await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Buckets' }).click()
  await page.getByLabel('Provider').selectOption(provider)
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value)
  await page.getByRole('button', { name: 'Register bucket' }).click()
}

test('buckets: the default local storage, a local and an S3-compatible bucket registered, tested, shared and deleted', async ({ page }) => {
  const { teamUrl, organizationUrl, projectUrl } = await ownerWithTeam(page)

  await test.step("the first project got the team's local storage", async () => {
    await page.goto(`${projectUrl}/settings`)
    await expect(page.getByLabel('Bucket', { exact: true })).toHaveValue(/.+/)
    await expect(page.getByLabel('Bucket', { exact: true }).locator('option:checked')).toHaveText(/^Local storage/)
  })

  await test.step('an invalid registration names the field; a local bucket is registered and connects', async () => {
    await page.goto(teamUrl)
    await registerBucket(page, { 'Display name': 'Bad', 'Bucket name in storage': 'ok-name' }, 's3')
    await expect(page.getByText('Region is required for Amazon S3, e.g. us-east-1')).toBeVisible()
    const directory = unique('disk')
    await registerBucket(page, { 'Display name': 'Scratch disk', 'Bucket name in storage': directory }, 'local')
    await expect(page.getByText('Bucket Scratch disk registered.')).toBeVisible()
    await page.getByRole('button', { name: 'Test connection' }).click()
    await expect(page.getByText('Connection OK.')).toBeVisible()
    await expect(page.getByTestId('last-test')).toHaveText(/^OK/)
  })

  const s3 = await createS3Bucket('e2e')
  await test.step('an S3-compatible bucket on s3rver: the key is shown masked, the test reports missing CORS', async () => {
    await registerBucket(
      page,
      {
        'Display name': 'MinIO media',
        'Bucket name in storage': s3.bucketName,
        Endpoint: s3.endpoint,
        'Access key id': 'S3RVER',
        'Secret access key': 'S3RVER',
      },
      's3-compatible',
    )
    await expect(page.getByText('Bucket MinIO media registered.')).toBeVisible()
    await expect(page.getByText('••••RVER')).toBeVisible()
    await page.getByRole('button', { name: 'Test connection' }).click()
    await expect(page.getByRole('alert')).toContainText('Connection failed: No CORS configuration: browsers cannot upload directly')
  })

  const bucketUrl = new URL(page.url()).pathname
  await test.step('shared with another team, then revoked', async () => {
    await page.goto(organizationUrl)
    await page.getByLabel('Team name').fill('Second')
    await page.getByRole('button', { name: 'Create team' }).click()
    // With JavaScript the form posts by fetch: leaving before its answer would cancel the creation.
    await expect(page.getByText('Team Second created.')).toBeVisible()
    await page.goto(bucketUrl)
    await page.getByLabel('Team to share with').selectOption({ label: 'Second' })
    await page.getByLabel('Access', { exact: true }).selectOption('READ_ONLY')
    await page.getByRole('button', { name: 'Share bucket' }).click()
    await expect(page.getByText('Shared with Second (READ_ONLY).')).toBeVisible()
    await page.getByLabel('Access of Second').selectOption('ADMIN')
    await page.getByRole('button', { name: 'Change access of Second' }).click()
    await expect(page.getByText('Second now has ADMIN access.')).toBeVisible()
    await page.getByRole('button', { name: 'Revoke share of Second' }).click()
    await expect(page.getByText('Share revoked.')).toBeVisible()
    await expect(page.getByText('Not shared with other teams.')).toBeVisible()
  })

  await test.step('deleted after typing its name', async () => {
    await page.getByLabel(`Type ${s3.bucketName} to confirm`).fill('wrong')
    await page.getByRole('button', { name: 'Delete bucket' }).click()
    await expect(page.getByText(`Type ${s3.bucketName} to confirm`).last()).toBeVisible()
    await page.getByLabel(`Type ${s3.bucketName} to confirm`).fill(s3.bucketName)
    await page.getByRole('button', { name: 'Delete bucket' }).click()
    await expect(page.getByText('Bucket MinIO media deleted.')).toBeVisible()
    await expect(page.getByRole('link', { name: 'MinIO media' })).toHaveCount(0)
  })
})
