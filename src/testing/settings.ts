import { DataSourceSettings } from '@grafana/data';

import { LagwatchOptions, LagwatchSecureJsonData } from '../types';

export type LagwatchSettings = DataSourceSettings<LagwatchOptions, LagwatchSecureJsonData>;

/** A saved Lagwatch datasource as the config editor receives it, for tests and the browser harness. */
export function datasourceSettings(patch: Partial<LagwatchSettings> = {}): LagwatchSettings {
  return {
    id: 1,
    uid: 'lw-uid',
    orgId: 1,
    name: 'Lagwatch',
    type: 'lagwatch-datasource',
    typeName: 'Lagwatch',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...patch,
  } as LagwatchSettings; // leaves out the deprecated, required `database`
}
