import { QueryEditorProps } from '@grafana/data';
import { Field, RadioButtonGroup, Stack } from '@grafana/ui';
import React from 'react';

import type { DataSource } from '../datasource';
import { LagwatchOptions, LagwatchQuery, LagwatchVariableQuery } from '../types';
import { MaintainerSelect } from './MaintainerSelect';
import { useCatalog } from './useCatalog';

type Props = QueryEditorProps<DataSource, LagwatchQuery, LagwatchOptions, LagwatchVariableQuery>;

const listOptions: Array<{ label: string; value: LagwatchVariableQuery['list']; description: string }> = [
  { label: 'Services', value: 'services', description: 'Service names of the catalog' },
  { label: 'Maintainers', value: 'maintainers', description: 'Maintainers of the catalog (vendor, community, …)' },
];

/** Variable query editor: list the services (all, or of one maintainer) or the maintainers. */
export function VariableQueryEditor({ query, onChange, datasource }: Props) {
  const catalog = useCatalog(datasource);
  const list = query.list ?? 'services';

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
          <MaintainerSelect
            id="lagwatch-variable-maintainer"
            catalog={catalog}
            value={query.maintainer}
            width={30}
            onChange={(maintainer) => onChange({ ...query, list, maintainer: maintainer || undefined })}
          />
        </Field>
      )}
    </Stack>
  );
}
