import { templateVariable, templateVariableNames } from './templateVariables';
import {
  ALL_MARKERS,
  CURRENT_ONLY_METRICS,
  LAST_HOP_METRICS,
  EVENT_KIND_VALUES,
  EventKind,
  LagwatchQuery,
  Metric,
  METRIC_VALUES,
  QUERY_TYPE_VALUES,
  QueryType,
  MIN_SEVERITY_QUERY_TYPES,
  SECURITY_METRICS,
  Severity,
  SEVERITY_VALUES,
  WHAT_IF_QUERY_TYPES,
} from './types';
import { isSemver } from './versions';

/**
 * The metrics a query of this type may ask for: for `lag` (also an empty
 * queryType) every metric but the current-only ones (verdict); otherwise every
 * metric (`status` and `events` ignore the metrics).
 */
export function metricsFor(queryType: QueryType | undefined): Metric[] {
  return (queryType || 'lag') === 'lag'
    ? METRIC_VALUES.filter((m) => !CURRENT_ONLY_METRICS.includes(m))
    : METRIC_VALUES;
}

/**
 * Checks a query against the rules of the Go `models.ParseQuery`: a known
 * queryType (empty means lag), known metrics (verdict in current queries
 * only), known event kinds, a semver what-if version (or a dashboard
 * variable, which is interpolated before the backend reads it) and a known
 * minimum severity, outside events queries. Returns one message
 * per problem; empty when the backend would accept the query.
 */
export function validateQuery(q: LagwatchQuery): string[] {
  const errors: string[] = [];
  if (q.queryType && !QUERY_TYPE_VALUES.includes(q.queryType)) {
    errors.push(`queryType "${q.queryType}" is not one of ${QUERY_TYPE_VALUES.join(', ')}`);
  }
  for (const m of q.metrics ?? []) {
    if (!METRIC_VALUES.includes(m)) {
      errors.push(`metric "${m}" is not one of ${METRIC_VALUES.join(', ')}`);
    } else if (!metricsFor(q.queryType).includes(m)) {
      errors.push(`metric "${m}" has no history: use it in a current query, not in a lag query`);
    }
  }
  for (const k of q.eventKinds ?? []) {
    if (!EVENT_KIND_VALUES.includes(k)) {
      errors.push(`event kind "${k}" is not one of ${EVENT_KIND_VALUES.join(', ')}`);
    }
  }
  const deployed = q.deployedVersion?.trim() ?? '';
  // A dashboard variable is interpolated (and normalised) by applyTemplateVariables before the backend reads it.
  if (deployed !== '' && templateVariable(deployed) === null && !isSemver(deployed)) {
    errors.push(`deployedVersion (what-if version) "${q.deployedVersion}" is not a semver version`);
  }
  // Trimmed, and refused in events queries before its value is looked at, as models.ParseQuery does.
  const minSeverity = q.minSeverity?.trim() ?? '';
  if (minSeverity !== '') {
    if (q.queryType === 'events') {
      errors.push('minSeverity (minimum severity) applies to lag, current and status queries, not events: remove it');
    } else if (!SEVERITY_VALUES.includes(minSeverity as Severity)) {
      errors.push(`minSeverity "${minSeverity}" is not one of ${SEVERITY_VALUES.join(', ')}`);
    }
  }
  return errors;
}

/**
 * Reads stored query JSON (a panel target, an alert rule model or a file of
 * testdata/queries) into a LagwatchQuery, checking the type of each field.
 * Values are not checked here: use validateQuery.
 */
