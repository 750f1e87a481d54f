import { expect, test } from '@playwright/test';
import { acmeMember, acmeOwner, onPhone, signIn, uniqueName } from './helpers';

test("the owner filters the trail and reads a customer's history after a member edited it", async ({ browser }, testInfo) => {
  test.skip(onPhone(testInfo), 'a server rule about what the trail records (the page is checked on the phone in a11y.spec.ts)');
  const owner = await browser.newPage();
  await signIn(owner, acmeOwner);
  const before = uniqueName('History Before');
  const after = uniqueName('History After');
  await owner.getByRole('link', { name: 'New customer' }).click();
  // htmx swaps the form in and then focuses Name: wait for that before typing elsewhere.
  await expect(owner.getByRole('textbox', { name: 'Name', exact: true })).toBeFocused();
  await owner.getByRole('textbox', { name: 'Name', exact: true }).fill(before);
  await owner.getByRole('button', { name: 'Save customer' }).click();
  await expect(owner.getByRole('heading', { name: before })).toBeVisible();
  const customerURL = new URL(owner.url()).pathname;

  const member = await browser.newPage();
  await signIn(member, acmeMember);
  await member.goto(customerURL + '/edit');
  await member.getByRole('textbox', { name: 'Name', exact: true }).fill(after);
  await member.getByRole('button', { name: 'Save customer' }).click();
  await expect(member.getByRole('heading', { name: after })).toBeVisible();

  await owner.getByRole('link', { name: 'Audit trail' }).click();
  await owner.getByLabel('Person').selectOption({ label: 'Acme Member' });
  await expect(owner).toHaveURL(/person=/);
  await owner.getByLabel('Action').selectOption({ label: 'changed a customer' });
  await expect(owner).toHaveURL(/action=customer.update/);
  const rows = owner.getByTestId('audit-row');
  await expect(rows.first().getByTestId('audit-sentence')).toContainText(`Acme Member changed ${after}`);
  await expect(rows.first().getByTestId('audit-detail')).toContainText(`name ${before} → ${after}`);
  for (const who of await owner.getByTestId('audit-who').allInnerTexts()) expect(who).toBe('Acme Member');

  await owner.reload(); // the filter lives in the URL
  await expect(owner.getByLabel('Action')).toHaveValue('customer.update');

  await rows.first().getByRole('link', { name: after }).click();
  await expect(owner).toHaveURL(new RegExp(customerURL + '$'));
  const history = owner.locator('#history');
  const change = history.getByTestId('history-entry').filter({ hasText: 'Acme Member' }).filter({ hasText: 'changed' });
  await expect(change.getByTestId('history-change')).toContainText(`name: ${before} → ${after}`);
  // Views are folded into one line per person and day, which opens to list them; the
  // timeline shows one part alone; its link shows every view in the trail, for this record only.
  await expect(history.getByTestId('history-entry').filter({ hasText: 'viewed' })).toHaveCount(0);
  const viewed = history.getByTestId('timeline-views').filter({ hasText: 'Acme Member' });
  await expect(viewed).toContainText(/Acme Member viewed it (once|\d+ times) on/);
  await viewed.locator('summary').click();
  await expect(viewed.locator('time').first()).toBeVisible();
  await history.getByRole('link', { name: 'Views' }).click();
  await expect(owner).toHaveURL(/timeline=views/);
  await expect(owner.locator('#history').getByTestId('history-entry')).toHaveCount(0);
  await expect(owner.locator('#history').getByTestId('timeline-views').first()).toBeVisible();
  await owner.locator('#history').getByTestId('customer-trail').click();
  await expect(owner).toHaveURL(/record=/);
  await expect(owner.getByTestId('audit-record')).toContainText(`Only ${after}`);
  await expect(rows.filter({ hasText: `viewed ${after}` }).first()).toBeVisible();
  await owner.getByLabel('Person').selectOption({ label: 'Acme Member' });
  await expect(owner).toHaveURL(/record=.*person=|person=.*record=/);
});
