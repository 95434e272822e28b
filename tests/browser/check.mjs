// Drives the browser harness (tests/browser/harness.tsx, served by server.mjs)
// in Debian's Chromium with playwright-core: what a new user sees in the
// Lagwatch settings page and query editor. Exits non-zero on the first failed
// check. Usage: node tests/browser/check.mjs http://127.0.0.1:<port>
// (scripts/browser-check.sh builds the harness and runs the server first).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
// The answers the harness server sends (the Go handlers' output, canned/README.md).
const canned = (name) => JSON.parse(readFileSync(path.join(here, 'canned', `${name}.json`), 'utf8'));
const CHECK = canned('check');
const DISCOVER = canned('discover');

// A catalog without ollama, for the Add service flow (the example catalog has it).
const CHROMADB_CATALOG = [
  '# one service; Add service appends more',
  'services:',
  '  - name: chromadb',
  '    maintainer: community',
  '    upstream:',
  '      repo: chroma-core/chroma',
  '    chart:',
  '      repository: https://amikos-tech.github.io/chromadb-chart/',
  '      name: chromadb',
  '',
].join('\n');

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

/**
 * Saves a screenshot and checks its size: the whole page, or with `clip`
 * ({x, y, width, height} in page coordinates) only that part of it.
 */
async function screenshot(page, name, clip) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file, fullPage: true, ...(clip ? { clip } : {}) });
  const size = statSync(file).size;
  check(size < MAX_SCREENSHOT_BYTES, `${name} is under 300 KB (${Math.round(size / 1024)} KB)`);
}

/** The page area from the top of `from` to the bottom of `to` (locators), the page's width, with a margin. */
async function area(page, from, to, margin = 12) {
  const scroll = await page.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  const width = page.viewportSize().width;
  const y = Math.max(0, a.y + scroll.y - margin);
  return { x: 0, y, width, height: b.y + scroll.y + b.height + margin - y };
}

/** Pastes text into the catalog's Monaco editor, replacing it (Monaco auto-indents typed newlines, keeps pasted text). */
async function pasteCatalog(page, text) {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.locator('.monaco-editor').first().click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
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
  await pasteCatalog(page, BAD_CATALOG);
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
  // The whole page is about 4000 px tall (400 KB as PNG, over the limit): one screenshot per part
  // instead, the first 800 px (GitHub and OCI settings), the catalog with its error, and below the
  // Service check and Add service panels.
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'config-editor.png', { x: 0, y: 0, width: 1100, height: 800 });
  await screenshot(
    page,
    'config-catalog.png',
    await area(
      page,
      page.locator('legend', { hasText: /^Catalog$/ }),
      page.getByRole('list', { name: 'Catalog errors' })
    )
  );

  await urlSettings(page);
  await serviceCheck(page);
  await addService(page);
}

/** The end of life data URL and the OCI token hosts: a bad value is refused with the value named. */
async function urlSettings(page) {
  const eol = page.locator('#lagwatch-eol-url');
  check((await eol.getAttribute('placeholder')) === 'https://endoflife.date', 'EOL URL field shows the default');
  await eol.fill('ftp://endoflife.date');
  const eolError = '"ftp://endoflife.date" is not an http(s) URL: use one such as https://endoflife.date';
  await page.getByText(eolError, { exact: true }).waitFor();
  check(true, `EOL URL "ftp://endoflife.date" is refused, named: ${eolError}`);
  await eol.fill('https://u:p4ss@eol.example');
  await page
    .getByText('"https://u:xxxxx@eol.example": endoflife.date needs no credentials', { exact: false })
    .waitFor();
  check(
    !(await page.evaluate(() => document.body.innerText.includes('p4ss'))),
    'EOL URL with credentials is refused, named with the password masked'
  );
  await eol.fill('http://127.0.0.1:8080');
  let h = await harnessWhen(page, (x) => x.options.jsonData.eolUrl === 'http://127.0.0.1:8080');
  check(
    h.options.jsonData.eolUrl === 'http://127.0.0.1:8080' && !(await page.getByText(/is not an http\(s\) URL/).count()),
    'EOL URL http://127.0.0.1:8080 is accepted into jsonData.eolUrl',
    h.options.jsonData.eolUrl
  );

  const hosts = page.locator('#lagwatch-oci-token-hosts');
  await hosts.fill('auth.registry.example.com, 169.254.169.254');
  const hostsError = '"169.254.169.254" is a link-local or non-unicast address, never a token service';
  await page.getByText(hostsError, { exact: true }).waitFor();
  check(true, `OCI token hosts: a link-local entry is refused, named: ${hostsError}`);
  await hosts.fill('auth.registry.example.com https://login.example.net');
  await page.getByText('"https://login.example.net" is not a host name or HOST:PORT', { exact: true }).waitFor();
  check(true, 'OCI token hosts: a URL entry is refused, named');
  await hosts.fill('auth.registry.example.com, login.example.net:8443');
  h = await harnessWhen(
    page,
    (x) => x.options.jsonData.ociTokenHosts === 'auth.registry.example.com, login.example.net:8443'
  );
  check(
    h.options.jsonData.ociTokenHosts === 'auth.registry.example.com, login.example.net:8443' &&
      !(await page.getByText(/not a host name|never a token service/).count()),
    'OCI token hosts "auth.registry.example.com, login.example.net:8443" accepted into jsonData.ociTokenHosts',
    h.options.jsonData.ociTokenHosts
  );
}

