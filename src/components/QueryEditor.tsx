import { QueryEditorProps } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { Checkbox, ComboboxOption, Field, MultiCombobox, RadioButtonGroup, Stack, Text } from '@grafana/ui';
import React, { useMemo } from 'react';

import type { LagwatchDataSource } from '../resources';
import {
  coversSeveralServices,
  hasLastHopMetric,
  hasSecurityMetric,
  metricsFor,
  showsMinSeverity,
  showsWhatIfVersion,
  VariableInfo,
} from '../queryModel';
import {
  CURRENT_ONLY_METRICS,
  DEFAULT_QUERY,
  EVENT_KINDS,
  EVENT_KIND_VALUES,
  EventKind,
  LagwatchOptions,
  LagwatchQuery,
  Metric,
  METRICS,
  METRIC_QUERY_TYPES,
  MIN_SEVERITY_QUERY_TYPES,
  QUERY_TYPES,
  QueryType,
  SEVERITIES,
  Severity,
  WHAT_IF_QUERY_TYPES,
} from '../types';
import { MaintainerSelect } from './MaintainerSelect';
import { serviceOptions, useCatalog, variableOptions, withValues } from './useCatalog';
import { WhatIfVersionField } from './WhatIfVersionField';

export type Props = QueryEditorProps<LagwatchDataSource, LagwatchQuery, LagwatchOptions> & {
  /** Annotation editor: the query type is fixed to events. */
  fixedQueryType?: QueryType;
};

/** Under the what-if version when the query may cover several services. */
export const SEVERAL_SERVICES_WARNING = 'applies to every service of this query';
/** Under a stored what-if version that no selected metric of a lag or current query uses. */
export const NO_LAST_HOP_WARNING =
  'no selected metric uses it: add a deployed metric (deployed versions behind, deployed lag, rollout lag, deployed security or end of life)';

/** Under the minimum severity field. */
export const MIN_SEVERITY_DESCRIPTION =
  'Only advisories rated at least this count in the security metrics and the advisory columns; their series get a min_severity label.';
/** Under a stored minimum severity that no selected metric of a lag or current query uses. */
export const NO_SECURITY_METRIC_WARNING =
  'no selected metric uses it: add a security metric (security fixes behind, security lag, security severity or their deployed versions)';

/** "Any" (every advisory counts) is the empty value: the query then has no minSeverity. */
const minSeverityOptions: Array<{ label: string; value: Severity | ''; description: string }> = [
  { label: 'Any', value: '', description: 'Every advisory counts.' },
  ...SEVERITIES.map((s) => ({ label: s.label, value: s.value, description: s.hint })),
];

const queryTypeOptions = QUERY_TYPES.map((t) => ({ label: t.label, value: t.value, description: t.hint }));
const metricOption = (m: (typeof METRICS)[number]): ComboboxOption<string> => ({
  label: m.label,
  value: m.value,
  description: m.hint,
});

/** The metric options of a query type: verdict only for current. */
function metricOptionsFor(queryType: QueryType): Array<ComboboxOption<string>> {
  const allowed = metricsFor(queryType);
  return METRICS.filter((m) => allowed.includes(m.value)).map(metricOption);
}

/**
 * The query after switching to another query type: a lag query drops the
 * metrics it does not answer (verdict; the last one falls back to lag), and
 * an events query drops the what-if version and the minimum severity, which
 * its editor does not show (and the backend refuses there).
 */
function switchQueryType(query: LagwatchQuery, queryType: QueryType): LagwatchQuery {
  const next: LagwatchQuery = { ...query, queryType };
  if (METRIC_QUERY_TYPES.includes(queryType) && query.metrics) {
    const allowed = metricsFor(queryType);
    const kept = query.metrics.filter((m) => allowed.includes(m));
    if (kept.length !== query.metrics.length) {
      next.metrics = kept.length ? kept : DEFAULT_QUERY.metrics;
    }
  }
  if (!WHAT_IF_QUERY_TYPES.includes(queryType)) {
    delete next.deployedVersion;
  }
  if (!MIN_SEVERITY_QUERY_TYPES.includes(queryType)) {
    delete next.minSeverity;
  }
  return next;
}

