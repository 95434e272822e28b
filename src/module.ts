import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { LagwatchOptions, LagwatchQuery, LagwatchSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<DataSource, LagwatchQuery, LagwatchOptions, LagwatchSecureJsonData>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
