import { load } from 'js-yaml';

import {
  appendService,
  catalogServiceNames,
  coverageText,
  normalizeCheck,
  normalizeDiscover,
  parseDiscoverInput,
  serviceEntryLines,
  yamlScalar,
} from './check';
import { EXAMPLE_CATALOG } from './exampleCatalog';

// The proposal of docs/catalog.md (GET /discover), with a pattern full of backslashes.
const OLLAMA = {
  name: 'ollama',
  maintainer: 'community',
  upstream: { repo: 'ollama/ollama', source: 'tags', tagPattern: '^v(\\d+\\.\\d+\\.\\d+)$' },
  chart: { repository: 'https://otwld.github.io/ollama-helm/', name: 'ollama', versionFrom: 'appVersion' },
};
const EVIDENCE = [
  "upstream ollama/ollama: named by the chart's sources",
  'tags: keeps 245 of 635 tags; 20 of 20 match',
];

type Catalog = { services: Array<Record<string, unknown>> } & Record<string, unknown>;

function appended(catalog: string, service: Record<string, unknown> = OLLAMA): string {
  const r = appendService(catalog, service, EVIDENCE);
  if ('error' in r) {
    throw new Error(r.error);
  }
  return r.catalog;
}

describe('appendService', () => {
  it('appends to the example catalog, keeping its text, and the result parses to the old services plus the new one', () => {
    const before = load(EXAMPLE_CATALOG) as Catalog;
    const text = appended(EXAMPLE_CATALOG.replace(/ollama/g, 'llama'));
    expect(text.startsWith(EXAMPLE_CATALOG.replace(/ollama/g, 'llama').trimEnd())).toBe(true);
    const after = load(text) as Catalog;
    expect(after.services).toHaveLength(before.services.length + 1);
    expect(after.services[after.services.length - 1]).toEqual(OLLAMA);
    expect(text).toContain("# upstream ollama/ollama: named by the chart's sources");
    expect(catalogServiceNames(text)).toEqual([
      ...before.services.map((s) => String(s.name).replace(/ollama/g, 'llama')),
      'ollama',
    ]);
  });

  it('inserts before the next top-level key and keeps it', () => {
    const catalog = [
      '# my services',
      'services:',
      '  - name: a',
      '    upstream: {repo: a/a}',
      '    chart:',
      '      repository: https://a.example/charts',
      '      name: a',
      '    # a comment inside the entry',
      '',
      '# settings after the list',
      'defaults:',
      '  maintainer: community',
      '',
    ].join('\n');
    const text = appended(catalog);
    const doc = load(text) as Catalog;
    expect(doc.services.map((s) => s.name)).toEqual(['a', 'ollama']);
    expect(doc.defaults).toEqual({ maintainer: 'community' });
    const lines = text.split('\n');
    expect(lines.indexOf('  - name: ollama')).toBeLessThan(lines.indexOf('# settings after the list'));
    expect(lines.indexOf('  - name: ollama')).toBeGreaterThan(lines.indexOf('    # a comment inside the entry'));
  });

  it('follows the indentation of the list, also a list in column 0', () => {
    for (const indent of [0, 4]) {
      const pad = ' '.repeat(indent);
      const catalog = `services:\n${pad}- name: a\n${pad}  chart: {name: a}\nother: 1\n`;
      const text = appended(catalog);
      expect(text).toContain(`\n${pad}- name: ollama\n${pad}  maintainer: community\n`);
      const doc = load(text) as Catalog;
      expect(doc.services.map((s) => s.name)).toEqual(['a', 'ollama']);
      expect(doc.other).toBe(1);
    }
  });

  it('writes a whole catalog when there is none, and adds services: to a catalog without it', () => {
    for (const empty of ['', '\n\n', '   ']) {
      const doc = load(appended(empty)) as Catalog;
      expect(doc.services).toEqual([OLLAMA]);
    }
    const doc = load(appended('# just a comment\n\n')) as Catalog;
    expect(doc.services).toEqual([OLLAMA]);
    expect(appended('---\n# notes\n')).toMatch(/^---\n# notes\nservices:\n {2}# upstream/);
  });

  it('fills an empty list, an empty flow list and a null, keeping a comment', () => {
    for (const catalog of ['services:\n', 'services: []  # none yet\n', 'services: ~\n', 'services:\nfoo: 1']) {
      const doc = load(appended(catalog)) as Catalog;
      expect(doc.services).toEqual([OLLAMA]);
    }
    expect(appended('services: []  # none yet\n')).toMatch(/^services:  # none yet\n/);
  });

  it('keeps CRLF catalogs valid', () => {
    const doc = load(appended('services:\r\n  - name: a\r\n')) as Catalog;
    expect(doc.services.map((s) => s.name)).toEqual(['a', 'ollama']);
  });

  it('refuses what it cannot append to safely, with the reason', () => {
    const refused: Array<[string, RegExp]> = [
      ['services: [{name: a}]\n', /flow style/],
      ['services: *all\n', /flow style or an alias/],
      ['services:\n  name: a\n', /not a list/],
      ['services:\n  - name: a\nservices:\n  - name: b\n', /2 services: keys/],
      ['services:\n\t- name: a\n', /tab/],
      ['services:\n  - name: a\n---\nservices: []\n', /several YAML documents/],
    ];
    for (const [catalog, why] of refused) {
      const r = appendService(catalog, OLLAMA);
      expect('error' in r && r.error).toMatch(why);
    }
    expect(appendService('services:\n', {})).toEqual({ error: 'The proposal has no catalog entry' });
  });

  it('quotes every value that would not read back as the same string', () => {
    const tricky = {
      name: 'yes',
      maintainer: 'vendor',
      upstream: { repo: 'a/b', tagPattern: 'v: #1 "x" \\d', prereleases: true },
      chart: { repository: 'oci://ghcr.io/a/b', name: '1.10', versionFrom: 'null' },
      deployed: { prometheus: { query: 'x{a="b"}\nline2', label: 'on' } },
      weird: ['-', '', 'plain', '\u2028'],
      'key with space': 3,
    };
    const doc = load(appended('services:\n', tricky)) as Catalog;
    expect(doc.services[0]).toEqual(tricky);
    expect(yamlScalar('ollama/ollama')).toBe('ollama/ollama');
    expect(yamlScalar('1.30.0')).toBe('"1.30.0"');
    expect(yamlScalar('No')).toBe('"No"');
  });

  it('writes comments on one line each and skips null fields', () => {
    const lines = serviceEntryLines({ name: 'a', deployed: null, chart: { name: 'a' } }, 2, ['two\nlines']);
    expect(lines).toEqual(['  # two lines', '  - name: a', '    chart:', '      name: a']);
  });
});

describe('catalogServiceNames', () => {
  it('reads the names of the entries, not of their charts', () => {
    const catalog =
      'services:\n  - name: "a b"\n    chart:\n      name: chart-a\n  - chart: {name: x}\n    name: c # c\n';
    expect(catalogServiceNames(catalog)).toEqual(['a b', 'c']);
    expect(catalogServiceNames('')).toEqual([]);
  });
});

describe('parseDiscoverInput', () => {
  it('reads a repository with or without a chart, and an OCI chart', () => {
    expect(parseDiscoverInput(' https://otwld.github.io/ollama-helm/ ', ' ollama ')).toEqual({
      repo: 'https://otwld.github.io/ollama-helm/',
      chart: 'ollama',
    });
    expect(parseDiscoverInput('http://127.0.0.1:8080/charts', '')).toEqual({ repo: 'http://127.0.0.1:8080/charts' });
    expect(parseDiscoverInput('oci://ghcr.io/open-webui/helm-charts/open-webui', 'ignored')).toEqual({
      oci: 'oci://ghcr.io/open-webui/helm-charts/open-webui',
    });
  });

  it('names what is wrong', () => {
    expect(parseDiscoverInput('', '')).toEqual({ error: expect.stringMatching(/Enter a Helm repository URL/) });
    expect(parseDiscoverInput('oci://ghcr.io', '')).toEqual({
      error: expect.stringMatching(/"oci:\/\/ghcr.io" is no OCI chart/),
    });
    expect(parseDiscoverInput('oci://ghcr.io/a/', '')).toEqual({ error: expect.stringMatching(/no OCI chart/) });
    expect(parseDiscoverInput('otwld.github.io/ollama-helm', '')).toEqual({
      error: expect.stringMatching(/"otwld.github.io\/ollama-helm" is neither/),
    });
    expect(parseDiscoverInput('ftp://x/y', '')).toEqual({ error: expect.stringMatching(/neither/) });
    expect(parseDiscoverInput('https://x/y', 'a b')).toEqual({ error: 'chart name "a b" contains a space' });
  });
});

describe('answers', () => {
  it('fills missing lists and counts', () => {
    const check = normalizeCheck({
      results: [
        { service: 'a', ok: true } as never,
        { service: 'b', ok: false, problems: [{ kind: 'low-coverage', message: 'm' }] } as never,
        { service: 'c', ok: false, error: 'boom' } as never,
      ],
    });
    expect(check).toMatchObject({ services: 3, problems: 1, failed: 1, at: '' });
    expect(check.results[0]).toEqual({ service: 'a', ok: true, leftOut: [], problems: [], fixes: [] });

    const discover = normalizeDiscover({
      proposals: [{ chart: { repository: 'r', name: 'n' }, verified: true, service: null } as never],
    });
    expect(discover.proposals[0]).toMatchObject({ verified: false, evidence: [], candidates: [], reason: '' });
    expect(discover).toMatchObject({ unmatched: [], yaml: '', requests: {} });
  });

  it('writes coverage as a count and a share', () => {
    expect(coverageText({ matched: 7, of: 20, share: 0.35 })).toBe('7 of 20 (35 %)');
    expect(coverageText(undefined)).toBe('unknown');
  });
});
