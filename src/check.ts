import { getBackendSrv } from '@grafana/runtime';

import { ServicesResponse } from './types';

// The answers of GET /check and GET /discover (docs/catalog.md, "JSON shapes"),
// and what the config editor does with them.

/** Of the chart's last 20 versions, how many ship an upstream version. */
export interface Coverage {
  matched: number;
  of: number;
  /** 0–1; 1 when the chart has no version. */
  share: number;
  /** Packaged values that match no upstream version, newest chart first. */
  missing?: string[];
}

export interface LeftOut {
  cause: string;
  count: number;
  examples?: string[];
}

export interface CheckProblem {
  /** no-upstream-version, packaged-unknown-upstream, low-coverage, tags-not-versions, no-chart-version */
  kind: string;
  message: string;
}

export interface CheckFix {
  /** A catalog field such as upstream.tagPattern or chart.versionFrom. */
  field: string;
  /** Its new value as text. */
  value: string;
  evidence: string;
  coverage?: Coverage;
}

export interface CheckResult {
  service: string;
  ok: boolean;
  /** Set when the service's data could not be fetched (no coverage, upstream, chart then). */
  error?: string;
  coverage?: Coverage;
  upstream?: { source: string; fetched: number; kept: number };
  chart?: { fetched: number; kept: number; packaged: string; upstreamLatest: string };
  leftOut: LeftOut[];
  problems: CheckProblem[];
  fixes: CheckFix[];
  /** The catalog entry with every fix applied. */
  suggested?: Record<string, unknown>;
}

export interface CheckResponse {
  at: string;
  services: number;
  problems: number;
  failed: number;
  results: CheckResult[];
}

export interface Candidate {
  repo: string;
  from: string[];
  source: string;
  tagPattern: string;
  versionFrom: string;
  coverage?: Coverage;
  error?: string;
}

export interface Proposal {
  chart: { repository: string; name: string };
  verified: boolean;
  reason: string;
  /** The catalog entry (catalog field names); null unless verified. */
  service: Record<string, unknown> | null;
  evidence: string[];
  coverage?: Coverage;
  candidates: Candidate[];
}

export interface Unmatched {
  chart: string;
  version?: string;
  appVersion?: string;
  from?: string;
  reason: string;
}

export interface DiscoverResponse {
  proposals: Proposal[];
  unmatched: Unmatched[];
  /** A catalog of the verified proposals, ready to save. */
  yaml: string;
  requests: Record<string, number>;
}

/** What to discover: charts of an HTTP Helm repository (one or all), or one OCI chart. */
export type DiscoverInput = { repo: string; chart?: string } | { oci: string };

/** The path of a resource of the saved datasource, through Grafana. */
export function resourcePath(uid: string, resource: string): string {
  return `/api/datasources/uid/${encodeURIComponent(uid)}/resources/${resource}`;
}

/** GET a resource without Grafana's error toast: the panels show the error themselves. */
async function getResource<T>(uid: string, resource: string, params?: Record<string, string>): Promise<T> {
  return getBackendSrv().get<T>(resourcePath(uid, resource), params, undefined, {
    showErrorAlert: false,
    showSuccessAlert: false,
  });
}

/** GET /check: every service of the saved catalog. */
export async function fetchCheck(uid: string): Promise<CheckResponse> {
  return normalizeCheck(await getResource<Partial<CheckResponse>>(uid, 'check'));
}

/** GET /services of the saved catalog (with the optional advisories and eolProduct per service). */
export async function fetchServices(uid: string): Promise<ServicesResponse> {
  const r = await getResource<Partial<ServicesResponse>>(uid, 'services');
  return { services: list(r?.services), maintainers: list(r?.maintainers) };
}

/** GET /discover for one repository (one chart or all) or one OCI chart. */
export async function fetchDiscover(uid: string, input: DiscoverInput): Promise<DiscoverResponse> {
  const params: Record<string, string> =
    'oci' in input ? { oci: input.oci } : input.chart ? { repo: input.repo, chart: input.chart } : { repo: input.repo };
  return normalizeDiscover(await getResource<Partial<DiscoverResponse>>(uid, 'discover', params));
}

/** A list from an answer; anything else (missing, null) is an empty one. */
function list<T>(v: T[] | undefined | null): T[] {
  return Array.isArray(v) ? v : [];
}

/** Missing lists become empty ones, so that the panels need no checks. */
export function normalizeCheck(r: Partial<CheckResponse> | undefined): CheckResponse {
  const results = list(r?.results).map((x) => ({
    ...x,
    ok: !!x.ok,
    leftOut: list(x.leftOut),
    problems: list(x.problems),
    fixes: list(x.fixes),
  }));
  return {
    at: r?.at ?? '',
    services: r?.services ?? results.length,
    problems: r?.problems ?? results.filter((x) => !x.ok && !x.error).length,
    failed: r?.failed ?? results.filter((x) => !!x.error).length,
    results,
  };
}

