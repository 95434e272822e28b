// Drives the browser harness (tests/browser/harness.tsx, served by server.mjs)
// in Debian's Chromium with playwright-core: what a new user sees in the
// Lagwatch settings page and query editor. Exits non-zero on the first failed
// check. Usage: node tests/browser/check.mjs http://127.0.0.1:<port>
// (scripts/browser-check.sh builds the harness and runs the server first).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = process.argv[2];
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(here, 'screenshots');
const TOKEN = 'ghp_harnessTOKEN0123456789abcdef';
const TIMEOUT_MS = 15000;
const WATCHDOG_MS = 180000;
const MAX_SCREENSHOT_BYTES = 300 * 1024;

// The catalog of the brief: `repo: ollama` (line 5) is not owner/name.
const BAD_CATALOG = [
  'services:',
  '  - name: ollama',
  '    maintainer: community',
  '    upstream:',
  '      repo: ollama',
  '    chart:',
  '      repository: https://otwld.github.io/ollama-helm/',
  '      name: ollama',
  '',
].join('\n');

const HINTS = {
  'Lag over time': ['lag', 'Time series, one per service and metric: how the lag changed over the time range.'],
  Current: ['current', 'One number per service and metric at the end of the range: for Stat, Gauge and alert rules.'],
  Status: [
    'status',
    'Table with one row per service: upstream, chart and deployed versions, lag, age and the verdict.',
  ],
  Events: [
    'events',
    'Releases, deployed-version changes and ship forecasts as rows with time, title and tags: for annotations.',
  ],
};

if (!base) {
  console.error('usage: node tests/browser/check.mjs http://127.0.0.1:<port>');
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.error(`browser check: gave up after ${WATCHDOG_MS / 1000}s`);
  process.exit(3);
}, WATCHDOG_MS);

let passed = 0;
function check(cond, what, detail) {
  if (!cond) {
    throw new Error(`FAIL: ${what}${detail === undefined ? '' : `\n  got: ${JSON.stringify(detail)}`}`);
  }
  passed++;
  console.log(`ok   ${what}`);
}

async function harness(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.lagwatchHarness)));
}

/**
 * The harness state once ready(state) holds, or the last state after TIMEOUT_MS
 * (the check that follows then fails with it): React applies some changes
 * (Combobox selections) a moment after the click.
 */
async function harnessWhen(page, ready) {
  const end = Date.now() + TIMEOUT_MS;
  let h = await harness(page);
  while (!ready(h) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    h = await harness(page);
  }
  return h;
}

/** Polls fn until it returns true (bounded), for state the page updates asynchronously. */
async function until(fn, what, timeoutMs = TIMEOUT_MS) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last === true) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`FAIL: timed out waiting for ${what}${last !== false && last !== undefined ? `: ${last}` : ''}`);
}

async function screenshot(page, name) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file, fullPage: true });
  const size = statSync(file).size;
  check(size < MAX_SCREENSHOT_BYTES, `${name} is under 300 KB (${Math.round(size / 1024)} KB)`);
}

