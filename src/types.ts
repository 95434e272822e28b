import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/**
 * Query types. The type travels in the standard DataQuery `queryType` field,
 * exactly as in pkg/models/query.go.
 */
export type QueryType = 'lag' | 'current' | 'status' | 'events';

/** Metrics of the `lag` and `current` query types. */
export type Metric = 'lag' | 'versions_behind' | 'drift' | 'chart_age' | 'is_current';

/** Event kinds of the `events` query type. */
export type EventKind = 'upstream' | 'chart';

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
  /** `events` only; empty means both. */
  eventKinds?: EventKind[];
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
}

/** Secrets: sent to Grafana once, stored encrypted, never returned to the browser. */
export interface LagwatchSecureJsonData {
  githubToken?: string;
  /** Logins of private OCI registries, one per line: HOST USERNAME:PASSWORD. */
  ociCredentials?: string;
}

export const DEFAULT_GITHUB_URL = 'https://api.github.com';
export const DEFAULT_CACHE_TTL = '15m';
export const DEFAULT_INDEX_LIMIT_MB = 100;
export const DEFAULT_TIMEOUT_SECONDS = 60;
export const DEFAULT_OCI_BUDGET = 20;

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
    hint: 'Table with one row per service: upstream and chart versions, lag and age.',
  },
  {
    value: 'events',
    label: 'Events',
    hint: 'Upstream and chart releases as rows with time, title and tags: for annotations.',
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
];

export const EVENT_KINDS: Array<Choice<EventKind>> = [
  { value: 'upstream', label: 'Upstream releases', hint: 'A new upstream version was published.' },
  { value: 'chart', label: 'Chart releases', hint: 'A new chart version was published.' },
];

export const QUERY_TYPE_VALUES: QueryType[] = QUERY_TYPES.map((c) => c.value);
export const METRIC_VALUES: Metric[] = METRICS.map((c) => c.value);
export const EVENT_KIND_VALUES: EventKind[] = EVENT_KINDS.map((c) => c.value);

/** Query types whose `metrics` field is used. */
export const METRIC_QUERY_TYPES: QueryType[] = ['lag', 'current'];

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

/** Query of a dashboard variable backed by this datasource. */
export interface LagwatchVariableQuery extends DataQuery {
  /** What the variable lists. */
  list: 'services' | 'maintainers';
  /** With list=services: only services of this maintainer (may be a variable such as `$maintainer`). */
  maintainer?: string;
}
