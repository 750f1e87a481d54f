import { expect, test, type Page } from '@playwright/test';
import {
  acmeMember,
  acmeOwner,
  createCustomer,
  csrfToken,
  onPhone,
  postForm,
  seedOrganization,
  shot,
  signIn,
  uniqueName,
} from './helpers';

function trashRow(page: Page, name: string) {
  return page.getByTestId('trash-row').filter({ hasText: name });
}

async function trash(page: Page, url: string) {
  const res = await postForm(page, url + '/delete', {});
  expect(res.status()).toBe(303);
}

test('a trashed customer leaves the list, its URL answers 404, and the trash shows who and when', async ({ page }, testInfo) => {
  await signIn(page, acmeOwner);
  const name = uniqueName('Trashed One');
  const url = await createCustomer(page, { name });
  await page.goto('/customers?q=' + encodeURIComponent(name));
  await expect(page.getByTestId('customer-row')).toHaveCount(1);
  const started = Date.now();
  let message = '';
  page.once('dialog', (d) => {
    message = d.message();
    void d.accept();
  });
  await page.getByRole('button', { name: `Move ${name} to the trash` }).click();
  await expect(page.getByTestId('customer-row')).toHaveCount(0);
  expect(message).toContain(`Move ${name} to the trash?`);
  await expect(page.getByTestId('toast').filter({ hasText: 'Moved to the trash.' })).toBeVisible();
  await page.goto('/customers');
  await expect(page.getByRole('link', { name, exact: true })).toHaveCount(0);
  const res = await page.goto(url);
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();

  await page.goto('/customers');
  await page.getByTestId('trash-link').click();
  await expect(page).toHaveURL(/\/customers\/trash$/);
  const row = trashRow(page, name);
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Acme Owner');
  if (!onPhone(testInfo)) await expect(row.getByRole('cell', { name: 'Acme Owner' })).toBeVisible();
  const when = Date.parse((await row.locator('time').getAttribute('datetime')) as string);
  expect(when).toBeGreaterThan(started - 120_000);
  expect(when).toBeLessThan(Date.now() + 120_000);
  await shot(page, testInfo, 'trash');
});

test('restore a batch from the trash', async ({ page }) => {
  await signIn(page, acmeOwner);
  const names = [uniqueName('Restore A'), uniqueName('Restore B'), uniqueName('Restore C')];
  const urls: string[] = [];
  for (const name of names) urls.push(await createCustomer(page, { name }));
  for (const url of urls) await trash(page, url);
  await page.goto('/customers/trash');
  await trashRow(page, names[0]).getByRole('checkbox', { name: `Select ${names[0]}` }).check();
  await trashRow(page, names[1]).getByRole('checkbox', { name: `Select ${names[1]}` }).check();
  await page.getByTestId('restore-selected').click();
  await expect(page.getByTestId('toast').filter({ hasText: '2 customers restored.' })).toBeVisible();
  await expect(trashRow(page, names[0])).toHaveCount(0);
  await expect(trashRow(page, names[1])).toHaveCount(0);
  await expect(trashRow(page, names[2])).toHaveCount(1);
  for (const [i, url] of urls.entries()) {
    const res = await page.goto(url);
    expect(res?.status(), names[i]).toBe(i < 2 ? 200 : 404);
  }
  await page.goto('/customers?q=' + encodeURIComponent(names[0]));
  await expect(page.getByTestId('customer-row')).toHaveCount(1);
  const timeline = await page.goto(urls[0]);
  expect(timeline?.status()).toBe(200);
  await expect(page.locator('#history').getByTestId('history-entry').filter({ hasText: 'restored it' })).toContainText('Acme Owner');
});

