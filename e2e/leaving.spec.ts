import { expect, test } from '@playwright/test';
import { expectAccessible, freshPassword, seedOrganization, signUpOrganization } from './helpers';

// Data out and leaving for good: the full export, restoring it elsewhere, closing an
// organization, and erasing one person's data.

test.describe.configure({ timeout: 90_000 });

test('export everything, and restore the export into a new organization', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === 'phone', 'the export and restore run once, on the desktop');
  await seedOrganization(page, { VIP: 'amber' }, [
    { name: 'Ada Exported', email: 'ada.exported@example.com', tag: 'VIP', notes: 'Met at the fair.' },
    { name: 'Grace Exported', email: 'grace.exported@example.com', phone: '+1 555 0100' },
  ]);
  await page.getByRole('link', { name: 'Organization' }).click();
  await expect(page).toHaveURL(/\/settings\/organization$/);
  await expectAccessible(page, 'the organization page');
  await page.getByTestId('request-export').click();
  const link = page.getByTestId('download-export');
  await expect(link).toBeVisible({ timeout: 60_000 });
  const downloading = page.waitForEvent('download');
  await link.click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^moat-export-\d{4}-\d{2}-\d{2}\.zip$/);
  const zip = await download.path();

  // A new, empty organization takes the ZIP on its import page.
  await signUpOrganization(page);
  await page.goto('/imports');
  await page.getByLabel('CSV file').setInputFiles(zip);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/imports\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('restore')).toContainText('2 customers');
  await expectAccessible(page, 'a restore');
  await page.getByRole('button', { name: 'Check every customer' }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'checked', { timeout: 60_000 });
  await expect(page.getByTestId('count-create')).toHaveText('2');
  await page.getByRole('button', { name: /^Import 2 rows$/ }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'imported', { timeout: 60_000 });

  await page.goto('/customers?q=Ada+Exported');
  await page.getByRole('link', { name: 'Ada Exported' }).click();
  await expect(page.getByTestId('tag-chip')).toHaveText('VIP');
  await expect(page.getByTestId('note-body')).toHaveText('Met at the fair.');
});

test('close an organization, and reopen it as its owner', async ({ page }) => {
  const email = await signUpOrganization(page);
  await page.goto('/settings/organization');
  const name = (await page.getByRole('heading', { level: 1 }).textContent())?.trim() ?? '';
  expect(name).toMatch(/^Initech/);
  await page.getByLabel("Type the organization's name").fill(name.toUpperCase());
  await page.getByTestId('close-organization').click();
  await expect(page.getByText("Type the organization's name exactly as it is shown.")).toBeVisible();
  await page.getByLabel("Type the organization's name").fill(name);
  await page.getByTestId('close-organization').click();
  await expect(page).toHaveURL(/\/login$/);

  // Everyone was signed out; the owner signs back in to the page that cancels the closing.
  await page.goto('/customers');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(freshPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/settings\/organization$/);
  await expect(page.getByTestId('closing')).toContainText('This organization is closing');
  await expectAccessible(page, 'a closing organization');
  await page.getByTestId('reopen').click();
  await expect(page.getByText('The organization is open again')).toBeVisible();
  await expect(page.getByTestId('closing')).toHaveCount(0);
});

test("erase a customer's personal data on request", async ({ page }) => {
  const { urls } = await seedOrganization(page, {}, [{ name: 'Forget Me', email: 'forget.me@example.com', notes: 'Private note.' }]);
  await page.goto(urls[0]);
  await page.getByText('Erase personal data', { exact: true }).first().click();
  await page.getByLabel('Why').fill('Email of 1 Dec 2026 asking to be forgotten');
  page.once('dialog', (d) => d.accept());
  await page.getByTestId('erase').click();
  await expect(page.getByTestId('erased')).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Erased customer');
  await expect(page.getByText('forget.me@example.com')).toHaveCount(0);
  await expect(page.getByText('Private note.')).toHaveCount(0);
});
