import { createDataFrame, CustomVariableSupport, DataQueryRequest, DataQueryResponse, FieldType } from '@grafana/data';
import { from, Observable } from 'rxjs';
import { map } from 'rxjs/operators';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { interpolateMaintainer } from './interpolate';
import { isAllMarker } from './queryModel';
import { LagwatchVariableQuery, ServicesResponse } from './types';

export const DEFAULT_VARIABLE_QUERY: Omit<LagwatchVariableQuery, 'refId'> = { list: 'services' };

/**
 * Dashboard variables backed by GET /services: the catalog's services (all,
 * or those of one maintainer) or its maintainers.
 */
export class LagwatchVariableSupport extends CustomVariableSupport<DataSource, LagwatchVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<LagwatchVariableQuery>): Observable<DataQueryResponse> {
    const q = { ...DEFAULT_VARIABLE_QUERY, ...request.targets[0] };
    const maintainer = interpolateMaintainer(q.maintainer ?? '', request.scopedVars ?? {});
    return from(this.datasource.getServices()).pipe(
      map((r) => ({ data: [namesFrame(variableValues(r, q.list, maintainer))] }))
    );
  }
}

/** The names a variable query lists, sorted by name. */
export function variableValues(r: ServicesResponse, list: LagwatchVariableQuery['list'], maintainer = ''): string[] {
  if (list === 'maintainers') {
    return [...new Set(r.maintainers)].sort((a, b) => a.localeCompare(b));
  }
  const anyMaintainer = maintainer === '' || isAllMarker(maintainer);
  return r.services
    .filter((s) => anyMaintainer || s.maintainer === maintainer)
    .map((s) => s.name)
    .sort((a, b) => a.localeCompare(b));
}

function namesFrame(names: string[]) {
  return createDataFrame({
    fields: [
      { name: 'text', type: FieldType.string, values: names },
      { name: 'value', type: FieldType.string, values: names },
    ],
  });
}