export function normalizeDiscover(r: Partial<DiscoverResponse> | undefined): DiscoverResponse {
  return {
    proposals: list(r?.proposals).map((p) => ({
      ...p,
      verified: !!p.verified && !!p.service,
      reason: p.reason ?? '',
      service: p.service ?? null,
      evidence: list(p.evidence),
      candidates: list(p.candidates).map((c) => ({ ...c, from: list(c.from) })),
    })),
    unmatched: list(r?.unmatched),
    yaml: r?.yaml ?? '',
    requests: r?.requests ?? {},
  };
}

/** "20 of 20 (100 %)". */
export function coverageText(c: Coverage | undefined): string {
  if (!c) {
    return 'unknown';
  }
  return `${c.matched} of ${c.of} (${Math.round(c.share * 100)} %)`;
}

/**
 * Reads the "Add service" form: an oci:// reference, or an http(s) Helm
 * repository URL with an optional chart name (empty: every chart of the
 * repository). Returns the input or the message naming what is wrong.
 */
export function parseDiscoverInput(location: string, chart: string): DiscoverInput | { error: string } {
  const loc = location.trim();
  const name = chart.trim();
  if (loc === '') {
    return { error: 'Enter a Helm repository URL (https://…) or an OCI chart (oci://HOST/PATH/NAME)' };
  }
  if (/^oci:\/\//i.test(loc)) {
    if (!/^oci:\/\/[^/\s]+\/\S+[^/]$/i.test(loc)) {
      return { error: `"${loc}" is no OCI chart: use oci://HOST/PATH/NAME` };
    }
    return { oci: loc };
  }
  let u: URL | undefined;
  try {
    u = new URL(loc);
  } catch {
    u = undefined;
  }
  if (!u || !/^https?:\/\/[^/]/i.test(loc) || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    return { error: `"${loc}" is neither an http(s) Helm repository URL nor an oci:// chart` };
  }
  if (/\s/.test(name)) {
    return { error: `chart name "${name}" contains a space` };
  }
  return name ? { repo: loc, chart: name } : { repo: loc };
}

// Appending a discovered entry to the inline catalog.
//
// The catalog text is the user's: comments, order and quoting stay as they
// are. The entry is written as block YAML in which every string that is not
// a plain word is a JSON string (JSON strings are YAML double-quoted
// scalars), and inserted after the last line of the top-level `services:`
// list. The list ends at the next line that starts in column 0 and is not a
// list item or a comment (a top-level key, a document marker).

type ServicesBlock =
  | { kind: 'none' }
  | { kind: 'empty'; line: number; comment: string } // services: [] or a null
  | { kind: 'block'; line: number; end: number; indent: number | undefined }
  | { kind: 'error'; error: string };

const DOC_MARKER = /^(---|\.\.\.)(\s|$)/;

function findServices(lines: string[]): ServicesBlock {
  // One document: a leading --- is fine, a later one or a ... is not.
  const firstContent = lines.findIndex((l) => l.trim() !== '' && !/^\s*#/.test(l));
  if (lines.some((l, i) => DOC_MARKER.test(l) && (l.startsWith('...') || i > firstContent))) {
    return { kind: 'error', error: 'the catalog has several YAML documents' };
  }
  const keyLines = lines.map((l, i) => (/^services\s*:(\s|$)/.test(l) ? i : -1)).filter((i) => i >= 0);
  if (keyLines.length === 0) {
    return { kind: 'none' };
  }
  if (keyLines.length > 1) {
    return { kind: 'error', error: `the catalog has ${keyLines.length} services: keys` };
  }
  const line = keyLines[0];
  const rest = lines[line].replace(/^services\s*:/, '');
  const value = rest.replace(/(^|\s)#.*$/, '').trim();
  if (value === '[]' || value === '~' || value === 'null') {
    const comment = rest.match(/\s+#.*$/)?.[0] ?? '';
    return { kind: 'empty', line, comment };
  }
  if (value !== '') {
    return {
      kind: 'error',
      error:
        'services: is not written as a list of "- name: …" entries (flow style or an alias): add the entry by hand',
    };
  }
  let end = line; // last line of the list
  let indent: number | undefined;
  for (let i = line + 1; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === '') {
      continue;
    }
    if (DOC_MARKER.test(l)) {
      break;
    }
    const isComment = /^\s*#/.test(l);
    if (!isComment && !/^[\s-]/.test(l)) {
      break; // the next top-level key
    }
    if (/^\t|^ *\t/.test(l)) {
      return { kind: 'error', error: `line ${i + 1} is indented with a tab` };
    }
    if (!isComment && indent === undefined) {
      const m = l.match(/^( *)-(\s|$)/);
      if (!m) {
        return { kind: 'error', error: `services: is not a list (line ${i + 1})` };
      }
      indent = m[1].length;
    }
    // Comments in column 0 after the list belong to what follows it.
    if (!(isComment && !l.startsWith(' '))) {
      end = i;
    }
  }
  return { kind: 'block', line, end, indent };
}

const RESERVED = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

/** A YAML scalar: a plain word when it reads back as the same string, else a JSON (double-quoted) string. */
export function yamlScalar(v: string | number | boolean): string {
  if (typeof v !== 'string') {
    return String(v);
  }
  if (/^[A-Za-z][A-Za-z0-9._/-]*$/.test(v) && !RESERVED.test(v)) {
    return v;
  }
  // JSON leaves U+0085, U+2028 and U+2029 raw; YAML 1.1 readers take them for line breaks.
  return JSON.stringify(v).replace(
    /[\u0085\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  );
}

function yamlKey(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k);
}

function valueLines(v: unknown, indent: number): { inline?: string; lines?: string[] } {
  if (v === null || v === undefined) {
    return {};
  }
  if (Array.isArray(v)) {
    if (v.length === 0) {
      return { inline: '[]' };
    }
    const pad = ' '.repeat(indent);
    const lines: string[] = [];
    for (const item of v) {
      const sub = valueLines(item, indent + 2);
      if (sub.inline !== undefined) {
        lines.push(`${pad}- ${sub.inline}`);
      } else if (sub.lines?.length) {
        lines.push(`${pad}- ${sub.lines[0].slice(indent + 2)}`, ...sub.lines.slice(1));
      } else {
        lines.push(`${pad}- null`);
      }
    }
    return { lines };
  }
  if (typeof v === 'object') {
    const lines = mappingLines(v as Record<string, unknown>, indent);
    return lines.length ? { lines } : { inline: '{}' };
  }
  if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
    return { inline: yamlScalar(v) };
  }
  return {};
}

function mappingLines(o: Record<string, unknown>, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const sub = valueLines(v, indent + 2);
    if (sub.inline !== undefined) {
      lines.push(`${pad}${yamlKey(k)}: ${sub.inline}`);
    } else if (sub.lines) {
      lines.push(`${pad}${yamlKey(k)}:`, ...sub.lines);
    }
  }
  return lines;
}

