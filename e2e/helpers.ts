import AxeBuilder from '@axe-core/playwright';
import { expect, type APIResponse, type Page, type TestInfo } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const demoPassword = 'moat-demo-password';
export const acmeOwner = 'owner@acme.test';
export const acmeMember = 'member@acme.test';
export const globexOwner = 'owner@globex.test';
export const globexMember = 'member@globex.test';
/** A member of both demo organizations: signing in asks which to enter. */
export const consultant = 'consultant@demo.test';

/**
 * Signs in and opens the customer list. By default the sign-in form is posted with the page's
 * own request context (same cookies, same CSRF check, no rendering: quicker); form: true fills
 * and submits the form in the page, for tests about signing in.
 */
export async function signIn(page: Page, email: string, password = demoPassword, opts: { form?: boolean } = {}) {
  if (opts.form) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/customers$/);
    return;
  }
  const form = await page.request.get('/login');
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  expect(token, 'the sign-in form carries a CSRF token').toBeTruthy();
  const res = await page.request.post('/login', {
    data: formBody({ _csrf: token as string, email, password }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    maxRedirects: 0,
  });
  expect(res.status(), `signing in as ${email}`).toBe(303);
  await page.goto('/customers');
  await expect(page).toHaveURL(/\/customers$/);
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

export function uniqueName(prefix: string) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A unique, valid email address. */
export function uniqueEmail(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}@example.com`;
}

/**
 * The path of the newest link starting with prefix mailed to address, read from the development
 * outbox page (mail lands there instead of the network).
 */
export async function mailedLink(page: Page, address: string, prefix: string) {
  const res = await page.request.get('/dev/outbox');
  expect(res.status(), 'the development outbox').toBe(200);
  const html = await res.text();
  for (const article of html.split('<article').slice(1)) {
    if (!article.includes(`data-to="${address}"`)) continue;
    const link = new RegExp(`href="https?://[^/"]+(${prefix.replace(/\//g, '\\/')}[^"]+)"`).exec(article);
    if (link) return link[1];
  }
  throw new Error(`no mail to ${address} with a ${prefix} link`);
}

/**
 * Signs up a new organization (a tenant with nothing in it) and confirms it through the link
 * mailed to the owner, signed in as its owner on the customer list, and returns the owner's
 * email. By default the sign-up form is posted with the page's request context; form: true fills
 * it in the page.
 */
export async function signUpOrganization(page: Page, opts: { form?: boolean; ownerName?: string } = {}) {
  const email = `owner-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}@initech.test`;
  const fields = { organization: uniqueName('Initech'), name: opts.ownerName ?? 'Bill Lumbergh', email, password: freshPassword };
  if (opts.form) {
    await page.goto('/signup');
    await page.getByLabel('Organization').fill(fields.organization);
    await page.getByLabel('Your name').fill(fields.name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(fields.password);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await expect(page.getByTestId('check-inbox')).toBeVisible();
  } else {
    const form = await page.request.get('/signup');
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
    expect(token, 'the sign-up form carries a CSRF token').toBeTruthy();
    const res = await page.request.post('/signup', {
      data: formBody({ _csrf: token as string, ...fields }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      maxRedirects: 0,
    });
    expect(res.status(), 'signing up').toBe(303);
    expect(res.headers()['location']).toBe('/signup/sent');
  }
  await page.goto(await mailedLink(page, email, '/signup/confirm/'));
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page).toHaveURL(/\/customers$/);
  return email;
}

/** The page's CSRF token, which state-changing requests carry (form field or X-CSRF-Token). */
export async function csrfToken(page: Page) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  expect(token, 'the page has a csrf-token meta tag').toBeTruthy();
  return token as string;
}

export type CustomerFields = Record<string, string | string[]>;

/** Form fields as a URL-encoded body; arrays repeat the field. */
export function formBody(fields: CustomerFields) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return body.toString();
}

/** Posts a plain (no-htmx) form with the page's session and CSRF token, not following redirects. */
export async function postForm(page: Page, url: string, fields: CustomerFields, token?: string): Promise<APIResponse> {
  const _csrf = token ?? (await csrfToken(page));
  return page.request.post(url, {
    data: formBody({ _csrf, ...fields }),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    maxRedirects: 0,
  });
}

/**
 * Creates a customer of the signed-in tenant through the app's own form post (set-up for tests
 * that are about something else), and returns its URL path.
 */
export async function createCustomer(page: Page, fields: CustomerFields, token?: string) {
  const res = await postForm(page, '/customers', { kind: 'person', ...fields }, token);
  expect(res.status(), `creating ${JSON.stringify(fields)}`).toBe(303);
  const location = res.headers()['location'] ?? '';
  expect(location).toMatch(/^\/customers\/[0-9a-f-]{36}$/);
  return location;
}