test('the owner deletes selected customers for good and empties the trash, after confirming', async ({ page }) => {
  const { urls } = await seedOrganization(page, {}, [{ name: 'Gone One' }, { name: 'Gone Two' }, { name: 'Gone Three' }, { name: 'Kept' }]);
  for (const url of urls.slice(0, 3)) await trash(page, url);
  await page.goto('/customers/trash');
  await expect(page.getByTestId('trash-row')).toHaveCount(3);

  await trashRow(page, 'Gone One').getByRole('checkbox').check();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByRole('button', { name: 'Delete selected for good' }).click();
  await expect.poll(() => asked).toContain('cannot be undone');
  await expect(page.getByTestId('trash-row')).toHaveCount(3); // dismissed: nothing deleted

  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Delete selected for good' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: '1 customer deleted for good.' })).toBeVisible();
  await expect(page.getByTestId('trash-row')).toHaveCount(2);
  await expect(trashRow(page, 'Gone One')).toHaveCount(0);

  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await page.getByRole('button', { name: 'Empty the trash' }).click();
  await expect.poll(() => asked).toContain('Empty the trash?');
  await expect(page.getByTestId('toast').filter({ hasText: '2 customers deleted for good' })).toBeVisible();
  await expect(page.getByTestId('empty-state')).toHaveText(/The trash is empty\./);
  for (const url of urls.slice(0, 3)) expect((await page.goto(url))?.status()).toBe(404);
  expect((await page.goto(urls[3]))?.status()).toBe(200);
});

test('a member restores but cannot delete for good', async ({ page }, testInfo) => {
  test.skip(onPhone(testInfo), 'a permission rule, the same on every viewport');
  await signIn(page, acmeMember);
  const name = uniqueName('Member Trash');
  const url = await createCustomer(page, { name });
  await trash(page, url);
  await page.goto('/customers/trash');
  await expect(trashRow(page, name)).toContainText('Acme Member');
  await expect(page.getByRole('button', { name: 'Delete selected for good' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Empty the trash' })).toHaveCount(0);
  const token = await csrfToken(page);
  const id = url.split('/').pop() as string;
  for (const path of ['/customers/trash/empty', '/customers/trash/purge']) {
    const res = await postForm(page, path, { id, confirm: 'yes' }, token);
    expect(res.status(), path).toBe(404);
  }
  await page.reload();
  await expect(trashRow(page, name)).toHaveCount(1);
  await trashRow(page, name).getByRole('checkbox').check();
  await page.getByTestId('restore-selected').click();
  await expect(trashRow(page, name)).toHaveCount(0);
  expect((await page.goto(url))?.status()).toBe(200);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('trash from the customer page, then restore', async ({ page }) => {
    await signIn(page, acmeOwner);
    const name = uniqueName('Plain Trash');
    const url = await createCustomer(page, { name });
    await page.goto(url);
    await page.getByRole('button', { name: 'Move to trash' }).click();
    await expect(page).toHaveURL(/\/customers$/);
    expect((await page.goto(url))?.status()).toBe(404);
    await page.goto('/customers/trash');
    await trashRow(page, name).getByRole('checkbox').check();
    await page.getByTestId('restore-selected').click();
    await expect(page).toHaveURL(/\/customers\/trash$/);
    await expect(trashRow(page, name)).toHaveCount(0);
    expect((await page.goto(url))?.status()).toBe(200);
  });

  test('deleting for good and emptying the trash ask for confirmation first', async ({ page }) => {
    const { urls } = await seedOrganization(page, {}, [{ name: 'Plain Gone' }, { name: 'Plain Purged' }]);
    for (const url of urls) await trash(page, url);
    await page.goto('/customers/trash');
    await trashRow(page, 'Plain Purged').getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete selected for good' }).click();
    // Without JavaScript there is no confirm() dialog: the server asks before deleting anything.
    const ask = page.getByRole('alertdialog');
    await expect(ask).toContainText('Delete 1 customer for good?');
    await ask.getByRole('link', { name: 'Cancel' }).click();
    await expect(page).toHaveURL(/\/customers\/trash$/);
    await expect(page.getByTestId('trash-row')).toHaveCount(2);
    await trashRow(page, 'Plain Purged').getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete selected for good' }).click();
    await ask.getByRole('button', { name: 'Delete for good' }).click();
    await expect(page).toHaveURL(/\/customers\/trash$/);
    await expect(page.getByTestId('trash-row')).toHaveCount(1);

    await page.getByRole('button', { name: 'Empty the trash' }).click();
    await expect(ask).toContainText('Empty the trash?');
    await expect(ask).toContainText('cannot be undone');
    await page.goto('/customers/trash');
    await expect(trashRow(page, 'Plain Gone')).toHaveCount(1); // asking deleted nothing
    await page.getByRole('button', { name: 'Empty the trash' }).click();
    await ask.getByRole('button', { name: 'Empty the trash' }).click();
    await expect(page.getByTestId('empty-state')).toHaveText(/The trash is empty\./);
    for (const url of urls) expect((await page.goto(url))?.status()).toBe(404);
  });
});
