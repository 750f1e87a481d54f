import { expect, test, type Page } from '@playwright/test';
import { acmeMember, acmeOwner, createCustomer, onPhone, rowNames, shot, signIn, uniqueName } from './helpers';

function tagRow(page: Page, name: string) {
  return page.getByTestId('tag-row').filter({ has: page.getByRole('link', { name, exact: true }) });
}

test('create a tag with a colour, use it, refuse a duplicate name, and delete it as the owner', async ({ page }, testInfo) => {
  await signIn(page, acmeOwner);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tags' }).click();
  await expect(page).toHaveURL(/\/tags$/);
  const name = uniqueName('Tag');
  await page.getByLabel('New tag').fill(name);
  await page.getByRole('radio', { name: 'teal' }).check();
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: name })).toBeVisible();
  const row = tagRow(page, name);
  await expect(row).toContainText('0 customers');
  await expect(row.getByRole('link', { name })).toHaveAttribute('data-color', 'teal');

  // Upper case or not, the name is taken.
  await page.getByLabel('New tag').fill(name.toUpperCase());
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/tags'),
    page.getByRole('button', { name: 'Add tag' }).click(),
  ]);
  expect(res.status()).toBe(422);
  await expect(page.getByTestId('error-name')).toBeVisible();
  await expect(page.getByLabel('New tag')).toHaveValue(name.toUpperCase());
  await expect(page.getByTestId('tag-row').filter({ hasText: name.toUpperCase() })).toHaveCount(1); // the original only
  await shot(page, testInfo, 'tags');

  // Tag a customer with it: the tags page counts it and links to the filtered list.
  const customer = uniqueName('Tagged');
  const url = await createCustomer(page, { name: customer });
  await page.goto(url + '/edit');
  await page.getByRole('checkbox', { name, exact: true }).check();
  await page.getByRole('button', { name: 'Save customer' }).click();
  await expect(page.getByTestId('customer-detail').getByTestId('tag-chip').filter({ hasText: name })).toBeVisible();
  await page.goto('/tags');
  await expect(row).toContainText('1 customer');
  await row.getByRole('link', { name }).click();
  await expect(page).toHaveURL(/\/customers\?tag=[0-9a-f-]{36}$/);
  expect(await rowNames(page)).toEqual([customer]);

  await page.goto('/tags');
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await row.getByRole('button', { name: `Delete tag ${name}` }).click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Tag deleted.' })).toBeVisible();
  expect(asked).toContain(`Delete the tag ${name}?`);
  await expect(row).toHaveCount(0);
  await page.goto(url);
  await expect(page.getByTestId('customer-detail').getByTestId('tag-chip').filter({ hasText: name })).toHaveCount(0);
});

test('a member adds tags but cannot delete them', async ({ page }, testInfo) => {
  test.skip(onPhone(testInfo), 'a permission rule, the same on every viewport');
  await signIn(page, acmeMember);
  await page.goto('/tags');
  await expect(page.getByTestId('tag-row').first()).toBeVisible();
  await expect(page.getByRole('button', { name: /^Delete tag/ })).toHaveCount(0);
  const name = uniqueName('Member Tag');
  await page.getByLabel('New tag').fill(name);
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(tagRow(page, name)).toHaveCount(1);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('create, refuse a duplicate, delete after confirming', async ({ page }) => {
    await signIn(page, acmeOwner);
    await page.goto('/tags');
    const name = uniqueName('Plain Tag');
    await page.getByLabel('New tag').fill(name);
    await page.getByRole('radio', { name: 'violet' }).check();
    await page.getByRole('button', { name: 'Add tag' }).click();
    await expect(page).toHaveURL(/\/tags$/);
    const row = tagRow(page, name);
    await expect(row.getByRole('link', { name })).toHaveAttribute('data-color', 'violet');
    await page.getByLabel('New tag').fill(name);
    await page.getByRole('radio', { name: 'violet' }).check();
    await page.getByRole('button', { name: 'Add tag' }).click();
    await expect(page.getByTestId('error-name')).toBeVisible();
    await expect(page.getByLabel('New tag')).toHaveValue(name);
    await expect(page.getByRole('radio', { name: 'violet' })).toBeChecked();
    await page.goto('/tags');
    await row.getByRole('button', { name: `Delete tag ${name}` }).click();
    const ask = page.getByRole('alertdialog');
    await expect(ask, 'deleting a tag asks first, also without JavaScript').toBeVisible();
    await ask.getByRole('button').first().click();
    await expect(page).toHaveURL(/\/tags$/);
    await expect(row).toHaveCount(0);
  });
});
