import { QueryEditorProps } from '@grafana/data';
import { Combobox, Field, RadioButtonGroup, Stack } from '@grafana/ui';
import React, { useMemo } from 'react';

import type { DataSource } from '../datasource';
import { LagwatchOptions, LagwatchQuery, LagwatchVariableQuery } from '../types';
import { useCatalog, variableOptions, withValues } from './useCatalog';

type Props = QueryEditorProps<DataSource, LagwatchQuery, LagwatchOptions, LagwatchVariableQuery>;

const listOptions: Array<{ label: string; value: LagwatchVariableQuery['list']; description: string }> = [
  { label: 'Services', value: 'services', description: 'Service names of the catalog' },
  { label: 'Maintainers', value: 'maintainers', description: 'Maintainers of the catalog (vendor, community, …)' },
];

/** Variable query editor: list the services (all, or of one maintainer) or the maintainers. */
export function VariableQueryEditor({ query, onChange, datasource }: Props) {
  const catalog = useCatalog(datasource);
  const list = query.list ?? 'services';
  const maintainerOptions = useMemo(
    () =>
      withValues(
        [...catalog.maintainers.map((m) => ({ label: m, value: m })), ...variableOptions()],
        query.maintainer ? [query.maintainer] : []
      ),
    [catalog.maintainers, query.maintainer]
  );

  return (
    <Stack direction="column" gap={1}>
      <Field label="List" noMargin>
        <RadioButtonGroup<LagwatchVariableQuery['list']>
          aria-label="List"
          options={listOptions}
          value={list}
          onChange={(v) => onChange({ ...query, list: v, maintainer: v === 'services' ? query.maintainer : undefined })}
        />
      </Field>
      {list === 'services' && (
        <Field label="Maintainer" description="Only services of this maintainer; empty lists every service." noMargin>
          <Combobox<string>
            id="lagwatch-variable-maintainer"
            placeholder="Any maintainer"
            options={maintainerOptions}
            value={query.maintainer || null}
            loading={catalog.loading}
            width={30}
            isClearable
            createCustomValue
            onChange={(opt) => onChange({ ...query, list, maintainer: opt?.value || undefined })}
          />
        </Field>
      )}
    </Stack>
  );
}
