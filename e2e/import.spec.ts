import { expect, test } from '@playwright/test';
import { acmeOwner, expectAccessible, signIn, uniqueName } from './helpers';

// A spreadsheet of customers comes in: uploaded in parts by the page's script, previewed and
// mapped, checked, imported in the background while the page shows progress, and undone.

test.describe.configure({ timeout: 90_000 });

test('import a CSV, see what it would do, import it, and undo it', async ({ page }, testInfo) => {
  // The flow is the same on a phone; its layout is checked by the pasted-rows test below.
  test.skip(testInfo.project.name === 'phone', 'the long import runs once, on the desktop');
  await signIn(page, acmeOwner);
  await page.getByTestId('import-link').click();
  await expect(page).toHaveURL(/\/imports$/);
  await expectAccessible(page, 'imports');

  const tag = uniqueName('Imported').replace(/\s+/g, '-');
  // An unmapped column of padding makes a small file large enough to travel in two parts.
  const rows = ['Full name;E-mail;Company;Tags;Padding'];
  const padding = 'x'.repeat(300);
  for (let i = 0; i < 550; i++) rows.push(`Imported Person ${tag} ${i};p${i}.${tag.toLowerCase()}@example.com;Import Co ${i % 9};${tag};${padding}`);
  rows.push(`;nameless.${tag.toLowerCase()}@example.com;Nobody;`);
  const csv = rows.join('\r\n') + '\r\n';
  expect(csv.length).toBeGreaterThan(192 * 1024); // it goes in more than one part
  await page.getByLabel('CSV file').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'latin1') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/imports\/[0-9a-f-]{36}$/);
  await expect(page.getByText('551 rows')).toBeVisible();
  await expect(page.getByLabel('Full name')).toHaveValue('name');
  await expect(page.getByLabel('E-mail')).toHaveValue('email');
  await expectAccessible(page, 'an import, mapped');

  await page.getByRole('button', { name: 'Check every row' }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'checked', { timeout: 60_000 });
  await expect(page.getByTestId('count-create')).toHaveText('550');
  await expect(page.getByTestId('count-reject')).toHaveText('1');
  await expect(page.getByTestId('rejection')).toContainText('name');
  const download = page.waitForEvent('download');
  await page.getByTestId('error-file').click();
  expect((await download).suggestedFilename()).toBe('refused-rows.csv');

  await page.getByRole('button', { name: /^Import 550 rows$/ }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'imported', { timeout: 60_000 });
  await expect(page.getByTestId('count-create')).toHaveText('550');

  await page.goto(`/customers?q=${encodeURIComponent(`Imported Person ${tag} 549`)}`);
  await expect(page.getByTestId('customer-row')).toHaveCount(1);

  await page.goBack();
  await page.getByRole('button', { name: 'Undo this import' }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'reverted', { timeout: 60_000 });
  await expect(page.getByTestId('undone')).toContainText('0 customers changed since');
  await page.goto(`/customers?q=${encodeURIComponent(`Imported Person ${tag}`)}`);
  await expect(page.getByTestId('empty-state')).toBeVisible();
});

test('pasted rows import without the upload script', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, acmeOwner);
  await page.goto('/imports');
  const name = uniqueName('Pasted');
  await page.getByLabel('Or paste the rows').fill(`name,email\n${name},${name.replace(/\s+/g, '.').toLowerCase()}@example.com\n`);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/imports\/[0-9a-f-]{36}$/);
  await expect(page.getByText('1 rows')).toBeVisible();
  await page.getByRole('button', { name: 'Check every row' }).click();
  // Without JavaScript the page does not poll: reload until the check is done.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'checked');
  }).toPass({ timeout: 30_000 });
  await context.close();
});

test('import products, matched by SKU, with prices as a spreadsheet writes them', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === 'phone', 'the product import runs once, on the desktop');
  await signIn(page, acmeOwner);
  await page.goto('/products');
  await page.getByRole('link', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/imports\?target=products$/);
  await expect(page.getByLabel('The file holds')).toHaveValue('products');
  const sku = uniqueName('IMP').replace(/\s+/g, '-').toUpperCase();
  await page.getByLabel('Or paste the rows').fill(`SKU;Name;Price;VAT %\n${sku};Imported lamp;1.234,50;20\n`);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/imports\/[0-9a-f-]{36}$/);
  await expect(page.getByText('1 rows of products')).toBeVisible();
  await expect(page.getByLabel('Price')).toHaveValue('sale_price');
  await expectAccessible(page, 'a product import, mapped');
  await page.getByRole('button', { name: 'Check every row' }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'checked', { timeout: 30_000 });
  await page.getByRole('button', { name: /^Import 1 rows$/ }).click();
  await expect(page.getByTestId('import-status')).toHaveAttribute('data-status', 'imported', { timeout: 30_000 });
  await page.goto(`/products?q=${encodeURIComponent(sku)}`);
  await expect(page.getByText('Imported lamp')).toBeVisible();
  await expect(page.getByText('1,234.50').first()).toBeVisible();
});