async function configEditor(page) {
  await page.goto(`${base}/?view=config`);
  await page.getByRole('heading', { name: 'Lagwatch settings' }).waitFor();

  // 1. The token field masks what is typed, and the token goes to secureJsonData only.
  const token = page.locator('#lagwatch-github-token');
  await token.fill(TOKEN);
  check((await token.getAttribute('type')) === 'password', 'token input is a password field (masked)');
  let h = await harness(page);
  check(h.options.secureJsonData?.githubToken === TOKEN, 'typed token is in secureJsonData.githubToken');
  check(!JSON.stringify(h.options.jsonData).includes(TOKEN), 'typed token is not in jsonData');

  // 2. After Save Grafana only reports secureJsonFields.githubToken = true: "configured", never the token.
  await page.evaluate(() => window.lagwatchHarness.save());
  const configured = page.locator('#lagwatch-github-token');
  await until(async () => (await configured.inputValue()) === 'configured', 'token field to show "configured"');
  check(await configured.isDisabled(), 'saved token field is disabled and shows "configured"');
  await page.getByRole('button', { name: 'Reset' }).waitFor();
  check(true, 'saved token field offers Reset');
  const leaks = await page.evaluate((t) => {
    const inDom = document.documentElement.outerHTML.includes(t);
    const inInputs = [...document.querySelectorAll('input, textarea')].some((el) => el.value.includes(t));
    return { inDom, inInputs };
  }, TOKEN);
  check(!leaks.inDom && !leaks.inInputs, 'token is nowhere in the DOM or input values after save', leaks);

  // 3. The YAML editor (Grafana's CodeEditor, real Monaco in this harness) and the example catalog.
  const editor = page.locator('.monaco-editor').first();
  await editor.waitFor({ timeout: 30000 });
  check(true, 'catalog CodeEditor (Monaco) rendered');
  await page.getByRole('button', { name: 'Insert example catalog' }).click();
  await page.getByText('Catalog is valid: 4 services').waitFor();
  check(true, 'example catalog validated by POST /validate: "Catalog is valid: 4 services"');
  h = await harness(page);
  const posted = h.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/resources/validate'));
  check(
    posted.length >= 1 && posted.at(-1).data.catalog.includes('name: gpu-operator'),
    'validate was posted the example catalog',
    posted.map((r) => r.url)
  );
  check(
    await page
      .locator('.view-lines')
      .first()
      .innerText()
      .then((t) => t.replace(/\u00a0/g, ' ').includes('name: ollama')),
    'example catalog is visible in the editor'
  );

  // 4. A bad catalog typed into the editor is listed with line, service and field.
  // Pasted, as a user would: Monaco auto-indents typed newlines, but keeps pasted text as it is.
  await page.evaluate((text) => navigator.clipboard.writeText(text), BAD_CATALOG);
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
  await page.getByText('Catalog has 1 problem').waitFor();
  check(true, 'bad catalog: "Catalog has 1 problem"');
  const errors = page.getByRole('list', { name: 'Catalog errors' }).getByRole('listitem');
  const items = await errors.allInnerTexts();
  check(
    items.length === 1 && items[0] === 'Line 5, service ollama, upstream.repo: "ollama" is not a GitHub owner/name',
    'error listed as Line 5, service ollama, upstream.repo: "ollama" is not a GitHub owner/name',
    items
  );
  h = await harnessWhen(page, (x) => x.options.jsonData.catalog === BAD_CATALOG);
  check(
    h.options.jsonData.catalog === BAD_CATALOG,
    'jsonData.catalog holds exactly the typed catalog',
    h.options.jsonData.catalog
  );
  check(h.options.secureJsonFields.githubToken === true, 'token stays configured while the catalog is edited');
  check(!JSON.stringify(h.options).includes(TOKEN), 'token is nowhere in the saved settings model');

  await page.mouse.click(5, 5); // blur the editor: no cursor or selection highlight in the screenshot
  await screenshot(page, 'config-editor.png');
}

