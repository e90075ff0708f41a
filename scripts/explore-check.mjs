// The explore pages in headless Chromium against a running, seeded service:
// each page renders what the article says, makes no request off the machine,
// works from the keyboard, fits 1280x800 and a phone, shows its loading and
// error states; a screenshot of each is kept.
//
//   node scripts/explore-check.mjs BASE_URL SCREENSHOT_DIR
//
// playwright-core is resolved from $EXPLORE_CACHE (scripts/explore-check.sh
// installs it there); the browser is the system's /usr/bin/chromium.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.EXPLORE_CACHE, 'package.json'));
const { chromium } = require('playwright-core');

const base = (process.argv[2] || 'http://127.0.0.1:8080').replace(/\/$/, '');
const shots = process.argv[3] || 'target/explore-screenshots';
mkdirSync(shots, { recursive: true });
const origin = new URL(base).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let failures = 0;
let checks = 0;
function check(condition, message) {
  checks += 1;
  if (!condition) {
    failures += 1;
    console.log(`FAIL ${message}`);
  }
}

const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

async function open(name, url, viewport, options = {}) {
  const context = await browser.newContext({ viewport: viewports[viewport], deviceScaleFactor: 1 });
  const page = await context.newPage();
  const offMachine = [];
  const consoleErrors = [];
  page.on('request', (request) => {
    const u = new URL(request.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) offMachine.push(request.url());
  });
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  if (options.slowGraphql) {
    // Hold the API's answer so the loading state can be seen.
    await page.route('**/graphql', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
  }
  await page.goto(base + url, { waitUntil: 'domcontentloaded' });
  if (options.beforeReady) await options.beforeReady(page);
  await page.waitForSelector('main[data-ready]', { timeout: 20000 });
  await page.waitForLoadState('networkidle');
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  check(fits, `${name} (${viewport}): nothing wider than the screen`);
  check(offMachine.length === 0, `${name} (${viewport}): requests off the machine: ${offMachine.join(', ')}`);
  check(consoleErrors.length === 0, `${name} (${viewport}): console errors: ${consoleErrors.join(' | ')}`);
  await page.screenshot({ path: path.join(shots, `${name}-${viewport}.png`), fullPage: true });
  return { page, context };
}

const text = (page, selector) => page.locator(selector).first().innerText();

for (const viewport of Object.keys(viewports)) {
  // Meta: its flows, Mistral AI with 5 in the diagram and in the table.
  {
    const { page, context } = await open('organization-meta', '/explore/organization/meta', viewport);
    check((await text(page, 'h1')) === 'Meta', 'the organization page is titled Meta');
    const labels = await page.locator('#flows svg text').allTextContents();
    check(labels.some((t) => /Mistral AI\s*5/.test(t)), `the diagram shows Mistral AI with 5 (labels: ${labels.join(' | ')})`);
    const row = (await page.locator('tr[data-flow="out:mistral"] td').allTextContents()).slice(1, 3).join('|');
    check(row === 'Mistral AI|5', `the flows table has Mistral AI with 5 (${row})`);
    check(await page.locator('#flows svg path').count() >= 7, 'the diagram draws a link per outbound flow');
    const alumni = await page.locator('h2', { hasText: 'Alumni' }).innerText();
    // The 11 authors who left, and Joelle Pineau, who led FAIR.
    check(alumni === 'Alumni (12)', `Meta has 12 alumni (${alumni})`);
    check(await page.locator('a[href="/explore/organization/fair"]').count() >= 1, 'FAIR is listed as a unit');
    check(await page.locator('#headcount svg path').count() >= 3, 'the headcount band is drawn');
    await context.close();
  }
  // The headcount on the paper's day: 14 certainly.
  {
    const { page, context } = await open('organization-meta-headcount', '/explore/organization/meta?from=2023-02-27&to=2025-02-27&interval=QUARTER', viewport);
    const first = (await page.locator('#headcount + details tbody tr').first().locator('td').allTextContents()).join('|');
    check(first === '2023-02-27|14|16', `on 2023-02-27 Meta had certainly 14, possibly 16 (${first})`);
    await context.close();
  }
  // A person's career: two bars, the paper's attestation as a mark, bars link to sources.
  {
    const { page, context } = await open('person-lample', '/explore/person/guillaume-lample', viewport);
    check((await text(page, 'h1')) === 'Guillaume Lample', 'the person page is titled Guillaume Lample');
    const bars = await page.locator('#timeline svg a[href^="#stint-"]').count();
    check(bars === 2, `two stints are drawn (${bars})`);
    check(await page.locator('#timeline svg .attestation').count() === 1, 'the paper\'s attestation is a mark');
    const table = await page.locator('table').innerText();
    check(table.includes('Mistral AI') && table.includes('Co-founder and Chief Scientist'), 'the stints are listed with titles');
    check(table.includes('seen in progress on 2023-02-27'), 'the attestation is listed with its date');
    check(await page.locator('a[href="https://arxiv.org/abs/2302.13971"]').count() >= 1, 'the paper is linked as a source');
    await context.close();
  }
  // The LLaMA cohort: 3 stayed, 11 left, Mistral AI 5.
  {
    const { page, context } = await open('publication-llama', '/explore/publication/llama-2023', viewport);
    check((await text(page, 'h1')).startsWith('LLaMA'), 'the publication page is titled LLaMA');
    check((await text(page, '[data-stat="stayed"]')).replace(/\s+/g, ' ') === '3 stayed', '3 stayed');
    check((await text(page, '[data-stat="left"]')).replace(/\s+/g, ' ') === '11 left', '11 left');
    const row = await page.locator('tr[data-flow="out:mistral"]').innerText();
    check(/Mistral AI\s+5/.test(row), `Mistral AI took 5 (${row})`);
    const labels = await page.locator('#retention svg text').allTextContents();
    check(labels.some((t) => /Mistral AI\s*5/.test(t)), 'the retention diagram shows Mistral AI with 5');
    check(await page.locator('ol li').count() === 14, 'all 14 authors are listed');
    await context.close();
  }
}

// The keyboard alone: search, then open a result.
{
  const { page, context } = await open('home', '/explore', 'desktop');
  // The page starts with focus on its title; back from it: the button, then the box.
  check(await page.evaluate(() => document.activeElement.tagName) === 'H1', 'focus starts on the page title');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'search-input', 'Shift+Tab reaches the search box');
  await page.keyboard.type('lample');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/explore/search?q=lample');
  await page.waitForSelector('.results a');
  check(await page.locator('.results a', { hasText: 'Guillaume Lample' }).count() === 1, 'search finds Guillaume Lample');
  await page.screenshot({ path: path.join(shots, 'search-desktop.png'), fullPage: true });
  await page.locator('.results a', { hasText: 'Guillaume Lample' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL('**/explore/person/guillaume-lample');
  await page.waitForSelector('#timeline svg');
  check(await page.evaluate(() => document.activeElement.tagName) === 'H1', 'after navigating, focus is on the page title');
  await page.goBack();
  await page.waitForSelector('.results a');
  check(page.url().endsWith('/explore/search?q=lample'), 'Back returns to the results');
  await context.close();
}

// Loading and error states are visible.
{
  const { page, context } = await open('loading', '/explore/organization/meta', 'desktop', {
    slowGraphql: true,
    beforeReady: async (p) => {
      await p.waitForSelector('.loading[role="status"]', { timeout: 5000 });
      check(true, 'loading');
      await p.screenshot({ path: path.join(shots, 'loading-state-desktop.png') });
    },
  });
  await context.close();
  const failed = await open('error', '/explore/organization/no-such-org', 'desktop');
  const alert = await failed.page.locator('[role="alert"]').innerText();
  check(alert.includes('no-such-org'), `an unknown slug shows an error (${alert})`);
  await failed.context.close();
}

await browser.close();
console.log(`explore pages: ${checks - failures} of ${checks} checks passed; screenshots in ${shots}`);
process.exit(failures ? 1 : 0);
