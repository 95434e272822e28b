import type { DataSourceWithBackend } from '@grafana/runtime';

import { LagwatchOptions, LagwatchQuery, ServicesResponse, VersionsResponse } from './types';

/**
 * The datasource as the editors and the variable support see it. The
 * DataSource class (datasource.ts) imports them, so they name its base type
 * and reach the backend through the functions below, not through the class.
 */
export type LagwatchDataSource = DataSourceWithBackend<LagwatchQuery, LagwatchOptions>;

/** What the backend's resources need of a datasource: its getResource. */
export type ResourceClient = Pick<DataSourceWithBackend, 'getResource'>;

/** The catalog's services and maintainers (GET /services). */
export function getServices(ds: ResourceClient): Promise<ServicesResponse> {
  return ds.getResource<ServicesResponse>('services').then((r) => ({
    services: r?.services ?? [],
    maintainers: r?.maintainers ?? [],
  }));
}

/** The upstream and chart versions of one service (GET /versions?service=NAME). */
export function getVersions(ds: ResourceClient, service: string): Promise<VersionsResponse> {
  return ds.getResource<VersionsResponse>('versions', { service }).then((r) => ({
    service: r?.service ?? service,
    upstream: r?.upstream ?? [],
    chart: r?.chart ?? [],
  }));
}