export function parseQuery(json: unknown): LagwatchQuery {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error('query JSON must be an object');
  }
  const o = json as Record<string, unknown>;
  const q: LagwatchQuery = { ...(o as object), refId: typeof o.refId === 'string' ? o.refId : '' };
  const str = (key: string) => {
    if (o[key] !== undefined && typeof o[key] !== 'string') {
      throw new Error(`${key} must be a string`);
    }
    return o[key] as string | undefined;
  };
  const list = (key: string) => {
    const v = o[key];
    if (v === undefined || v === null) {
      return undefined;
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw new Error(`${key} must be a list of strings`);
    }
    return v as string[];
  };
  q.queryType = str('queryType') as QueryType | undefined;
  q.maintainer = str('maintainer');
  q.deployedVersion = str('deployedVersion');
  q.minSeverity = str('minSeverity') as Severity | '' | undefined;
  q.services = list('services');
  q.metrics = list('metrics') as Metric[] | undefined;
  q.eventKinds = list('eventKinds') as EventKind[] | undefined;
  for (const key of [
    'queryType',
    'maintainer',
    'services',
    'metrics',
    'eventKinds',
    'deployedVersion',
    'minSeverity',
  ] as const) {
    if (q[key] === undefined) {
      delete q[key];
    }
  }
  return q;
}

/** True for the values the backend reads as "every service". */
export function isAllMarker(v: string): boolean {
  return ALL_MARKERS.includes(v.trim());
}

/**
 * Splits interpolated entries on commas, trims them and drops empties and
 * duplicates. When any entry is an all-marker the result is [] (all), so that
 * "All" never narrows the selection to the names listed next to it.
 */
export function normalizeNames(entries: string[]): string[] {
  const out: string[] = [];
  for (const raw of entries) {
    // A multi-value variable in Grafana's glob format: {a,b}.
    const trimmed = raw.trim();
    const entry = trimmed.startsWith('{') && trimmed.endsWith('}') ? trimmed.slice(1, -1) : raw;
    for (const part of entry.split(',')) {
      const name = part.trim();
      if (name === '') {
        continue;
      }
      if (isAllMarker(name)) {
        return [];
      }
      if (!out.includes(name)) {
        out.push(name);
      }
    }
  }
  return out;
}

/**
 * True when the query's metrics include a last-hop metric (deployed versions
 * behind, deployed lag, rollout lag), the only ones a what-if version changes.
 * An empty list means `["lag"]`.
 */
export function hasLastHopMetric(q: Pick<LagwatchQuery, 'metrics'>): boolean {
  return (q.metrics ?? []).some((m) => LAST_HOP_METRICS.includes(m));
}

/**
 * Whether the editor shows the what-if version field: always for status
 * queries; for lag and current queries when a last-hop metric is selected, or
 * when the query already holds a what-if version (so that it stays visible and
 * removable); never for events.
 */
export function showsWhatIfVersion(q: LagwatchQuery, queryType: QueryType): boolean {
  if (!WHAT_IF_QUERY_TYPES.includes(queryType)) {
    return false;
  }
  return queryType === 'status' || hasLastHopMetric(q) || (q.deployedVersion ?? '').trim() !== '';
}

/** True when the query's metrics include one that counts advisories (security_*, deployed_security_*). */
export function hasSecurityMetric(q: Pick<LagwatchQuery, 'metrics'>): boolean {
  return (q.metrics ?? []).some((m) => SECURITY_METRICS.includes(m));
}

/**
 * Whether the editor shows the minimum severity field: always for status
 * queries (their advisory columns); for lag and current queries when a
 * security metric is selected, or when the query already holds a minimum
 * severity (so that it stays visible and removable); never for events.
 */
export function showsMinSeverity(q: LagwatchQuery, queryType: QueryType): boolean {
  if (!MIN_SEVERITY_QUERY_TYPES.includes(queryType)) {
    return false;
  }
  return queryType === 'status' || hasSecurityMetric(q) || (q.minSeverity ?? '').trim() !== '';
}

/** What the editor knows of a dashboard variable (Grafana's TypedVariableModel has these fields). */
export interface VariableInfo {
  name: string;
  multi?: boolean;
  includeAll?: boolean;
}

/**
 * True when the services of a query may be more than one: empty (every
 * service), an all marker, several names, or a variable that can hold several
 * values (multi-value, or with an All option). A what-if version then applies
 * to each of them.
 */
export function coversSeveralServices(services: string[] | undefined, variables: VariableInfo[]): boolean {
  const names = normalizeNames(services ?? []);
  if (names.length !== 1) {
    return true;
  }
  return templateVariableNames(names[0]).some((name) => {
    const v = variables.find((x) => x.name === name);
    return !!v && (!!v.multi || !!v.includeAll);
  });
}
