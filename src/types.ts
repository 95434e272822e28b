import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/**
 * Query types. The type travels in the standard DataQuery `queryType` field,
 * exactly as in pkg/models/query.go.
 */
export type QueryType = 'lag' | 'current' | 'status' | 'events';

/** Metrics of the `lag` and `current` query types. */
export type Metric =
  | 'lag'
  | 'versions_behind'
  | 'drift'
  | 'chart_age'
  | 'is_current'
  | 'deployed_versions_behind'
  | 'deployed_lag'
  | 'rollout_lag'
  | 'security_fixes_behind'
  | 'security_lag'
  | 'security_severity'
  | 'eol'
  | 'support_left'
  | 'deployed_security_fixes_behind'
  | 'deployed_security_lag'
  | 'deployed_security_severity'
  | 'deployed_eol'
  | 'deployed_support_left'
  | 'verdict';

/** Advisory severities, lowest first (the security_severity metric counts them 1 to 4). */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** Event kinds of the `events` query type. */
export type EventKind = 'upstream' | 'chart' | 'deployed' | 'forecast' | 'advisory' | 'eol';

/**
 * One Lagwatch query. Same JSON as the Go `models.Query`; both sides are tested
 * against testdata/queries/*.json.
 */
export interface LagwatchQuery extends DataQuery {
  queryType?: QueryType;
  /** Service names; empty means all. Entries may be template variables such as `$service`. */
  services?: string[];
  /** Only services with this maintainer; empty means any. */
  maintainer?: string;
  /** `lag` and `current` only; empty means `["lag"]`. */
  metrics?: Metric[];
  /** `events` only; empty means all four. */
  eventKinds?: EventKind[];
  /**
   * The what-if version ("if we ran X"): the backend treats it as the pinned
   * deployed version of every service of the query, instead of the catalog's
   * `deployed`. The editor stores a semver version, normalised by
   * `normalizeVersion` (src/versions.ts), or a dashboard variable as typed
   * (`$version`, `${version}`, `${version:raw}`, `[[version]]`), which
   * `applyTemplateVariables` interpolates and normalises; unset means the
   * catalog's deployed version.
   */
  deployedVersion?: string;
  /**
   * Lag, current and status only: only advisories rated at least this severity
   * count in the security metrics (security_* and deployed_security_*) and the
   * status table's advisory columns; their series get a `min_severity` label.
   * Unset (or "") means every advisory counts.
   */
  minSeverity?: Severity | '';
}

/** Datasource settings (jsonData), as read by pkg/models/settings.go. */
export interface LagwatchOptions extends DataSourceJsonData {
  /** GitHub REST base URL; GitHub Enterprise: https://HOST/api/v3. */
  githubUrl?: string;
  /** Go duration string, e.g. "15m". */
  cacheTtl?: string;
  /** Catalog YAML given inline; wins over catalogPath. */
  catalog?: string;
  /** A catalog file on the Grafana server. */
  catalogPath?: string;
  /** Largest Helm index.yaml read, in MB. */
  indexLimitMb?: number;
  /** Time limit of one HTTP request, in seconds. */
  timeoutSeconds?: number;
  /** Manifest requests (Docker Hub pulls) per OCI chart and refresh. */
  ociBudget?: number;
  /** Directory on the Grafana server that keeps OCI manifests between restarts. */
  ociCacheDir?: string;
  /**
   * Hosts (HOST or HOST:PORT, comma- or space-separated) a registry may name as
   * its token realm besides its own host and registrable domain; read by
   * ParseTokenHosts in pkg/sources/oci, mirrored by src/tokenHosts.ts.
   */
  ociTokenHosts?: string;
  /** http(s) URL of the Prometheus that knows the deployed versions, e.g. http://prometheus:9090; empty = none. */
  prometheusUrl?: string;
  /** Basic-auth user of that Prometheus; its password is secureJsonData.prometheusPassword. */
  prometheusUser?: string;
  /** Base URL of the endoflife.date API (its /api/v1/products/{product}); empty = https://endoflife.date. */
  eolUrl?: string;
  /** Verdict window W in days: the upstream releases of the last W days count. */
  verdictWindowDays?: number;
  /** Verdict tolerance T in days: a packaging delay up to T is keeping up. Less than the window. */
  verdictToleranceDays?: number;
  /** Verdict abandonment A in days: a chart older than A that is behind is possibly abandoned. */
  verdictAbandonmentDays?: number;
}

/** Secrets: sent to Grafana once, stored encrypted, never returned to the browser. */
export interface LagwatchSecureJsonData {
  githubToken?: string;
  /** Logins of private OCI registries, one per line: HOST USERNAME:PASSWORD. */
  ociCredentials?: string;
  /** Basic-auth password of the Prometheus, sent with jsonData.prometheusUser. */
  prometheusPassword?: string;
  /** Bearer token of the Prometheus; used when no user is set. */
  prometheusToken?: string;
}

