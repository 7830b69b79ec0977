/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { freePort } from '../helpers/redis-server.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * The operator's pages and Bull Board in a real browser (Debian's Chromium via playwright-core),
 * against a running relay and the Slack stand-in. Screenshots go to test-results/screenshots/.
 */
const SHOTS = 'test-results/screenshots';
let relay: TestRelay;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  relay = await startTestRelay({ oauth: true });
  browser = await launchChromium();
  context = await browser.newContext({
    httpCredentials: { username: 'admin', password: relay.config.adminPassword, origin: relay.web.url },
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
  await relay?.close();
});

const subscriptionCount = async () => (await relay.api('GET', '/api/v1/subscriptions')).body.subscriptions.length;

describe('the set-up journey', () => {
  it('creates a subscription, authorises it with the padlock, and runs a manual sync', async () => {
    await page.goto(`${relay.web.url}/`);
    await page.screenshot({ path: `${SHOTS}/01-empty-list.png` });
    await page.getByRole('link', { name: 'New subscription' }).click();

    // pre-filled defaults
    await expect.poll(() => page.getByLabel('API URL').inputValue()).toBe(relay.config.slack.apiUrl);
    expect(await page.getByLabel('Deliveries per window').first().inputValue()).toBe('5');
    expect(await page.getByLabel('Deliveries per window').nth(1).inputValue()).toBe('500');
    expect(await page.getByLabel('Window (seconds)').first().inputValue()).toBe('60');

    await page.getByLabel('Name').fill('Production alerts');
    await page.getByLabel('Version').fill('v1.0');
    await page.getByLabel('API Token').fill('-');
    await page.getByLabel('Client ID').fill('-');
    await page.getByLabel('Designated member').fill('alice@example.com');
    await page.screenshot({ path: `${SHOTS}/02-new-subscription.png`, fullPage: true });
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await expect.poll(() => page.locator('h1').first().innerText()).toBe('Production alerts');
    expect(await page.getByText('Not authorized').count()).toBeGreaterThan(0);

    // the padlock → Slack's authorize page → Allow → Authorization Complete → back
    await page.getByRole('button', { name: /Authorize with Slack/ }).click();
    await page.waitForURL(`${relay.sandbox.url}/oauth/v2/authorize**`);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${relay.web.url}/oauth/callback**`);
    expect(await page.locator('h1').innerText()).toBe('Authorization Complete');
    await page.screenshot({ path: `${SHOTS}/03-authorization-complete.png` });
    await page.getByRole('link', { name: 'Back to the subscription' }).click();
    expect(await page.getByText('OAuth Process Complete').count()).toBeGreaterThan(0);

    // manual sync: auth.test, then the test DM to the designated member
    await page.getByRole('button', { name: 'Run manual sync' }).click();
    await page.waitForURL('**notice=synced');
    const [dm] = await relay.sandbox.waitForMessages(1, { user: 'U0ALICE', timeoutMs: 10_000 });
    expect(dm!.text).toContain('Test message from Slack Alert Relay');
    const subId = page.url().match(/subscriptions\/(sub_[0-9A-Z]+)/)![1]!;
    await expect.poll(async () => (await relay.api('GET', `/api/v1/subscriptions/${subId}`)).body.lastSync?.status).toBe('ok');
    expect(relay.sandbox.callsTo('auth.test').length).toBeGreaterThan(0);
    await relay.waitForAlert((await relay.api('GET', `/api/v1/subscriptions/${subId}`)).body.lastSync.alertId);
    await page.reload();
    expect(await page.getByText(/Last sync:\s*ok/).count()).toBe(1);
    expect(await page.getByText(/Test message:\s*delivered/).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/04-settings-after-sync.png`, fullPage: true });
    await page.goto(`${relay.web.url}/`);
    await page.screenshot({ path: `${SHOTS}/05-subscriptions.png`, fullPage: true });
  });

  it('shows a blank API Token as the field’s error and saves nothing', async () => {
    const before = await subscriptionCount();
    await page.goto(`${relay.web.url}/subscriptions/new`);
    await page.getByLabel('Name').fill('Blank token');
    await page.getByLabel('Version').fill('v1.0');
    await page.getByLabel('Client ID').fill('-');
    const response = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    expect((await response).status()).toBe(400);
    const error = page.locator('#f-apiToken-error');
    expect(await error.innerText()).toMatch(/must not be blank; enter - when you authorise with OAuth/);
    expect(await page.getByLabel('API Token').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Name').inputValue()).toBe('Blank token');
    await page.screenshot({ path: `${SHOTS}/06-form-error.png`, fullPage: true });
    expect(await subscriptionCount()).toBe(before);
  });

  it('works with the keyboard and at phone width', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 740 });
    await phone.goto(`${relay.web.url}/subscriptions/new`);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Tab from the top reaches the form's first field, and Enter submits the form
    await phone.keyboard.press('Tab');
    await phone.keyboard.press('Tab');
    expect(await phone.evaluate(() => document.activeElement?.id)).toBe('f-name');
    await phone.keyboard.type('Keyboard only');
    const submitted = phone.waitForResponse((r) => r.request().method() === 'POST');
    await phone.keyboard.press('Enter');
    expect((await submitted).status()).toBe(400); // version and tokens still missing
    await phone.screenshot({ path: `${SHOTS}/07-phone-form.png`, fullPage: true });
    await phone.close();
  });
});