export function QueryEditor({ query, onChange, onRunQuery, datasource, fixedQueryType }: Props) {
  const catalog = useCatalog(datasource);
  const queryType: QueryType = fixedQueryType ?? query.queryType ?? DEFAULT_QUERY.queryType!;
  const services = query.services ?? [];
  const metrics = query.metrics?.length ? query.metrics : DEFAULT_QUERY.metrics!;
  const eventKinds = query.eventKinds?.length ? query.eventKinds : EVENT_KIND_VALUES;
  const hint = QUERY_TYPES.find((t) => t.value === queryType)?.hint;
  // A stored query may hold a metric its type does not answer: keep it removable and say why.
  const metricOptions = useMemo(() => withValues(metricOptionsFor(queryType), metrics), [queryType, metrics]);
  const metricErrors = metrics
    .filter((m) => CURRENT_ONLY_METRICS.includes(m) && !metricsFor(queryType).includes(m))
    .map((m) => `${METRICS.find((c) => c.value === m)?.label ?? m} is only answered by Current queries`);

  const variables = useMemo(() => variableOptions(), []);
  const variableInfo = useMemo(
    (): VariableInfo[] =>
      getTemplateSrv()
        .getVariables()
        .map((v) => {
          const m = v as { name: string; multi?: boolean; includeAll?: boolean };
          return { name: m.name, multi: m.multi, includeAll: m.includeAll };
        }),
    []
  );
  const queryWithMetrics = { ...query, metrics };
  const showWhatIf = showsWhatIfVersion(queryWithMetrics, queryType);
  const whatIfWarnings = [
    ...(coversSeveralServices(query.services, variableInfo) ? [SEVERAL_SERVICES_WARNING] : []),
    ...(queryType !== 'status' && !hasLastHopMetric(queryWithMetrics) ? [NO_LAST_HOP_WARNING] : []),
  ];
  const showMinSeverity = showsMinSeverity(queryWithMetrics, queryType);
  const serviceChoices = useMemo(
    () => serviceOptions(catalog.services, variables, query.services ?? []),
    [catalog.services, variables, query.services]
  );

  const commit = (next: LagwatchQuery) => {
    onChange(next);
    onRunQuery();
  };
  const change = (patch: Partial<LagwatchQuery>) => commit({ ...query, queryType, ...patch });

  const changeWhatIf = (deployedVersion: string | undefined) => {
    const next: LagwatchQuery = { ...query, queryType, deployedVersion };
    if (deployedVersion === undefined) {
      delete next.deployedVersion;
    }
    commit(next);
  };

  const changeMinSeverity = (minSeverity: Severity | '') => {
    const next: LagwatchQuery = { ...query, queryType, minSeverity };
    if (minSeverity === '') {
      delete next.minSeverity;
    }
    commit(next);
  };

  const toggleKind = (kind: EventKind, on: boolean) => {
    const next = EVENT_KIND_VALUES.filter((k) => (k === kind ? on : eventKinds.includes(k)));
    change({ eventKinds: next });
  };

  return (
    <Stack direction="column" gap={1}>
      {!fixedQueryType && (
        <Field label="Query type" description={hint} noMargin>
          <RadioButtonGroup<QueryType>
            aria-label="Query type"
            options={queryTypeOptions}
            value={queryType}
            onChange={(v) => commit(switchQueryType({ ...query, queryType }, v))}
          />
        </Field>
      )}
      <Stack direction="row" gap={2} wrap="wrap">
        <Field
          label="Services"
          description="Empty means every service of the catalog."
          error={catalog.error ? `Could not load the catalog: ${catalog.error}` : undefined}
          invalid={!!catalog.error}
          noMargin
        >
          <MultiCombobox<string>
            id="lagwatch-services"
            placeholder="All services"
            options={serviceChoices}
            value={services}
            loading={catalog.loading}
            width="auto"
            minWidth={24}
            maxWidth={60}
            isClearable
            createCustomValue
            onChange={(opts) => change({ services: opts.map((o) => o.value) })}
          />
        </Field>
        <Field label="Maintainer" description="Only services with this maintainer." noMargin>
          <MaintainerSelect
            id="lagwatch-maintainer"
            catalog={catalog}
            value={query.maintainer}
            onChange={(maintainer) => change({ maintainer })}
          />
        </Field>
        {METRIC_QUERY_TYPES.includes(queryType) && (
          <Field
            label="Metrics"
            description="One series per service and metric."
            invalid={metricErrors.length > 0}
            error={metricErrors.length ? metricErrors.join('; ') : undefined}
            noMargin
          >
            <MultiCombobox<string>
              id="lagwatch-metrics"
              options={metricOptions}
              value={metrics}
              width="auto"
              minWidth={20}
              maxWidth={60}
              onChange={(opts) =>
                change({ metrics: opts.length ? (opts.map((o) => o.value) as Metric[]) : DEFAULT_QUERY.metrics })
              }
            />
          </Field>
        )}
        {showWhatIf && (
          <WhatIfVersionField value={query.deployedVersion} onChange={changeWhatIf} warnings={whatIfWarnings} />
        )}
        {showMinSeverity && (
          <Field label="Minimum severity" description={MIN_SEVERITY_DESCRIPTION} noMargin>
            <div>
              <RadioButtonGroup<Severity | ''>
                aria-label="Minimum severity"
                options={minSeverityOptions}
                value={query.minSeverity ?? ''}
                onChange={changeMinSeverity}
              />
              {queryType !== 'status' && !hasSecurityMetric(queryWithMetrics) && (
                <div>
                  <Text variant="bodySmall" color="warning">
                    {NO_SECURITY_METRIC_WARNING}
                  </Text>
                </div>
              )}
            </div>
          </Field>
        )}
        {queryType === 'events' && (
          <Field label="Event kinds" noMargin>
            <Stack direction="row" gap={2} wrap="wrap">
              {EVENT_KINDS.map((k) => (
                <Checkbox
                  key={k.value}
                  label={k.label}
                  description={k.hint}
                  value={eventKinds.includes(k.value)}
                  // Unchecking the last kind would mean "all kinds" to the backend: keep one.
                  disabled={eventKinds.length === 1 && eventKinds[0] === k.value}
                  onChange={(e) => toggleKind(k.value, e.currentTarget.checked)}
                />
              ))}
            </Stack>
          </Field>
        )}
      </Stack>
      {fixedQueryType && hint && (
        <Text variant="bodySmall" color="secondary">
          {hint}
        </Text>
      )}
    </Stack>
  );
}