async function queryEditor(page) {
  await page.goto(`${base}/?view=query`);
  await page.getByRole('heading', { name: 'Query A · Lagwatch' }).waitFor();
  await until(
    async () => (await harness(page)).requests.some((r) => r.method === 'GET' && r.url.endsWith('/resources/services')),
    'GET /services'
  );
  check(true, 'query editor loaded the catalog with GET /services');

  // Each query type shows its hint; Metrics only for lag/current, Event kinds only for events.
  for (const label of ['Current', 'Status', 'Events', 'Lag over time']) {
    const [value, hint] = HINTS[label];
    await page.getByRole('radio', { name: label, exact: true }).check();
    // The hint is the description under the field label (the option's tooltip repeats it on hover).
    await page.locator('label', { hasText: 'Query type' }).getByText(hint, { exact: true }).waitFor();
    const h = await harnessWhen(page, (x) => x.query.queryType === value);
    check(h.query.queryType === value, `query type "${label}" sets queryType ${value} and shows its hint`);
    const metricsShown = await page.locator('#lagwatch-metrics').isVisible();
    check(
      metricsShown === (value === 'lag' || value === 'current'),
      `Metrics field ${metricsShown ? 'shown' : 'hidden'} for ${value}`
    );
    const kindsShown = await page.getByText('Upstream releases', { exact: true }).isVisible();
    check(kindsShown === (value === 'events'), `Event kinds ${kindsShown ? 'shown' : 'hidden'} for ${value}`);
    // The what-if version: always for status; for lag and current only with a last-hop metric (not the default lag).
    const whatIfShown = await page.locator('#lagwatch-what-if-version').isVisible();
    check(
      whatIfShown === (value === 'status'),
      `What-if version ${whatIfShown ? 'shown' : 'hidden'} for ${value} (metrics: lag)`
    );
  }

  // Services come from GET /services (plus the dashboard variables).
  await page.locator('#lagwatch-services').click();
  const options = page.getByRole('option');
  await options.first().waitFor();
  const offered = await options.allInnerTexts();
  for (const name of ['ollama', 'chromadb', 'vllm-stack', 'gpu-operator', '$service']) {
    check(
      offered.some((t) => t.split('\n')[0].trim() === name),
      `services select offers ${name}`,
      offered
    );
  }
  check(
    offered.some((t) => t.includes('vendor · vllm-project/production-stack')),
    'service options describe maintainer and repo'
  );
  await page.getByRole('option', { name: /^ollama/ }).click();
  await page.getByRole('option', { name: /^vllm-stack/ }).click();
  await page.keyboard.press('Escape');
  const services = '["ollama","vllm-stack"]';
  let h = await harnessWhen(page, (x) => JSON.stringify(x.query.services) === services);
  check(JSON.stringify(h.query.services) === services, 'picked services ollama, vllm-stack', h.query.services);

  // Maintainer select is fed by the same catalog.
  await page.locator('#lagwatch-maintainer').click();
  await page.getByRole('option', { name: /^vendor/ }).click();
  h = await harnessWhen(page, (x) => x.query.maintainer === 'vendor');
  check(h.query.maintainer === 'vendor', 'picked maintainer vendor', h.query.maintainer);

  // Metrics: lag is preselected; add versions behind and drift.
  await page.locator('#lagwatch-metrics').click();
  await page.getByRole('option', { name: /^Versions behind/ }).click();
  await page.getByRole('option', { name: /^Drift/ }).click();
  await page.keyboard.press('Escape');
  const metrics = '["lag","versions_behind","drift"]';
  h = await harnessWhen(page, (x) => JSON.stringify(x.query.metrics) === metrics);
  check(JSON.stringify(h.query.metrics) === metrics, 'picked metrics lag, versions behind, drift', h.query.metrics);
  check(
    h.requests.some((r) => r.method === 'RUN'),
    'changes call onRunQuery'
  );
  const whatIf = page.locator('#lagwatch-what-if-version');
  check(!(await whatIf.isVisible()), 'What-if version hidden: no last-hop metric selected');

  // A last-hop metric brings the what-if version field.
  await page.locator('#lagwatch-metrics').click();
  await page.getByRole('option', { name: /^Deployed lag/ }).click();
  await page.keyboard.press('Escape');
  const lastHop = '["lag","versions_behind","drift","deployed_lag"]';
  h = await harnessWhen(page, (x) => JSON.stringify(x.query.metrics) === lastHop);
  check(JSON.stringify(h.query.metrics) === lastHop, 'picked the last-hop metric deployed lag', h.query.metrics);
  await whatIf.waitFor();
  check(await whatIf.isVisible(), 'What-if version shown once a last-hop metric is selected');
  // Two services: the what-if version applies to each.
  await page.getByText('applies to every service of this query', { exact: true }).waitFor();
  check(true, 'What-if version warns "applies to every service of this query" for two services');

  // What-if version: checked with semver in the browser; an invalid one is named and never sent.
  await whatIf.fill('newest');
  await whatIf.press('Enter');
  await page.getByText('"newest"').first().waitFor();
  h = await harness(page);
  check(h.query.deployedVersion === undefined, 'what-if "newest" is refused with its value named, not sent', h.query);
  await page.setViewportSize({ width: 1100, height: 420 });
  await screenshot(page, 'query-editor-what-if.png');
  await whatIf.fill('v0.12');
  await page.getByText('Read as 0.12.0').waitFor();
  check(true, 'what-if "v0.12" is read as 0.12.0 while typing');
  await whatIf.press('Enter');
  h = await harnessWhen(page, (x) => x.query.deployedVersion === '0.12.0');
  check(h.query.deployedVersion === '0.12.0', 'what-if "v0.12" is sent as deployedVersion 0.12.0', h.query);

  // No guessing: a name with a digit is refused (semver.coerce would read main2 as 2.0.0).
  await whatIf.fill('main2');
  await whatIf.press('Enter');
  await page.getByText('"main2" is not a semver version', { exact: false }).first().waitFor();
  h = await harness(page);
  check(h.query.deployedVersion === '0.12.0', 'what-if "main2" is refused, the previous 0.12.0 is kept', h.query);

  // A dashboard variable is stored as typed, with its hint.
  await whatIf.fill('$version');
  await page.getByText('a dashboard variable: its value is checked when the query runs', { exact: true }).waitFor();
  await whatIf.press('Enter');
  h = await harnessWhen(page, (x) => x.query.deployedVersion === '$version');
  check(
    h.query.deployedVersion === '$version',
    'what-if "$version" is stored as typed, with the variable hint',
    h.query
  );
  await whatIf.fill('v0.12');
  await whatIf.press('Enter');
  h = await harnessWhen(page, (x) => x.query.deployedVersion === '0.12.0');
  check(h.query.deployedVersion === '0.12.0', 'what-if back to 0.12.0', h.query);

  // Screenshot with the services menu open: the catalog's services and their descriptions.
  await page.setViewportSize({ width: 1100, height: 580 });
  await page.locator('#lagwatch-services').click();
  await page.getByRole('option', { name: /^chromadb/ }).waitFor();
  await screenshot(page, 'query-editor.png');
  await page.keyboard.press('Escape');
}

