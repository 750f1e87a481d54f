import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acmeMember, acmeOwner, onPhone, signIn } from './helpers';

// The README's screenshot of the customer list, made from the demo data as loaded. These run in
// the readme-desktop and readme-phone projects, before any other spec adds customers (see
// playwright.config.ts), so the picture is the same run after run.
/** Saves the README's screenshot name (with -phone on the phone) of the page's first screen, or of the parts from first to last. */
async function readmeShot(page: Page, testInfo: TestInfo, name: string, parts?: [Locator, Locator]) {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.fonts.ready);
  const dir = path.join(__dirname, '..', 'docs', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}${onPhone(testInfo) ? '-phone' : ''}.png`);
  let clip;
  if (parts) {
    const [first, last] = [await parts[0].boundingBox(), await parts[1].boundingBox()];
    if (!first || !last) throw new Error(`${name}: the parts to picture are not on the page`);
    clip = { x: first.x, y: first.y, width: first.width, height: last.y + last.height - first.y };
  }
  await page.screenshot({ path: file, clip, fullPage: !!clip, animations: 'disabled', caret: 'hide' });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

test('the customer list, as the README shows it', async ({ page }, testInfo) => {
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  await signIn(page, acmeOwner);
  await page.goto('/customers');
  const rows = page.getByTestId('customer-row');
  await expect(rows).toHaveCount(25);
  await expect(page.getByTestId('customer-count')).toHaveText('39 customers');
  await expect(rows.first()).toContainText('Ada Byrne');
  await expect(page.getByTestId('sort-name').locator('xpath=..')).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('toast')).toHaveCount(0);
  if (onPhone(testInfo)) await expect(page.getByTestId('filters-toggle')).toBeVisible();
  await readmeShot(page, testInfo, 'customer-list');
});

// A colleague's morning, as an owner then reads it: they open a customer twice and change its
// payment terms, and are refused a customer that is not there. Only the first project does it;
// it changes nothing the list's first screen shows, and both projects then picture the result.
test("a customer's timeline and the audit trail, as the README shows them", async ({ browser, page }, testInfo) => {
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  if (!onPhone(testInfo)) {
    const colleague = await (await browser.newContext()).newPage();
    await signIn(colleague, acmeMember);
    await colleague.getByTestId('customer-row').first().getByRole('link', { name: 'Ada Byrne' }).click();
    await expect(colleague.getByRole('heading', { name: 'Ada Byrne' })).toBeVisible();
    const customer = new URL(colleague.url()).pathname;
    await colleague.goto(customer + '/edit');
    await colleague.getByLabel('Payment terms (days)').fill('45');
    await colleague.getByRole('button', { name: 'Save customer' }).click();
    await expect(colleague.getByTestId('customer-detail')).toContainText('45 days');
    await colleague.goto('/customers/00000000-0000-4000-8000-00000000beef');
    await colleague.context().close();
  }
  await signIn(page, acmeOwner);
  await page.getByTestId('customer-row').first().getByRole('link', { name: 'Ada Byrne' }).click();
  await expect(page.getByTestId('viewed-by')).toContainText('Acme Member');
  if (!onPhone(testInfo)) await readmeShot(page, testInfo, 'customer-timeline', [page.getByTestId('viewed-by'), page.locator('#history')]);

  await page.goto('/audit');
  await expect(page.getByTestId('audit-row').filter({ hasText: 'Acme Member changed Ada Byrne' }).first()).toBeVisible();
  await readmeShot(page, testInfo, 'audit-trail');
});
