import { QueryEditorProps } from '@grafana/data';
import { Checkbox, ComboboxOption, Field, MultiCombobox, RadioButtonGroup, Stack, Text } from '@grafana/ui';
import React, { useMemo } from 'react';

import type { DataSource } from '../datasource';
import {
  DEFAULT_QUERY,
  EVENT_KINDS,
  EVENT_KIND_VALUES,
  EventKind,
  LagwatchOptions,
  LagwatchQuery,
  Metric,
  METRICS,
  METRIC_QUERY_TYPES,
  QUERY_TYPES,
  QueryType,
} from '../types';
import { MaintainerSelect } from './MaintainerSelect';
import { useCatalog, variableOptions, withValues } from './useCatalog';

export type Props = QueryEditorProps<DataSource, LagwatchQuery, LagwatchOptions> & {
  /** Annotation editor: the query type is fixed to events. */
  fixedQueryType?: QueryType;
};

const queryTypeOptions = QUERY_TYPES.map((t) => ({ label: t.label, value: t.value, description: t.hint }));
const metricOptions: Array<ComboboxOption<string>> = METRICS.map((m) => ({
  label: m.label,
  value: m.value,
  description: m.hint,
}));

export function QueryEditor({ query, onChange, onRunQuery, datasource, fixedQueryType }: Props) {
  const catalog = useCatalog(datasource);
  const queryType: QueryType = fixedQueryType ?? query.queryType ?? DEFAULT_QUERY.queryType!;
  const services = query.services ?? [];
  const metrics = query.metrics?.length ? query.metrics : DEFAULT_QUERY.metrics!;
  const eventKinds = query.eventKinds?.length ? query.eventKinds : EVENT_KIND_VALUES;
  const hint = QUERY_TYPES.find((t) => t.value === queryType)?.hint;

  const variables = useMemo(() => variableOptions(), []);
  const serviceOptions = useMemo(
    () =>
      withValues(
        [
          ...catalog.services.map((s) => ({
            label: s.name,
            value: s.name,
            description: `${s.maintainer} · ${s.repo}`,
          })),
          ...variables,
        ],
        query.services ?? []
      ),
    [catalog.services, variables, query.services]
  );

  const change = (patch: Partial<LagwatchQuery>) => {
    onChange({ ...query, queryType, ...patch });
    onRunQuery();
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
            onChange={(v) => change({ queryType: v })}
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
            options={serviceOptions}
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
          <Field label="Metrics" description="One series per service and metric." noMargin>
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
        {queryType === 'events' && (
          <Field label="Event kinds" noMargin>
            <Stack direction="row" gap={2}>
              {EVENT_KINDS.map((k) => (
                <Checkbox
                  key={k.value}
                  label={k.label}
                  description={k.hint}
                  value={eventKinds.includes(k.value)}
                  // Unchecking the last kind would mean "both" to the backend: keep one.
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
