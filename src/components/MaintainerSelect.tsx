import { Combobox } from '@grafana/ui';
import React, { useMemo } from 'react';

import { CatalogState, variableOptions, withValues } from './useCatalog';

interface Props {
  id: string;
  /** The catalog as `useCatalog` loaded it: its maintainers are the options. */
  catalog: CatalogState;
  /** The selected maintainer; empty means any. */
  value?: string;
  /** Called with the new maintainer, `''` when cleared (any maintainer). */
  onChange: (maintainer: string) => void;
  /** Fixed width; without it the select grows with its value. */
  width?: number;
}

/**
 * Single select of a maintainer: the catalog's maintainers plus every
 * dashboard variable as `$name`; custom values can be typed, and a value no
 * longer offered stays selectable. Used by the query and variable editors.
 */
export function MaintainerSelect({ id, catalog, value, onChange, width }: Props) {
  const options = useMemo(
    () =>
      withValues(
        [...catalog.maintainers.map((m) => ({ label: m, value: m })), ...variableOptions()],
        value ? [value] : []
      ),
    [catalog.maintainers, value]
  );
  return (
    <Combobox<string>
      id={id}
      placeholder="Any maintainer"
      options={options}
      value={value || null}
      loading={catalog.loading}
      {...(width ? { width } : { width: 'auto' as const, minWidth: 20 })}
      isClearable
      createCustomValue
      onChange={(opt) => onChange(opt?.value ?? '')}
    />
  );
}
