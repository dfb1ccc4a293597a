import { expect, test } from './support/test'
import { registerAndOnboard } from './support/onboarding'

test('plans, a tenant page with usage bars, suspending a tenant, and tenant import and export', async ({ page }) => {
  const { projectUrl } = await registerAndOnboard(page, {
    label: 'tenants',
    person: 'Tess Tenant',
    organization: 'Tenancy',
    project: 'Platform',
  })
  const tabs = page.getByRole('navigation', { name: 'Project' })

  await test.step('a plan is created with its limits and listed', async () => {
    await tabs.getByRole('link', { name: 'Plans' }).click()
    await expect(page.getByText('No plans in this project yet.')).toBeVisible()
    await page.getByLabel('Plan name').fill('Starter')
    await page.getByLabel('Stored bytes').fill('10 MiB')
    await page.getByLabel('Files', { exact: true }).fill('100')
    await page.getByLabel('Uploads per hour').fill('lots')
    await page.getByRole('button', { name: 'Create plan' }).click()
    await expect(page.getByText('Enter a whole number, or leave it empty')).toBeVisible()
    await page.getByLabel('Uploads per hour').fill('50')
    await page.getByRole('button', { name: 'Create plan' }).click()
    await expect(page.getByText('Plan Starter created.')).toBeVisible()
    const row = page.getByRole('row', { name: /Starter/ })
    await expect(row).toContainText('10 MiB')
    await expect(row).toContainText('100')
    await expect(row).toContainText('no limit')
  })

  await test.step("a tenant is put on the plan; its page shows each limit's use as a bar", async () => {
    await tabs.getByRole('link', { name: 'Tenants' }).click()
    await page.getByLabel('Tenant name').fill('Acme')
    await page.getByLabel('Tenant slug').fill('acme')
    await page.getByRole('button', { name: 'Create tenant' }).click()
    await expect(page.getByText('Tenant Acme created.')).toBeVisible()
    await page.getByRole('link', { name: 'Acme', exact: true }).click()
    await page.getByLabel('Plan', { exact: true }).selectOption({ label: 'Starter' })
    await page.getByLabel('Files override').fill('20')
    await page.getByRole('button', { name: 'Save plan and limits' }).click()
    await expect(page.getByText('Plan and limits of Acme saved.')).toBeVisible()
    await expect(page.getByRole('meter', { name: 'Stored bytes' })).toHaveAttribute('max', String(10 * 1024 * 1024))
    await expect(page.getByRole('meter', { name: 'Files' })).toHaveAttribute('max', '20')
    await expect(page.getByRole('meter', { name: 'Uploads per hour' })).toHaveAttribute('value', '0')
    await expect(page.getByText('0 of 20 (0%)')).toBeVisible()
  })

  await test.step('suspended, the tenant says so; active again after', async () => {
    await page.getByLabel('Tenant status').selectOption('suspended')
    await page.getByRole('button', { name: 'Change status' }).click()
    await expect(page.getByText('Tenant Acme is suspended now.')).toBeVisible()
    await expect(page.getByText('Suspended: uploads, downloads and transforms are refused')).toBeVisible()
    await page.getByLabel('Tenant status').selectOption('active')
    await page.getByRole('button', { name: 'Change status' }).click()
    await expect(page.getByText('Tenant Acme is active now.')).toBeVisible()
  })

  await test.step('an import is previewed, then done; the export has every tenant', async () => {
    await page.goto(`${projectUrl}/tenants`)
    await page.getByLabel('Tenants to import').fill('slug,name,status,plan\nglobex,Globex,archived,Starter\nacme,Acme Corp,,\n')
    await page.getByRole('button', { name: 'Preview changes' }).click()
    await expect(page.getByText('Preview: 1 to create, 1 to update, 0 unchanged (nothing imported yet)')).toBeVisible()
    await expect(page.getByRole('link', { name: 'Globex', exact: true })).toHaveCount(0)
    await page.getByLabel('Tenants to import').fill('slug,name,status,plan\nglobex,Globex,archived,Starter\nacme,Acme Corp,,\n')
    await page.getByRole('button', { name: 'Import', exact: true }).click()
    await expect(page.getByText('Import done: 1 created, 1 updated, 0 unchanged.')).toBeVisible()
    await expect(page.getByRole('link', { name: 'Globex', exact: true })).toBeVisible()

    await page.getByLabel('Search tenants').fill('glob')
    await page.getByRole('button', { name: 'Search' }).click()
    await expect(page.getByRole('link', { name: 'Globex', exact: true })).toBeVisible()
    await expect(page.getByRole('link', { name: 'Acme Corp', exact: true })).toHaveCount(0)

    const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href')
    const csv = await page.request.get(href!)
    expect(csv.status()).toBe(200)
    const text = await csv.text()
    expect(text.split('\n')[0]).toBe('slug,name,status,plan,metadata,fileCount,storedBytes,createdAt')
    expect(text).toContain('globex,Globex,archived,Starter')
    expect(text).toContain('acme,Acme Corp,active,,')
  })
})
