import { CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend } from '@grafana/runtime';

import { lagwatchAnnotations } from './annotations';
import { expandList, interpolateDeployedVersion, interpolateMaintainer } from './interpolate';
import { metricsFor } from './queryModel';
import { DEFAULT_QUERY, EventKind, EVENT_KIND_VALUES, LagwatchOptions, LagwatchQuery, Metric } from './types';
import { LagwatchVariableSupport } from './variables';

export class DataSource extends DataSourceWithBackend<LagwatchQuery, LagwatchOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<LagwatchOptions>) {
    super(instanceSettings);
    this.variables = new LagwatchVariableSupport(this);
    this.annotations = lagwatchAnnotations;
  }

  getDefaultQuery(_: CoreApp): Partial<LagwatchQuery> {
    return DEFAULT_QUERY;
  }

  /**
   * Interpolates template variables in every field. Runs for dashboards,
   * Explore and the alert rule editor alike (it only uses the template
   * service and the scoped variables it is given).
   */
  applyTemplateVariables(query: LagwatchQuery, scopedVars: ScopedVars): LagwatchQuery {
    const out: LagwatchQuery = { ...query, queryType: query.queryType || DEFAULT_QUERY.queryType };
    if (query.services) {
      out.services = expandList(query.services, scopedVars);
    }
    if (query.maintainer !== undefined) {
      out.maintainer = interpolateMaintainer(query.maintainer, scopedVars);
    }
    if (query.metrics) {
      // "All" selects every metric the query type answers: a lag query never asks for the verdict.
      out.metrics = expandList(query.metrics, scopedVars, metricsFor(out.queryType)) as Metric[];
    }
    if (query.eventKinds) {
      out.eventKinds = expandList(query.eventKinds, scopedVars, EVENT_KIND_VALUES) as EventKind[];
    }
    if (query.deployedVersion !== undefined) {
      const deployedVersion = interpolateDeployedVersion(query.deployedVersion, scopedVars);
      if (deployedVersion === undefined) {
        delete out.deployedVersion;
      } else {
        out.deployedVersion = deployedVersion;
      }
    }
    return out;
  }

  /** Hidden queries are not sent to the backend. */
  filterQuery(query: LagwatchQuery): boolean {
    return !query.hide;
  }
}