export const DEFAULT_GITHUB_URL = 'https://api.github.com';
export const DEFAULT_CACHE_TTL = '15m';
export const DEFAULT_INDEX_LIMIT_MB = 100;
export const DEFAULT_TIMEOUT_SECONDS = 60;
export const DEFAULT_OCI_BUDGET = 20;
export const DEFAULT_EOL_URL = 'https://endoflife.date';
export const DEFAULT_VERDICT_WINDOW_DAYS = 365;
export const DEFAULT_VERDICT_TOLERANCE_DAYS = 7;
export const DEFAULT_VERDICT_ABANDONMENT_DAYS = 120;
/** Largest value of each verdict day setting (the backend's limit). */
export const MAX_VERDICT_DAYS = 3650;

/** Where the catalog format is documented. */
export const CATALOG_DOCS_URL = 'https://github.com/lagwatch/lagwatch#catalog';

export interface Choice<T extends string> {
  value: T;
  label: string;
  /** One line: what the choice returns or means. */
  hint: string;
}

export const QUERY_TYPES: Array<Choice<QueryType>> = [
  {
    value: 'lag',
    label: 'Lag over time',
    hint: 'Time series, one per service and metric: how the lag changed over the time range.',
  },
  {
    value: 'current',
    label: 'Current',
    hint: 'One number per service and metric at the end of the range: for Stat, Gauge and alert rules.',
  },
  {
    value: 'status',
    label: 'Status',
    hint: 'Table with one row per service: upstream, chart and deployed versions, lag, age and the verdict.',
  },
  {
    value: 'events',
    label: 'Events',
    hint: 'Releases, deployed-version changes and ship forecasts as rows with time, title and tags: for annotations.',
  },
];

export const METRICS: Array<Choice<Metric>> = [
  {
    value: 'lag',
    label: 'Lag',
    hint: 'Time since the oldest upstream release the chart does not ship yet; 0 when current.',
  },
  {
    value: 'versions_behind',
    label: 'Versions behind',
    hint: 'Upstream releases newer than the version the chart ships.',
  },
  { value: 'drift', label: 'Drift', hint: 'Time between the newest upstream release and the release the chart ships.' },
  { value: 'chart_age', label: 'Chart age', hint: 'Time since the newest chart release.' },
  {
    value: 'is_current',
    label: 'Is current',
    hint: '1 when no upstream release is newer than the packaged one, else 0.',
  },
  {
    value: 'deployed_versions_behind',
    label: 'Deployed versions behind',
    hint: 'Upstream releases newer than the version you run (the deployed or what-if version).',
  },
  {
    value: 'deployed_lag',
    label: 'Deployed lag',
    hint: 'Time since the oldest upstream release newer than the version you run; 0 when current.',
  },
  {
    value: 'rollout_lag',
    label: 'Rollout lag',
    hint: 'Time since a chart shipping something newer than the version you run came out; 0 when none.',
  },
  {
    value: 'security_fixes_behind',
    label: 'Security fixes behind',
    hint: 'Advisories whose fix upstream has released but the packaged version lacks; null without advisories.',
  },
  {
    value: 'security_lag',
    label: 'Security lag',
    hint: 'Time since the oldest released fix the packaged version lacks came out; 0 when none.',
  },
  {
    value: 'security_severity',
    label: 'Security severity',
    hint: 'Highest severity of those advisories: 0 none, 1 low, 2 medium, 3 high, 4 critical.',
  },
  {
    value: 'eol',
    label: 'End of life',
    hint: '1 when the release cycle of the packaged version is past its end of life, else 0; null without eol.',
  },
  {
    value: 'support_left',
    label: 'Support left',
    hint: "Time until the end of life of the packaged version's cycle; negative after it.",
  },
  {
    value: 'deployed_security_fixes_behind',
    label: 'Deployed security fixes behind',
    hint: 'Advisories whose fix upstream has released but the version you run (deployed or what-if) lacks.',
  },
  {
    value: 'deployed_security_lag',
    label: 'Deployed security lag',
    hint: 'Time since the oldest released fix the version you run lacks came out; 0 when none.',
  },
  {
    value: 'deployed_security_severity',
    label: 'Deployed security severity',
    hint: 'Highest severity of the fixes the version you run lacks: 0 none, 1 low, 2 medium, 3 high, 4 critical.',
  },
  {
    value: 'deployed_eol',
    label: 'Deployed end of life',
    hint: '1 when the release cycle of the version you run is past its end of life, else 0.',
  },
  {
    value: 'deployed_support_left',
    label: 'Deployed support left',
    hint: 'Time until the end of life of the cycle of the version you run; negative after it.',
  },
  {
    value: 'verdict',
    label: 'Verdict',
    hint: 'Current only. Higher is worse: 0 no data, 1 keeps up, 2 mostly keeps up, 3 lags, 4 possibly abandoned.',
  },
];

export const EVENT_KINDS: Array<Choice<EventKind>> = [
  { value: 'upstream', label: 'Upstream releases', hint: 'A new upstream version was published.' },
  { value: 'chart', label: 'Chart releases', hint: 'A new chart version was published.' },
  { value: 'deployed', label: 'Deployed versions', hint: 'The deployed version changed.' },
  {
    value: 'forecast',
    label: 'Forecasts',
    hint: 'Expected ship time (p50) of an upstream release no chart ships yet; may lie after now.',
  },
  {
    value: 'advisory',
    label: 'Advisories',
    hint: 'A security advisory was published, with its id, severity and fixed version.',
  },
  { value: 'eol', label: 'End of life', hint: "A release cycle's end of life, also one still to come." },
];

