import { QueryEditorProps } from '@grafana/data';
import { Combobox, Field, RadioButtonGroup, Stack } from '@grafana/ui';
import React, { useMemo } from 'react';

import type { LagwatchDataSource } from '../resources';
import { LagwatchOptions, LagwatchQuery, LagwatchVariableQuery, VersionKind } from '../types';
import { MaintainerSelect } from './MaintainerSelect';
import { serviceOptions, useCatalog, variableOptions } from './useCatalog';

type Props = QueryEditorProps<LagwatchDataSource, LagwatchQuery, LagwatchOptions, LagwatchVariableQuery>;

const listOptions: Array<{ label: string; value: LagwatchVariableQuery['list']; description: string }> = [
  { label: 'Services', value: 'services', description: 'Service names of the catalog' },
  { label: 'Maintainers', value: 'maintainers', description: 'Maintainers of the catalog (vendor, community, …)' },
  {
    label: 'Versions',
    value: 'versions',
    description: 'Upstream, chart or packaged versions of one service, newest first',
  },
];

const kindOptions: Array<{ label: string; value: VersionKind; description: string }> = [
  { label: 'Upstream releases', value: 'upstream', description: 'The versions the upstream project released' },
  { label: 'Chart releases', value: 'chart', description: 'The chart versions of the Helm repository' },
  {
    label: 'Packaged versions',
    value: 'packaged',
    description: 'The upstream versions the chart releases ship (appVersion): the list to feed a what-if version',
  },
];

/**
 * Variable query editor: list the services (all, or of one maintainer), the
 * maintainers, or the versions of one service (upstream, chart, or the
 * upstream versions the charts ship).
 */
export function VariableQueryEditor({ query, onChange, datasource }: Props) {
  const catalog = useCatalog(datasource);
  const list = query.list ?? 'services';
  const service = query.service ?? '';

  const serviceChoices = useMemo(
    () => serviceOptions(catalog.services, variableOptions(), service ? [service] : []),
    [catalog.services, service]
  );

  // Each list keeps only its own fields.
  const onListChange = (v: LagwatchVariableQuery['list']) =>
    onChange({
      ...query,
      list: v,
      maintainer: v === 'services' ? query.maintainer : undefined,
      service: v === 'versions' ? query.service : undefined,
      versionKind: v === 'versions' ? query.versionKind : undefined,
    });

  return (
    <Stack direction="column" gap={1}>
      <Field label="List" noMargin>
        <RadioButtonGroup<LagwatchVariableQuery['list']>
          aria-label="List"
          options={listOptions}
          value={list}
          onChange={onListChange}
        />
      </Field>
      {list === 'services' && (
        <Field label="Maintainer" description="Only services of this maintainer; empty lists every service." noMargin>
          <MaintainerSelect
            id="lagwatch-variable-maintainer"
            catalog={catalog}
            value={query.maintainer}
            width={30}
            onChange={(maintainer) => onChange({ ...query, list, maintainer: maintainer || undefined })}
          />
        </Field>
      )}
      {list === 'versions' && (
        <>
          <Field
            label="Service"
            description="The service whose versions are listed, or a variable such as $service. With several values or All selected the list is empty."
            noMargin
          >
            <Combobox<string>
              id="lagwatch-variable-service"
              placeholder="Choose a service"
              options={serviceChoices}
              value={service || null}
              loading={catalog.loading}
              width={30}
              isClearable
              createCustomValue
              onChange={(opt) => onChange({ ...query, list, service: opt?.value || undefined })}
            />
          </Field>
          <Field label="Versions of" noMargin>
            <RadioButtonGroup<VersionKind>
              aria-label="Versions of"
              options={kindOptions}
              value={query.versionKind ?? 'upstream'}
              onChange={(versionKind) => onChange({ ...query, list, versionKind })}
            />
          </Field>
        </>
      )}
    </Stack>
  );
}
