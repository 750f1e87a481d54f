import { expect, test } from '@playwright/test';
import { acmeOwner, createCustomer, onPhone, signIn, signUpOrganization, uniqueName } from './helpers';

test('keyboard: / searches, n opens the form with Name focused, Esc cancels, Ctrl+Enter saves, e edits', async ({ page }, testInfo) => {
  test.skip(onPhone(testInfo), 'keyboard shortcuts are for hardware keyboards; the same script on every viewport');
  await signIn(page, acmeOwner);
  await page.keyboard.press('/');
  await expect(page.locator('#q')).toBeFocused();
  await page.keyboard.type('n'); // typing in a field is not a shortcut
  await expect(page).toHaveURL(/\/customers(\?q=n)?$/);
  await expect(page.locator('#q')).toHaveValue('n');
  await page.locator('#q').fill('');
  await page.locator('#q').blur();

  await page.keyboard.press('n');
  await expect(page).toHaveURL(/\/customers\/new$/);
  const name = page.getByRole('textbox', { name: 'Name', exact: true });
  await expect(name).toBeFocused();
  await name.fill('Never saved');
  await page.keyboard.press('Escape');
  await expect(page).toHaveURL(/\/customers$/);

  await page.keyboard.press('n');
  await expect(name).toBeFocused();
  const saved = uniqueName('Keyboard');
  await page.keyboard.type(saved);
  await page.keyboard.press('Control+Enter');
  await expect(page).toHaveURL(/\/customers\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(saved);
  await expect(page.getByTestId('toast').filter({ hasText: /^Customer C-\d{5} added\.$/ })).toBeVisible();
  const url = new URL(page.url()).pathname;

  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await page.keyboard.press('e');
  await expect(page).toHaveURL(new RegExp(`${url}/edit$`));
  await expect(name).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page).toHaveURL(new RegExp(`${url}$`));

  const note = page.getByLabel('Note', { exact: true });
  await note.fill('Added with Ctrl+Enter.');
  await note.press('Control+Enter');
  await expect(page.getByTestId('timeline-note').getByTestId('note-body')).toHaveText('Added with Ctrl+Enter.');
  await expect(page.getByTestId('toast').filter({ hasText: 'Note added.' })).toBeVisible();

  // Esc also closes the Columns popover and the bulk confirmation.
  await page.goto('/customers');
  const chooser = page.getByTestId('column-chooser');
  await chooser.getByText('Columns', { exact: true }).click();
  await expect(chooser.getByRole('button', { name: 'Save columns' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(chooser.getByRole('button', { name: 'Save columns' })).toBeHidden();
  await expect(chooser).not.toHaveAttribute('open', '');

  await page.getByTestId('customer-row').first().getByRole('checkbox').check();
  await page.locator('#bulk-action').selectOption('export');
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Apply…' }).click();
  await expect(page.getByTestId('bulk-confirm')).toContainText('This applies to 1 customer.');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('bulk-confirm')).toHaveCount(0);
});

test('toasts are announced in the status region and go away', async ({ page }) => {
  await page.clock.install(); // time runs as usual; runFor() skips the toast's few seconds
  await signIn(page, acmeOwner);
  const url = await createCustomer(page, { name: uniqueName('Toasted') });
  await page.goto(url + '/edit');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(uniqueName('Toasted Again'));
  await page.getByRole('button', { name: 'Save customer' }).click();
  const region = page.getByRole('status').and(page.locator('#toasts'));
  await expect(region).toHaveAttribute('aria-live', 'polite');
  await expect(region.getByTestId('toast')).toHaveText('Changes saved.');
  await page.clock.runFor(10_000);
  await expect(region.getByTestId('toast')).toHaveCount(0);
});

test('the page says it is busy while a request runs', async ({ page }, testInfo) => {
  test.skip(onPhone(testInfo), 'attributes set by static/app.js, the same on every viewport');
  await signIn(page, acmeOwner);
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route(
    (u) => u.pathname === '/customers' && u.searchParams.get('q') === 'slow',
    async (route) => {
      await gate;
      await route.continue();
    },
  );
  await page.locator('#q').fill('slow');
  await expect(page.locator('#content')).toHaveAttribute('aria-busy', 'true');
  await expect(page.locator('#progress')).toHaveClass(/htmx-request/);
  release();
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.locator('#content')).not.toHaveAttribute('aria-busy', 'true');
  await expect(page.locator('#progress')).not.toHaveClass(/htmx-request/);
});

test('focus follows page swaps: a customer link lands on its heading, a form on its first field', async ({ page }) => {
  await signIn(page, acmeOwner);
  const link = page.getByTestId('customer-row').first().getByRole('link').first();
  const name = (await link.innerText()).trim();
  await link.click();
  await expect(page).toHaveURL(/\/customers\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByRole('textbox', { name: 'Name', exact: true })).toBeFocused();
});

test('destructive actions ask first, and dismissing changes nothing', async ({ page }, testInfo) => {
  test.skip(onPhone(testInfo), 'confirm() dialogs are the same on every viewport (trash and tags flows confirm on the phone too)');
  await signIn(page, acmeOwner);
  const name = uniqueName('Kept Safe');
  const url = await createCustomer(page, { name });
  await page.goto('/customers?q=' + encodeURIComponent(name));
  const asked: string[] = [];
  page.on('dialog', (d) => {
    asked.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  await page.getByRole('button', { name: `Move ${name} to the trash` }).click();
  await expect.poll(() => asked.length).toBe(1);
  await expect(page.getByTestId('customer-row')).toHaveCount(1);
  await page.goto(url);
  await page.getByRole('button', { name: 'Move to trash' }).click();
  await expect.poll(() => asked.length).toBe(2);
  await expect(page).toHaveURL(new RegExp(`${url}$`));
  await page.goto('/tags');
  await page.getByRole('button', { name: 'Delete tag VIP' }).click();
  await expect.poll(() => asked.length).toBe(3);
  expect(asked).toEqual([
    expect.stringMatching(/^confirm: Move .* to the trash\?/),
    expect.stringMatching(/^confirm: Move .* to the trash\?/),
    expect.stringMatching(/^confirm: Delete the tag VIP\?/),
  ]);
  await page.reload();
  await expect(page.getByTestId('tag-row').filter({ hasText: 'VIP' })).toHaveCount(1);
  expect((await page.goto(url))?.status()).toBe(200);
});

test('a new organization gets helpful empty states', async ({ page }) => {
  await signUpOrganization(page);
  const empty = page.getByTestId('empty-state');
  await expect(empty).toContainText('No customers yet.');
  await expect(empty).toContainText('New customer');
  await expect(page.getByTestId('customer-count')).toHaveText('0 customers');
  await page.getByTestId('trash-link').click();
  await expect(empty).toContainText('The trash is empty.');
  await page.goto('/tags');
  await expect(empty).toContainText('No tags yet.');
  await page.goto('/customers/new');
  await expect(page.getByRole('group', { name: 'Tags' })).toContainText('No tags yet');
  await expect(page.getByRole('group', { name: 'Tags' }).getByRole('link', { name: 'add tags' })).toHaveAttribute('href', '/tags');
  await page.goto('/customers?q=nothing');
  await expect(empty).toContainText('No customers match these filters.');
  await expect(empty.getByRole('link', { name: 'show all customers' })).toHaveAttribute('href', '/customers');
});

test('at 360 px the list, a customer, the trail and its refusals fit with no sideways scroll', async ({ page }, testInfo) => {
  test.skip(!onPhone(testInfo), 'a narrow phone; the desktop has room');
  await page.setViewportSize({ width: 360, height: 780 });
  await signIn(page, acmeOwner);
  const fits = async (what: string) => {
    const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(scroll, `${what} is ${scroll} px wide`).toBeLessThanOrEqual(360);
    expect(inner, `${what} widened the layout to ${inner} px`).toBe(360);
  };
  await page.goto('/customers/00000000-0000-4000-8000-000000000360'); // a refusal for the trail
  await page.goto('/customers');
  await expect(page.getByTestId('customer-row').first()).toBeVisible();
  await fits('the list');
  await page.getByTestId('filters-toggle').click();
  await expect(page.locator('#filter-kind')).toBeVisible();
  await fits('the list with its filters open');
  await page.getByTestId('customer-row').first().getByRole('link').first().click();
  await expect(page.getByTestId('customer-detail')).toBeVisible();
  await fits('a customer');
  for (const path of ['/audit', '/audit?what=refused']) {
    await page.goto(path);
    await expect(page.getByTestId('audit-row').first()).toBeVisible();
    await page.getByTestId('audit-row').first().getByText('Details').click();
    await fits(path);
  }
});