/** The id of a tag of the signed-in tenant, read from the list's tag filter. */
export async function tagId(page: Page, name: string) {
  if (!new URL(page.url()).pathname.endsWith('/customers')) await page.goto('/customers');
  const value = await page.locator('#filter-tag option', { hasText: new RegExp(`^${name}$`) }).getAttribute('value');
  expect(value, `tag ${name}`).toMatch(/^[0-9a-f-]{36}$/);
  return value as string;
}

/** Saves a PNG of the page to test-results/screenshots/<screen>-<project>.png. */
export async function shot(page: Page, testInfo: TestInfo, screen: string, fullPage = true) {
  const dir = path.join(__dirname, '..', 'test-results', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${screen}-${testInfo.project.name}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled', caret: 'hide' });
  await testInfo.attach(screen, { path: file, contentType: 'image/png' });
}

const axeTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

// The rules whose result can depend on colours: the only thing the dark scheme changes.
const colourRules = ['color-contrast', 'link-in-text-block'];

/**
 * Runs axe (WCAG 2.x A/AA rules and best practices, or only the rules named) on the page as it
 * is and returns its serious and critical violations, one line per element: impact, rule,
 * element (selector and HTML), what is wrong, help URL.
 */
export async function seriousViolations(page: Page, rules?: string[]) {
  // Legacy mode runs axe in the page itself (the app has no frames), without the extra blank page
  // the default mode opens for every run: about twice as fast.
  let builder = new AxeBuilder({ page }).setLegacyMode(true);
  builder = rules ? builder.withRules(rules) : builder.withTags(axeTags);
  const results = await builder.analyze();
  const lines: string[] = [];
  for (const v of results.violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue;
    for (const n of v.nodes) {
      const why = (n.failureSummary ?? '').replace(/\s*\n\s*/g, ' ').replace(/^Fix (any|all) of the following: /, '');
      const html = n.html.replace(/\s+/g, ' ').slice(0, 160);
      lines.push(`[${v.impact}] ${v.id} at ${n.target.join(' ')} ${html}: ${why} (${v.helpUrl})`);
    }
  }
  return lines;
}

/**
 * Checks the page with axe in the light colour scheme (every rule) and the dark one (the colour
 * rules: nothing else differs), with the mouse out of the way. A violation fails the test softly,
 * so every page and scheme is reported, naming the rule, the elements and the help URL.
 */
export async function expectAccessible(page: Page, what: string) {
  await page.mouse.move(0, 0);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const lines = await seriousViolations(page, colorScheme === 'dark' ? colourRules : undefined);
    expect.soft(lines, `axe: serious or critical violations on ${what} (${colorScheme}):\n  ${lines.join('\n  ')}`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  // Reflow (WCAG 1.4.10): the page fits the viewport's width, scrolling only vertically.
  const width = page.viewportSize()?.width ?? 0;
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect.soft(scrollWidth, `${what} is ${scrollWidth}px wide in a ${width}px viewport (it scrolls sideways or zooms out)`).toBeLessThanOrEqual(width);
}

/** The names in the list's rows, in order. */
export async function rowNames(page: Page) {
  return page.getByTestId('customer-row').locator('td:nth-child(2) a').allInnerTexts();
}

/** Whether the test runs on the phone project. */
export function onPhone(testInfo: TestInfo) {
  return testInfo.project.name.endsWith('phone');
}

export const freshPassword = 'a long enough password';

/**
 * Signs up a new organization and fills it through the app's own forms: tags (name → colour)
 * and customers (form fields; "tag" may name tags by name). Returns the owner's email and the
 * tag ids by name.
 */
export async function seedOrganization(page: Page, tags: Record<string, string>, customers: CustomerFields[]) {
  const email = await signUpOrganization(page);
  const token = await csrfToken(page);
  for (const [name, color] of Object.entries(tags)) {
    const res = await postForm(page, '/tags', { name, color }, token);
    expect(res.status(), `adding tag ${name}`).toBe(303);
  }
  const ids: Record<string, string> = {};
  if (Object.keys(tags).length > 0) {
    await page.goto('/customers');
    for (const name of Object.keys(tags)) ids[name] = await tagId(page, name);
  }
  const urls: string[] = [];
  for (const c of customers) {
    const tag = c.tag === undefined ? [] : (Array.isArray(c.tag) ? c.tag : [c.tag]).map((n) => ids[n] ?? n);
    urls.push(await createCustomer(page, { ...c, tag }, token));
  }
  return { email, tags: ids, urls };
}

/**
 * Waits until htmx is idle: no request in flight and no swap settling. After a swap htmx (and
 * static/app.js) move the focus, so a test types only once the page has settled.
 */
export async function settled(page: Page) {
  await expect(page.locator('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')).toHaveCount(0);
}

/** Opens a page's filters, which a phone folds behind the Filters button; a wider screen shows them. */
export async function openFilters(page: Page) {
  const toggle = page.getByTestId('filters-toggle');
  if (await toggle.isVisible()) await toggle.click();
}