/** The Service check panel: GET /check and GET /services of the saved settings, one entry per service. */
async function serviceCheck(page) {
  const list = page.getByRole('list', { name: 'Service check' });
  await list.waitFor();
  const h = await harness(page);
  check(
    h.requests.some((r) => r.method === 'GET' && r.url.endsWith('/resources/check')),
    'Service check asked GET /check'
  );
  const bad = CHECK.results.find((r) => !r.ok);
  const good = CHECK.results.length - CHECK.problems;
  const summary = `${CHECK.services} services: ${good} look right, ${CHECK.problems} has problems`;
  await page.getByText(summary, { exact: true }).waitFor();
  check(true, `Service check summary "${summary}"`);

  const ollama = list.getByRole('listitem', { name: 'Service ollama', exact: true });
  const ollamaText = await ollama.innerText();
  check(
    ollamaText.includes('looks right') && ollamaText.includes('Coverage: 20 of 20 (100 %)'),
    'Service check: ollama looks right, coverage 20 of 20 (100 %)',
    ollamaText
  );
  check(
    ollamaText.includes('Security: advisories') &&
      ollamaText.includes('End of life: none (no eol.product in the catalog)'),
    "Service check: ollama's security input (advisories) and none for end of life",
    ollamaText
  );

  const item = list.getByRole('listitem', { name: `Service ${bad.service}`, exact: true });
  const problems = await item
    .getByRole('list', { name: `Problems of ${bad.service}` })
    .getByRole('listitem')
    .allInnerTexts();
  check(
    JSON.stringify(problems) === JSON.stringify(bad.problems.map((p) => p.message)),
    `Service check: ${bad.service} lists its ${bad.problems.length} problems`,
    problems
  );
  check(
    (await item.innerText()).includes(`${bad.problems.length} problems`),
    `${bad.service} is badged "${bad.problems.length} problems"`
  );
  const fix = bad.fixes[0];
  const fixes = await item
    .getByRole('list', { name: `Fixes for ${bad.service}` })
    .getByRole('listitem')
    .allInnerTexts();
  const wantFix = `Set ${fix.field} to ${fix.value} — ${fix.evidence} (coverage then 20 of 20 (100 %))`;
  check(fixes.length === 1 && fixes[0].replace(/\s+/g, ' ') === wantFix, `Service check: fix "${wantFix}"`, fixes);
  await screenshot(
    page,
    'config-service-check.png',
    await area(page, page.getByRole('heading', { name: 'Service check' }), item)
  );
}