describe('Bull Board', () => {
  it('shows both queues, and retrying a failed job from its UI delivers it', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0BOB' });
    relay.sandbox.inject({ kind: 'error', error: 'messages_tab_disabled', method: 'chat.postMessage', times: 1 });
    const id = (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'retry me' })).body.id;
    expect((await relay.waitForAlert(id)).status).toBe('failed');

    await page.goto(`${relay.web.url}/admin/queues`);
    await expect.poll(() => page.getByText('alerts-ongoing').count()).toBeGreaterThan(0);
    expect(await page.getByText('alerts-initial').count()).toBeGreaterThan(0);
    await page.goto(`${relay.web.url}/admin/queues/queue/alerts-ongoing?status=failed`);
    await expect.poll(() => page.getByText(`${sub.id} → U0BOB`).count()).toBe(1);
    expect(await page.getByText('Alerts — ongoing').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${SHOTS}/08-dashboard-failed.png` });
    expect(await page.content()).not.toContain('xoxb-');

    await page.getByRole('button', { name: 'Retry all' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    const record = await relay.waitForAlert(id, ['delivered'], 10_000);
    expect(record.status).toBe('delivered');
    expect(relay.sandbox.messages({ user: 'U0BOB' }).some((m) => m.text.includes('retry me'))).toBe(true);
  });
});

describe('Bull Board, a failed delivery', () => {
  it('shows its code and message in the Error tab, and nothing of the server (no stack frame, no file path)', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0BOB' });
    relay.sandbox.inject({ kind: 'error', error: 'messages_tab_disabled', method: 'chat.postMessage', times: 1 });
    const id = (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'error tab' })).body.id;
    expect((await relay.waitForAlert(id)).status).toBe('failed');

    await page.goto(`${relay.web.url}/admin/queues/queue/alerts-ongoing/${id}?tab=error`);
    await expect.poll(() => page.getByText('messages_tab_disabled', { exact: false }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: `${SHOTS}/09-dashboard-error-tab.png` });
    const text = await page.locator('body').innerText();
    expect(text).toContain("messages_tab_disabled: The member's Messages tab is turned off for this app.");
    for (const inside of ['file://', '/dist/', '/workers/', 'node_modules', '.js:', ' at ']) expect(text, inside).not.toContain(inside);
  });
});

describe('refusals', () => {
  it('answers 401 everywhere without credentials', async () => {
    const sub = await relay.createSubscription();
    for (const path of ['/', '/subscriptions/new', `/subscriptions/${sub.id}`, '/admin/queues', '/admin/queues/api/queues', `/oauth/start?subscription=${sub.id}`, '/metrics', '/api/v1/subscriptions']) {
      const res = await fetch(`${relay.web.url}${path}`);
      expect(res.status, path).toBe(401);
    }
    for (const path of ['/subscriptions', `/subscriptions/${sub.id}/sync`, `/subscriptions/${sub.id}/delete`]) {
      expect((await fetch(`${relay.web.url}${path}`, { method: 'POST' })).status, path).toBe(401);
    }
  });

  it('refuses a cross-site form POST, even with the admin’s credentials in the browser', async () => {
    const sub = await relay.createSubscription();
    // An attacker's page on another origin that posts a form to the relay.
    const port = await freePort();
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${relay.web.url}/subscriptions/${sub.id}/delete"><input name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(port, '127.0.0.2', resolve));
    try {
      const attacked = await context.newPage();
      const response = attacked.waitForResponse((r) => r.url().includes('/delete'));
      await attacked.goto(`http://127.0.0.2:${port}/`);
      expect((await response).status()).toBe(403);
      await attacked.close();
    } finally {
      evil.close();
    }
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).status).toBe(200);
  });

  it('sends a strict CSP on the pages and a looser one only on the dashboard', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`admin:${relay.config.adminPassword}`).toString('base64')}` };
    const pageCsp = (await fetch(`${relay.web.url}/`, { headers: auth })).headers.get('content-security-policy')!;
    expect(pageCsp).toContain("default-src 'none'");
    expect(pageCsp).not.toContain('unsafe-inline');
    const boardCsp = (await fetch(`${relay.web.url}/admin/queues`, { headers: auth })).headers.get('content-security-policy')!;
    expect(boardCsp).toContain("script-src 'self' 'unsafe-inline'");
  });
});