/** One list entry of `services:` at the given indentation, after its comment lines. */
export function serviceEntryLines(service: Record<string, unknown>, indent: number, comments: string[] = []): string[] {
  const pad = ' '.repeat(indent);
  const body = mappingLines(service, indent + 2);
  if (body.length === 0) {
    return [];
  }
  return [
    ...comments.map((c) => `${pad}# ${c.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ')}`),
    `${pad}- ${body[0].slice(indent + 2)}`,
    ...body.slice(1),
  ];
}

/**
 * The catalog text with the service appended to its top-level `services:`
 * list (created when the catalog has none), or why it cannot be done safely.
 */
export function appendService(
  catalog: string,
  service: Record<string, unknown>,
  comments: string[] = []
): { catalog: string } | { error: string } {
  const lines = catalog.replace(/\r\n/g, '\n').split('\n');
  const found = findServices(lines);
  if (found.kind === 'error') {
    return { error: `Cannot append to the inline catalog: ${found.error}` };
  }
  const indent = found.kind === 'block' && found.indent !== undefined ? found.indent : 2;
  const entry = serviceEntryLines(service, indent, comments);
  if (entry.length === 0) {
    return { error: 'The proposal has no catalog entry' };
  }
  let out: string[];
  switch (found.kind) {
    case 'none': {
      const kept = catalog.trim() === '' ? [] : trimTrailingBlank(lines);
      out = [...kept, 'services:', ...entry];
      break;
    }
    case 'empty':
      out = [...lines.slice(0, found.line), `services:${found.comment}`, ...entry, ...lines.slice(found.line + 1)];
      break;
    case 'block':
      out = [...lines.slice(0, found.end + 1), ...entry, ...lines.slice(found.end + 1)];
      break;
  }
  const text = out.join('\n');
  return { catalog: text.endsWith('\n') ? text : `${text}\n` };
}

function trimTrailingBlank(lines: string[]): string[] {
  let n = lines.length;
  while (n > 0 && lines[n - 1].trim() === '') {
    n--;
  }
  return lines.slice(0, n);
}

/**
 * The names of the services already in the catalog text: the `name:` of each
 * entry of the top-level `services:` list (a text scan, for the "already in
 * the catalog" hint; the backend's validation is the judge).
 */
export function catalogServiceNames(catalog: string): string[] {
  const lines = catalog.replace(/\r\n/g, '\n').split('\n');
  const found = findServices(lines);
  if (found.kind !== 'block' || found.indent === undefined) {
    return [];
  }
  const first = new RegExp(`^ {${found.indent}}-\\s+name\\s*:\\s*(.*)$`);
  const later = new RegExp(`^ {${found.indent + 2}}name\\s*:\\s*(.*)$`);
  const names: string[] = [];
  for (const l of lines.slice(found.line + 1, found.end + 1)) {
    const m = l.match(first) ?? l.match(later);
    if (m) {
      names.push(unquote(m[1].replace(/\s+#.*$/, '').trim()));
    }
  }
  return names;
}

function unquote(v: string): string {
  if (v.startsWith('"')) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) {
    return v.slice(1, -1).replace(/''/g, "'");
  }
  return v;
}
