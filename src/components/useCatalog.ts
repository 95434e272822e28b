import { ComboboxOption } from '@grafana/ui';
import { getTemplateSrv } from '@grafana/runtime';
import { useEffect, useState } from 'react';

import { getServices, ResourceClient } from '../resources';
import { ServiceInfo, ServicesResponse } from '../types';

export interface CatalogState extends ServicesResponse {
  loading: boolean;
  error?: string;
}

/** Loads the catalog's services and maintainers once per datasource (GET /services). */
export function useCatalog(datasource: ResourceClient): CatalogState {
  const [state, setState] = useState<CatalogState>({ services: [], maintainers: [], loading: true });
  useEffect(() => {
    let active = true;
    getServices(datasource)
      .then((r) => active && setState({ ...r, loading: false }))
      .catch(
        (err: unknown) => active && setState({ services: [], maintainers: [], loading: false, error: errorText(err) })
      );
    return () => {
      active = false;
    };
  }, [datasource]);
  return state;
}

/** Template variables as `$name` options, for fields that accept them. */
export function variableOptions(): Array<ComboboxOption<string>> {
  return getTemplateSrv()
    .getVariables()
    .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Template variable' }));
}

/** Options for the given values, keeping values no longer offered (a renamed service, a variable) selectable. */
export function withValues(options: Array<ComboboxOption<string>>, values: string[]): Array<ComboboxOption<string>> {
  const missing = values.filter((v) => v !== '' && !options.some((o) => o.value === v));
  return [...options, ...missing.map((v) => ({ label: v, value: v }))];
}

/** The catalog's services, then the dashboard's variables, as options; selected values stay listed. */
export function serviceOptions(
  services: ServiceInfo[],
  variables: Array<ComboboxOption<string>>,
  selected: string[]
): Array<ComboboxOption<string>> {
  return withValues(
    [
      ...services.map((s) => ({ label: s.name, value: s.name, description: `${s.maintainer} · ${s.repo}` })),
      ...variables,
    ],
    selected
  );
}

export function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as {
      data?: { message?: string; error?: string };
      message?: string;
      statusText?: string;
      status?: number;
    };
    const msg = e.data?.message || e.data?.error || e.message || e.statusText;
    if (msg) {
      return e.status ? `${msg} (HTTP ${e.status})` : msg;
    }
  }
  return String(err);
}
