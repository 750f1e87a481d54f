import { expect, test, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import { rowNames, seedOrganization, shot } from './helpers';

const people = [
  { kind: 'person', name: 'Echo Person', email: 'echo@bulk.example', company: 'Bolt', tag: 'Gold' },
  { kind: 'person', name: 'alpha Person', email: 'alpha@bulk.example', company: 'Crane' },
  { kind: 'person', name: 'Charlie Person', email: 'charlie@bulk.example', company: 'Bolt', tag: 'Gold' },
  { kind: 'person', name: 'Bravo Person', email: 'bravo@bulk.example', company: 'Anchor, Ltd "North"' },
  { kind: 'company', name: 'Foxtrot Company', email: 'fox@bulk.example', tag: 'Silver' },
];

function seed(page: Page) {
  return seedOrganization(page, { Gold: 'amber', Silver: 'slate' }, people);
}

function bulkBar(page: Page) {
  return page.getByTestId('bulk-bar');
}

async function chooseAction(page: Page, action: string, tag?: string) {
  await page.locator('#bulk-action').selectOption(action);
  if (tag) await page.locator('#bulk-tag').selectOption({ label: tag });
  await bulkBar(page).getByRole('button', { name: 'Apply…' }).click();
}

/** Parses the CSV the export downloads (quoted fields, doubled quotes). */
function parseCSV(text: string) {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

test('select rows → confirm shows the count → add a tag', async ({ page }, testInfo) => {
  const { tags } = await seed(page);
  await page.goto('/customers');
  // Narrow the list first (an htmx swap of the results), as one would before acting on rows.
  await page.locator('#q').fill('person');
  await expect(page).toHaveURL(/q=person/);
  await expect(page.getByTestId('customer-row')).toHaveCount(4);
  await page.getByRole('checkbox', { name: 'Select Echo Person' }).check();
  await page.getByRole('checkbox', { name: 'Select alpha Person' }).check();
  await expect(bulkBar(page).locator('[data-selected-count]')).toHaveText('2 selected.');
  await chooseAction(page, 'tag', 'Silver');
  const confirm = page.getByTestId('bulk-confirm');
  await expect(confirm).toHaveRole('alertdialog');
  await expect(confirm).toContainText('This applies to 2 customers.');
  await expect(confirm.getByTestId('bulk-confirm-button')).toHaveText('Add tag');
  await expect(confirm.getByTestId('bulk-confirm-button')).toBeFocused();
  await shot(page, testInfo, 'list-filtered-bulk-confirm');
  await confirm.getByTestId('bulk-confirm-button').click();
  await expect(page.getByTestId('toast').filter({ hasText: '2 customers' })).toBeVisible();
  await expect(confirm).toHaveCount(0);
  await page.goto(`/customers?tag=${tags.Silver}`);
  expect(await rowNames(page)).toEqual(['alpha Person', 'Echo Person', 'Foxtrot Company']);
});

test('all that match the filter → remove a tag; cancel changes nothing', async ({ page }) => {
  const { tags } = await seed(page);
  await page.goto(`/customers?tag=${tags.Gold}`);
  await expect(page.getByTestId('customer-row')).toHaveCount(2);
  const all = bulkBar(page).getByRole('checkbox', { name: 'All 2 customers that match' });
  await all.check();
  await chooseAction(page, 'untag', 'Gold');
  const confirm = page.getByTestId('bulk-confirm');
  await expect(confirm).toContainText('This applies to 2 customers.');
  await confirm.getByRole('link', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  await page.goto(`/customers?tag=${tags.Gold}`);
  await expect(page.getByTestId('customer-row')).toHaveCount(2);

  await bulkBar(page).getByRole('checkbox', { name: 'All 2 customers that match' }).check();
  await chooseAction(page, 'untag', 'Gold');
  await expect(confirm.getByTestId('bulk-confirm-button')).toHaveText('Remove tag');
  await confirm.getByTestId('bulk-confirm-button').click();
  await expect(page.getByTestId('toast').filter({ hasText: '2 customers' })).toBeVisible();
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.getByTestId('customer-count')).toHaveText('0 customers');
});

test('select the page → move to the trash', async ({ page }) => {
  await seed(page);
  await page.goto('/customers');
  await page.getByRole('checkbox', { name: 'Select every customer on this page' }).check();
  for (const box of await page.getByTestId('customer-row').getByRole('checkbox').all()) await expect(box).toBeChecked();
  await expect(bulkBar(page).locator('[data-selected-count]')).toHaveText('5 selected.');
  await page.getByRole('checkbox', { name: 'Select Foxtrot Company' }).uncheck();
  await expect(bulkBar(page).locator('[data-selected-count]')).toHaveText('4 selected.');
  await chooseAction(page, 'trash');
  const confirm = page.getByTestId('bulk-confirm');
  await expect(confirm).toContainText('This applies to 4 customers.');
  await expect(confirm.getByTestId('bulk-confirm-button')).toHaveText('Move to trash');
  await confirm.getByTestId('bulk-confirm-button').click();
  await expect(page.getByTestId('toast')).toHaveText('4 customers moved to the trash.');
  await expect.poll(() => rowNames(page)).toEqual(['Foxtrot Company']);
  await page.goto('/customers/trash');
  await expect(page.getByTestId('trash-row')).toHaveCount(4);
});

test('export the customers that match as CSV', async ({ page }) => {
  await seed(page);
  await page.goto('/customers?kind=person');
  await bulkBar(page).getByRole('checkbox', { name: 'All 4 customers that match' }).check();
  await chooseAction(page, 'export');
  const confirm = page.getByTestId('bulk-confirm');
  await expect(confirm).toContainText('This applies to 4 customers.');
  await expect(confirm.getByTestId('bulk-confirm-button')).toHaveText('Download CSV');
  const [download] = await Promise.all([page.waitForEvent('download'), confirm.getByTestId('bulk-confirm-button').click()]);
  expect(download.suggestedFilename()).toMatch(/^customers-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  expect(csv.startsWith('number,name,kind,company,emails')).toBe(true);
  const rows = parseCSV(csv.trim());
  const header = rows[0];
  const byName = new Map(rows.slice(1).map((r) => [r[header.indexOf('name')], r]));
  expect([...byName.keys()].sort()).toEqual(['Bravo Person', 'Charlie Person', 'Echo Person', 'alpha Person']);
  const bravo = byName.get('Bravo Person') as string[];
  expect(bravo[header.indexOf('kind')]).toBe('person');
  expect(bravo[header.indexOf('company')]).toBe('Anchor, Ltd "North"');
  expect(bravo[header.indexOf('emails')]).toContain('bravo@bulk.example');
  expect(bravo[header.indexOf('number')]).toMatch(/^C-\d{5}$/);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('bulk tag and trash confirm on their own page', async ({ page }) => {
    const { tags } = await seed(page);
    await page.goto('/customers');
    await chooseAction(page, 'tag', 'Silver');
    await expect(page.getByTestId('bulk-confirm')).toContainText('Select at least one customer first.');
    await page.getByRole('link', { name: 'Back to the list' }).click();

    await page.getByRole('checkbox', { name: 'Select Bravo Person' }).check();
    await page.getByRole('checkbox', { name: 'Select Charlie Person' }).check();
    await chooseAction(page, 'tag', 'Silver');
    await expect(page).toHaveURL(/\/customers\/bulk$/);
    const confirm = page.getByTestId('bulk-confirm');
    await expect(confirm).toContainText('This applies to 2 customers.');
    await confirm.getByTestId('bulk-confirm-button').click();
    await expect(page).toHaveURL(/\/customers(\?.*)?$/);
    await page.goto(`/customers?tag=${tags.Silver}`);
    expect(await rowNames(page)).toEqual(['Bravo Person', 'Charlie Person', 'Foxtrot Company']);

    await bulkBar(page).getByRole('checkbox', { name: 'All 3 customers that match' }).check();
    await chooseAction(page, 'trash');
    await expect(confirm).toContainText('This applies to 3 customers.');
    await confirm.getByTestId('bulk-confirm-button').click();
    await expect(page).toHaveURL(new RegExp(`/customers\\?tag=${tags.Silver}$`));
    await expect(page.getByTestId('empty-state')).toBeVisible();
    await page.goto('/customers');
    expect(await rowNames(page)).toEqual(['alpha Person', 'Echo Person']);
  });

  test('bulk export downloads the CSV', async ({ page }) => {
    await seed(page);
    await page.goto('/customers');
    await page.getByRole('checkbox', { name: 'Select Foxtrot Company' }).check();
    await chooseAction(page, 'export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('bulk-confirm-button').click()]);
    const rows = parseCSV(fs.readFileSync(await download.path(), 'utf8').trim());
    expect(rows).toHaveLength(2);
    expect(rows[1][rows[0].indexOf('name')]).toBe('Foxtrot Company');
    expect(rows[1][rows[0].indexOf('kind')]).toBe('company');
  });
});