export const QUERY_TYPE_VALUES: QueryType[] = QUERY_TYPES.map((c) => c.value);
export const METRIC_VALUES: Metric[] = METRICS.map((c) => c.value);
export const EVENT_KIND_VALUES: EventKind[] = EVENT_KINDS.map((c) => c.value);

/** Query types whose `metrics` field is used. */
export const METRIC_QUERY_TYPES: QueryType[] = ['lag', 'current'];

/** Metrics only the `current` query type answers (a `lag` query with one of them is an error). */
export const CURRENT_ONLY_METRICS: Metric[] = ['verdict'];

export const SEVERITIES: Array<Choice<Severity>> = [
  { value: 'low', label: 'Low', hint: 'Low, medium, high and critical advisories.' },
  { value: 'medium', label: 'Medium', hint: 'Medium, high and critical advisories.' },
  { value: 'high', label: 'High', hint: 'High and critical advisories.' },
  { value: 'critical', label: 'Critical', hint: 'Critical advisories only.' },
];
export const SEVERITY_VALUES: Severity[] = SEVERITIES.map((c) => c.value);

/** Query types whose `minSeverity` field the backend reads (an events query with it is an error). */
export const MIN_SEVERITY_QUERY_TYPES: QueryType[] = ['lag', 'current', 'status'];

/** The metrics that count advisories, the only ones `minSeverity` changes. */
export const SECURITY_METRICS: Metric[] = [
  'security_fixes_behind',
  'security_lag',
  'security_severity',
  'deployed_security_fixes_behind',
  'deployed_security_lag',
  'deployed_security_severity',
];

/** Query types whose `deployedVersion` (what-if version) field the editor offers. */
export const WHAT_IF_QUERY_TYPES: QueryType[] = ['lag', 'current', 'status'];

/**
 * The last-hop metrics (`deployed_*` and rollout lag): the only metrics
 * measured against the deployed (or what-if) version. The editor offers the what-if version in lag and current
 * queries only when one of them is selected (status queries: always).
 */
export const LAST_HOP_METRICS: Metric[] = [
  'deployed_versions_behind',
  'deployed_lag',
  'rollout_lag',
  'deployed_security_fixes_behind',
  'deployed_security_lag',
  'deployed_security_severity',
  'deployed_eol',
  'deployed_support_left',
];

/** A new panel shows the lag of every service without touching the editor. */
export const DEFAULT_QUERY: Partial<LagwatchQuery> = {
  queryType: 'lag',
  metrics: ['lag'],
  services: [],
};

/** Values the backend reads as "every service". */
export const ALL_MARKERS = ['$__all', '*', 'All'];

/** Response of GET /services. */
export interface ServicesResponse {
  services: ServiceInfo[];
  maintainers: string[];
}

export interface ServiceInfo {
  name: string;
  maintainer: string;
  repo: string;
  chart: string;
  /** The catalog entry has `advisories` (security input); absent from older backends. */
  advisories?: boolean;
  /** The catalog entry's `eol.product` (endoflife.date product); absent or empty when none. */
  eolProduct?: string;
}

/** Response of POST /validate. */
export interface ValidateResponse {
  valid: boolean;
  services: number;
  errors: CatalogError[];
}

export interface CatalogError {
  service?: string;
  field?: string;
  /** 0 or missing when unknown. */
  line?: number;
  message: string;
}

/** Response of GET /versions?service=NAME: versions normalised by the engine, oldest first. */
export interface VersionsResponse {
  service: string;
  upstream: UpstreamVersion[];
  chart: ChartVersion[];
}

export interface UpstreamVersion {
  version: string;
  /** The git tag or release name it was read from, e.g. v0.12.3. */
  tag: string;
  /** RFC 3339 publish time. */
  time: string;
}

export interface ChartVersion {
  /** The chart version. */
  version: string;
  /** The upstream version it ships (appVersion). */
  packaged: string;
  /** RFC 3339 creation time. */
  time: string;
}

/**
 * Which versions a `versions` variable lists: the upstream releases, the chart
 * versions, or the upstream versions the charts ship (`packaged`, the list to
 * feed a what-if version).
 */
export type VersionKind = 'upstream' | 'chart' | 'packaged';

/** Query of a dashboard variable backed by this datasource. */
export interface LagwatchVariableQuery extends DataQuery {
  /** What the variable lists. */
  list: 'services' | 'maintainers' | 'versions';
  /** With list=services: only services of this maintainer (may be a variable such as `$maintainer`). */
  maintainer?: string;
  /** With list=versions: the one service whose versions are listed (may be a variable such as `$service`). */
  service?: string;
  /** With list=versions: upstream releases (default), chart versions or the upstream versions the charts ship. */
  versionKind?: VersionKind;
}