const userDataDir = mkdtempSync(path.join(tmpdir(), 'lagwatch-chromium-'));
let context;
let failed = false;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1100, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
    timeout: 60000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('response', (res) => {
    // Grafana serves its fonts (Inter, Roboto Mono) and spinner.svg itself; no npm package ships them.
    const known = /\/public\/fonts\/|\/icons\/unicons\/spinner\.svg$/.test(res.url());
    if (res.status() >= 400 && !known) {
      console.log(`     [browser] HTTP ${res.status()} ${res.url()}`);
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      console.log(`     [browser console.error] ${msg.text().slice(0, 300)}`);
    }
  });
  // Nothing but the harness server: the page must not reach the internet.
  await context.route(
    (url) => !url.href.startsWith(base),
    (route) => route.abort()
  );

  await configEditor(page);
  await queryEditor(page);
  check(pageErrors.length === 0, 'no uncaught errors in the page', pageErrors);
  console.log(`\nbrowser check: ${passed} checks passed; screenshots in ${path.relative(process.cwd(), shots)}/`);
} catch (err) {
  failed = true;
  console.error(err.message ?? err);
  if (context) {
    const page = context.pages()[0];
    await page
      ?.screenshot({ path: path.join(tmpdir(), 'lagwatch-browser-failure.png'), fullPage: true })
      .catch(() => {});
    console.error(`page at failure: ${path.join(tmpdir(), 'lagwatch-browser-failure.png')}`);
  }
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
