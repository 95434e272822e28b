import { createDataFrame, CustomVariableSupport, DataQueryRequest, DataQueryResponse, FieldType } from '@grafana/data';
import { from, Observable, of, throwError } from 'rxjs';
import { map } from 'rxjs/operators';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import { interpolateMaintainer, interpolateSingle } from './interpolate';
import { isAllMarker } from './queryModel';
import { getServices, getVersions, LagwatchDataSource } from './resources';
import { UNREPLACED } from './templateVariables';
import { LagwatchVariableQuery, ServicesResponse, VersionKind, VersionsResponse } from './types';
import { sortVersionsNewestFirst } from './versions';

export const DEFAULT_VARIABLE_QUERY: Omit<LagwatchVariableQuery, 'refId'> = { list: 'services' };

/**
 * Dashboard variables backed by GET /services (the catalog's services, all or
 * those of one maintainer, or its maintainers) and GET /versions (the
 * upstream, chart or packaged versions of one service, newest first).
 */
export class LagwatchVariableSupport extends CustomVariableSupport<LagwatchDataSource, LagwatchVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: LagwatchDataSource) {
    super();
  }

  query(request: DataQueryRequest<LagwatchVariableQuery>): Observable<DataQueryResponse> {
    const q = { ...DEFAULT_VARIABLE_QUERY, ...request.targets[0] };
    const list = q.list;
    if (list === 'versions') {
      // One service: a multi-value or All selection lists nothing (versions of
      // different services do not mix).
      const service = interpolateSingle(q.service ?? '', request.scopedVars ?? {});
      if (service === '') {
        return of({ data: [namesFrame([])] });
      }
      const unreplaced = service.match(UNREPLACED);
      if (unreplaced) {
        const message = `service: template variable ${unreplaced[0]} was not replaced: check that the dashboard defines it`;
        return throwError(() => new Error(message));
      }
      return from(getVersions(this.datasource, service)).pipe(
        map((r) => ({ data: [namesFrame(versionValues(r, q.versionKind ?? 'upstream'))] }))
      );
    }
    const maintainer = interpolateMaintainer(q.maintainer ?? '', request.scopedVars ?? {});
    return from(getServices(this.datasource)).pipe(
      map((r) => ({ data: [namesFrame(variableValues(r, list, maintainer))] }))
    );
  }
}

/** The names a services or maintainers variable query lists, sorted by name. */
export function variableValues(
  r: ServicesResponse,
  list: Exclude<LagwatchVariableQuery['list'], 'versions'>,
  maintainer = ''
): string[] {
  if (list === 'maintainers') {
    return [...new Set(r.maintainers)].sort((a, b) => a.localeCompare(b));
  }
  const anyMaintainer = maintainer === '' || isAllMarker(maintainer);
  return r.services
    .filter((s) => anyMaintainer || s.maintainer === maintainer)
    .map((s) => s.name)
    .sort((a, b) => a.localeCompare(b));
}

/**
 * The versions a versions variable lists: the upstream versions, the chart
 * versions, or the upstream versions the charts ship (`packaged`, several
 * chart versions may ship one), newest first by semver, values that are not
 * semver last, each once.
 */
export function versionValues(r: VersionsResponse, kind: VersionKind): string[] {
  let versions: Array<string | undefined>;
  switch (kind) {
    case 'chart':
      versions = r.chart.map((c) => c.version);
      break;
    case 'packaged':
      versions = r.chart.map((c) => c.packaged);
      break;
    default:
      versions = r.upstream.map((u) => u.version);
  }
  return sortVersionsNewestFirst(versions.filter((v): v is string => typeof v === 'string'));
}

function namesFrame(names: string[]) {
  return createDataFrame({
    fields: [
      { name: 'text', type: FieldType.string, values: names },
      { name: 'value', type: FieldType.string, values: names },
    ],
  });
}
