import { readFile } from 'node:fs/promises'
import { expect, test } from './support/test'
import { registerAndOnboard } from './support/onboarding'

test('the audit log viewer filters by a GET form, shows an entry with its before/after, verifies the chain and exports NDJSON and CSV', async ({
  page,
}) => {
  const { projectUrl, organizationUrl } = await registerAndOnboard(page, {
    label: 'audit',
    person: 'Audrey Audit',
    organization: 'Audited',
    project: 'Ledger',
  })

  await test.step("the organization's Audit log lists what onboarding did", async () => {
    await page.goto(organizationUrl)
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Audit log' }).click()
    await expect(page.getByRole('heading', { name: 'Entries' })).toBeVisible()
    const table = page.getByRole('table', { name: /Audit entries of the organization/ })
    for (const action of ['organization.create', 'team.create', 'project.create'])
      await expect(table.getByRole('link', { name: action, exact: true })).toBeVisible()
  })

  await test.step('filters narrow the list and stay in the URL', async () => {
    await page.getByLabel('Action').fill('project.create')
    await page.getByLabel('Actor kind').selectOption('user')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(page).toHaveURL(/action=project\.create/)
    const rows = page.getByRole('table', { name: /Audit entries/ }).getByRole('row')
    await expect(rows).toHaveCount(2) // the header and the one entry
    await expect(rows.nth(1)).toContainText('Audrey Audit')
    await page.goto(`${organizationUrl}/audit?from=yesterday`)
    await expect(page.getByRole('alert')).toContainText('from:')
  })

  await test.step("an entry's page shows who, what and a readable difference", async () => {
    await page.goto(`${organizationUrl}/audit?action=project.create`)
    await page.getByRole('link', { name: 'project.create', exact: true }).click()
    await expect(page.getByRole('heading', { level: 2, name: 'project.create' })).toBeVisible()
    const difference = page.getByRole('table', { name: 'Each field before and after the change' })
    const name = difference.getByRole('row', { name: /^name/ })
    await expect(name.getByRole('cell').nth(1)).toHaveText('"Ledger"')
    await expect(name.getByRole('cell').nth(2)).toHaveText('Added')
    await page.getByRole('link', { name: 'Back to the audit log' }).click()
    await expect(page).toHaveURL(/\/audit\?action=project\.create/)
  })

  await test.step('Verify reports an intact chain', async () => {
    await page.getByRole('button', { name: 'Verify the chain' }).click()
    await expect(page).toHaveURL(/verify=1/)
    await expect(page.getByRole('status')).toContainText('The chain verifies')
  })

  await test.step('exports carry the filters and stream every matching entry', async () => {
    const ndjsonLink = page.getByRole('link', { name: /audit log as NDJSON/ })
    await expect(ndjsonLink).toHaveAttribute('href', /^\/audit-log\.ndjson\?.*action=project\.create/)
    const [ndjson] = await Promise.all([page.waitForEvent('download'), ndjsonLink.click()])
    const lines = (await readFile((await ndjson.path())!, 'utf8')).trim().split('\n')
    expect(lines.map((line) => JSON.parse(line).action)).toEqual(['project.create'])
    expect(JSON.parse(lines[0]!).after.name).toBe('Ledger')

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /audit log as CSV/ }).click()])
    expect(csv.suggestedFilename()).toMatch(/^carcosa-audit-organization-\d{4}-\d{2}-\d{2}\.csv$/)
    const csvLines = (await readFile((await csv.path())!, 'utf8')).trim().split('\n')
    expect(csvLines[0]).toBe(
      'id,seq,createdAt,organizationId,teamId,projectId,tenantId,actorType,actorId,ipAddress,userAgent,action,targetType,targetId,before,after,prevHash,hash',
    )
    expect(csvLines).toHaveLength(2)
  })

  await test.step("the project's Audit log shows the project's entries", async () => {
    await page.goto(projectUrl)
    await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Audit log' }).click()
    const table = page.getByRole('table', { name: /Audit entries of the project/ })
    await expect(table.getByRole('link', { name: 'project.create', exact: true })).toBeVisible()
    await expect(table.getByRole('link', { name: 'organization.create', exact: true })).toHaveCount(0)
  })
})