/** Add service: GET /discover for a chart, its verified proposal, appended to the inline catalog once. */
async function addService(page) {
  const proposal = DISCOVER.proposals[0];
  const name = proposal.service.name;
  // The bad catalog above names ollama: the proposal is offered but cannot be added twice.
  await page.locator('#lagwatch-discover-location').fill('ftp://charts.example');
  await page.getByRole('button', { name: 'Discover' }).click();
  await page
    .getByText('"ftp://charts.example" is neither an http(s) Helm repository URL nor an oci:// chart')
    .waitFor();
  check(true, 'Add service: "ftp://charts.example" is refused, named, before any request');
  await page.locator('#lagwatch-discover-location').fill(proposal.chart.repository);
  await page.locator('#lagwatch-discover-chart').fill(proposal.chart.name);
  await page.getByRole('button', { name: 'Discover' }).click();
  const item = page.getByRole('listitem', { name: `Proposal ${proposal.chart.name}` });
  await item.waitFor();
  let h = await harness(page);
  const asked = h.requests.filter((r) => r.url.includes('/resources/discover')).map((r) => r.url);
  check(
    asked.length === 1 &&
      asked[0].endsWith(
        `/resources/discover?${new URLSearchParams({ repo: proposal.chart.repository, chart: proposal.chart.name })}`
      ),
    'Add service asked GET /discover?repo=…&chart=ollama once',
    asked
  );
  const text = await item.innerText();
  check(
    text.includes('verified') && text.includes('Upstream ollama/ollama, coverage 20 of 20 (100 %)'),
    'Add service: the proposal is verified, upstream ollama/ollama, coverage 20 of 20 (100 %)',
    text
  );
  const evidence = await item
    .getByRole('list', { name: `Evidence for ${proposal.chart.name}` })
    .getByRole('listitem')
    .allInnerTexts();
  check(
    JSON.stringify(evidence) === JSON.stringify(proposal.evidence),
    'Add service: its evidence is listed',
    evidence
  );
  const present = page.getByRole('button', { name: `${name} is in the catalog` });
  check(await present.isDisabled(), `Add service: "${name} is in the catalog" (the bad catalog names it), disabled`);

  // A catalog without ollama: the entry is appended after the last service, with its evidence as comments.
  await pasteCatalog(page, CHROMADB_CATALOG);
  await page.getByText('Catalog is valid: 1 service').waitFor();
  await page.mouse.click(5, 5);
  await page.getByRole('button', { name: `Add ${name} to the catalog` }).click();
  await page.getByText(`Added ${name} to the inline catalog.`, { exact: false }).waitFor();
  h = await harnessWhen(page, (x) => x.options.jsonData.catalog !== CHROMADB_CATALOG);
  const catalog = h.options.jsonData.catalog;
  const appended = catalog.startsWith(CHROMADB_CATALOG) ? catalog.slice(CHROMADB_CATALOG.length) : '';
  check(
    appended.startsWith(`  # ${proposal.evidence[0]}\n`) &&
      appended.includes(`\n  - name: ${name}\n    maintainer: community\n    upstream:\n      repo: ollama/ollama\n`) &&
      appended.includes('\n      versionFrom: appVersion\n') &&
      appended.includes('\n    advisories:\n      ecosystem: go\n'),
    'Add service appends the entry (evidence as comments, upstream, versionFrom, advisories) after the catalog as it was',
    catalog
  );
  await page.getByText('Catalog is valid: 2 services').waitFor();
  check(true, 'the catalog with the added entry is validated: "Catalog is valid: 2 services"');
  await page.getByRole('button', { name: `${name} is in the catalog` }).waitFor();
  check(true, `Add service: the button now says "${name} is in the catalog"`);
  await screenshot(
    page,
    'config-add-service.png',
    await area(page, page.getByRole('heading', { name: 'Add service' }), item)
  );
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
    const severityShown = await minSeverity(page).isVisible();
    check(
      severityShown === (value === 'status'),
      `Minimum severity ${severityShown ? 'shown' : 'hidden'} for ${value} (metrics: lag)`
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
  await page.getByRole('option', { name: /^ollama community/ }).click();
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

const minSeverity = (page) => page.getByRole('radiogroup', { name: 'Minimum severity' });

/**
 * Opens the metrics menu and types a filter into it. The menu clears the input
 * as it opens, and the last filter stays after Escape: the filter is set once
 * the menu is open, and again until the input holds it.
 */
async function filterMetrics(page, filter) {
  const input = page.locator('#lagwatch-metrics');
  await input.click();
  await page.getByRole('option').first().waitFor();
  await until(async () => {
    if ((await input.inputValue()) === filter) {
      return true;
    }
    await input.fill(filter);
    return `the filter reads ${await input.inputValue()}`;
  }, `the metrics filter "${filter}"`);
}

/**
 * Which of the metric labels the metrics menu offers once `filter` is typed.
 * An option's accessible name is its label, a space and its description.
 */
async function metricsOffered(page, filter, labels) {
  await filterMetrics(page, filter);
  const found = [];
  for (const label of labels) {
    const option = page.getByRole('option', { name: new RegExp(`^${label} \\S`) });
    if (
      await option.waitFor({ timeout: 3000 }).then(
        () => true,
        () => false
      )
    ) {
      found.push(label);
    }
  }
  await page.keyboard.press('Escape');
  return found;
}

/**
 * Picks a minimum severity. The pointer first leaves the query type buttons,
 * whose hint tooltip can cover the field just below them.
 */
async function pickSeverity(page, label) {
  await page.mouse.move(0, 0);
  const radio = minSeverity(page).getByRole('radio', { name: label });
  await until(async () => {
    if (await radio.isChecked()) {
      return true;
    }
    await radio.click();
    return false;
  }, `Minimum severity ${label} checked`);
}

/** The security and end-of-life metrics, and the minimum severity they take (continues queryEditor's query). */
async function querySecurity(page) {
  await page.keyboard.press('Escape');
  check(!(await minSeverity(page).isVisible()), 'Minimum severity hidden: no security metric selected');
  const wantSecurity = [
    'Security fixes behind',
    'Security lag',
    'Security severity',
    'Deployed security fixes behind',
    'Deployed security lag',
    'Deployed security severity',
  ];
  const security = await metricsOffered(page, 'security', wantSecurity);
  check(
    security.length === wantSecurity.length,
    `metrics offer the security metrics: ${wantSecurity.join(', ')}`,
    security
  );
  const wantEol = ['End of life', 'Deployed end of life'];
  const wantSupport = ['Support left', 'Deployed support left'];
  const eol = [
    ...(await metricsOffered(page, 'end of life', wantEol)),
    ...(await metricsOffered(page, 'support left', wantSupport)),
  ];
  check(eol.length === 4, `metrics offer the end-of-life metrics: ${[...wantEol, ...wantSupport].join(', ')}`, eol);

  await filterMetrics(page, 'deployed security lag');
  await page.getByRole('option', { name: /^Deployed security lag/ }).click();
  await page.keyboard.press('Escape');
  let h = await harnessWhen(page, (x) => (x.query.metrics ?? []).includes('deployed_security_lag'));
  check(
    JSON.stringify(h.query.metrics) === '["lag","versions_behind","drift","deployed_lag","deployed_security_lag"]',
    'picked the metric deployed security lag',
    h.query.metrics
  );
  await minSeverity(page).waitFor();
  check(
    await minSeverity(page).getByRole('radio', { name: 'Any' }).isChecked(),
    'Minimum severity shown once a security metric is selected, Any checked'
  );
  const options = await minSeverity(page)
    .getByRole('radio')
    .evaluateAll((els) => els.map((e) => e.labels?.[0]?.innerText.trim()));
  check(
    JSON.stringify(options) === '["Any","Low","Medium","High","Critical"]',
    'Minimum severity offers Any, Low, Medium, High, Critical',
    options
  );
  await page.getByText('series get a min_severity label', { exact: false }).first().waitFor();
  check(true, 'Minimum severity says what it does (advisories rated at least this count; min_severity label)');

  await pickSeverity(page, 'High');
  h = await harnessWhen(page, (x) => x.query.minSeverity === 'high');
  check(h.query.minSeverity === 'high', 'selecting High writes minSeverity "high" into the query JSON', h.query);
  await page.setViewportSize({ width: 1100, height: 420 });
  await screenshot(page, 'query-editor-min-severity.png');

  await page.getByRole('radio', { name: 'Current', exact: true }).check();
  h = await harnessWhen(page, (x) => x.query.queryType === 'current');
  check(
    h.query.minSeverity === 'high' && (await minSeverity(page).getByRole('radio', { name: 'High' }).isChecked()),
    'a current query keeps minSeverity "high"',
    h.query
  );
  await page.getByRole('radio', { name: 'Events', exact: true }).check();
  h = await harnessWhen(page, (x) => x.query.queryType === 'events');
  check(
    !(await minSeverity(page).isVisible()) && h.query.minSeverity === undefined,
    'events: Minimum severity hidden and minSeverity dropped from the query (the backend refuses it there)',
    h.query
  );
  await page.getByRole('radio', { name: 'Status', exact: true }).check();
  await minSeverity(page).waitFor();
  await pickSeverity(page, 'Critical');
  h = await harnessWhen(page, (x) => x.query.queryType === 'status' && x.query.minSeverity === 'critical');
  check(
    h.query.minSeverity === 'critical',
    'status: Minimum severity shown, Critical writes minSeverity "critical"',
    h.query
  );
  await pickSeverity(page, 'Any');
  h = await harnessWhen(page, (x) => !('minSeverity' in x.query));
  check(!('minSeverity' in h.query), 'Any removes minSeverity from the query JSON', h.query);
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
  await querySecurity(page);
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
