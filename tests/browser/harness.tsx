/*
 * Browser harness: renders the plugin's ConfigEditor or QueryEditor (?view=config
 * or ?view=query) outside Grafana, with @grafana/ui's dark theme and global
 * styles, the real DataSource class, and a BackendSrv stub that sends the
 * resource calls (GET /services, POST /validate) to the harness server
 * (tests/browser/server.mjs), which answers with canned data shaped like
 * pkg/plugin/resources.go. Driven by tests/browser/check.mjs.
 */
import { DataSourceInstanceSettings, PluginType, ThemeContext, createTheme } from '@grafana/data';
import { BackendSrv, BackendSrvRequest, FetchResponse, setBackendSrv, setTemplateSrv } from '@grafana/runtime';
import { GlobalStyles } from '@grafana/ui';
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Observable, lastValueFrom } from 'rxjs';

import { ConfigEditor } from '../../src/components/ConfigEditor';
import { QueryEditor } from '../../src/components/QueryEditor';
import { DataSource } from '../../src/datasource';
import { datasourceSettings, LagwatchSettings as Settings } from '../../src/testing/settings';
import { fakeTemplateSrv } from '../../src/testing/templateSrv';
import { DEFAULT_QUERY, LagwatchOptions, LagwatchQuery } from '../../src/types';


const UID = 'lagwatch-harness';

/** What the check script reads and drives through `window.lagwatchHarness`. */
interface HarnessApi {
  view: string;
  options?: Settings;
  query?: LagwatchQuery;
  requests: Array<{ method: string; url: string; data?: unknown }>;
  /** Simulates Save: Grafana keeps the secret and only reports secureJsonFields.githubToken = true. */
  save?: () => void;
}

declare global {
  interface Window {
    lagwatchHarness: HarnessApi;
  }
}

const api: HarnessApi = { view: '', requests: [] };
window.lagwatchHarness = api;

/** BackendSrv over window.fetch to the harness server; only what the editors and DataSourceWithBackend use. */
function fetchResponse<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
  return new Observable<FetchResponse<T>>((subscriber) => {
    const method = (options.method ?? 'GET').toUpperCase();
    const params = options.params ? `?${new URLSearchParams(options.params as Record<string, string>)}` : '';
    const url = `${options.url}${params}`;
    api.requests.push({ method, url, data: options.data });
    const body = options.data === undefined ? undefined : JSON.stringify(options.data);
    window
      .fetch(url, { method, body, headers: body ? { 'Content-Type': 'application/json' } : undefined })
      .then(async (res) => {
        const data = (await res.json().catch(() => undefined)) as T;
        const response = {
          data,
          status: res.status,
          statusText: res.statusText,
          ok: res.ok,
          headers: res.headers,
          redirected: res.redirected,
          type: res.type,
          url: res.url,
          config: options,
        } as FetchResponse<T>;
        if (res.ok) {
          subscriber.next(response);
          subscriber.complete();
        } else {
          subscriber.error(response);
        }
      })
      .catch((err: unknown) => subscriber.error(err));
  });
}

const backendSrv = {
  fetch: fetchResponse,
  request: <T,>(options: BackendSrvRequest) => lastValueFrom(fetchResponse<T>(options)).then((r) => r.data),
  datasourceRequest: <T,>(options: BackendSrvRequest) => lastValueFrom(fetchResponse<T>(options)),
  get: <T,>(url: string, params?: BackendSrvRequest['params']) =>
    lastValueFrom(fetchResponse<T>({ url, params, method: 'GET' })).then((r) => r.data),
  post: <T,>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>) =>
    lastValueFrom(fetchResponse<T>({ ...options, url, data, method: 'POST' })).then((r) => r.data),
} as unknown as BackendSrv;

setBackendSrv(backendSrv);
// Two dashboard variables, so that the selects also offer $service and $maintainer.
setTemplateSrv(
  fakeTemplateSrv({
    service: { current: ['ollama'], options: ['ollama', 'chromadb', 'vllm-stack', 'gpu-operator'] },
    maintainer: { current: 'community', options: ['community', 'vendor'] },
  })
);

const instanceSettings = {
  id: 1,
  uid: UID,
  type: 'lagwatch-datasource',
  name: 'Lagwatch',
  access: 'proxy',
  readOnly: false,
  jsonData: {},
  meta: {
    id: 'lagwatch-datasource',
    name: 'Lagwatch',
    type: PluginType.datasource,
    module: '',
    baseUrl: '',
    backend: true,
    info: {
      author: { name: 'Lagwatch' },
      description: '',
      links: [],
      logos: { small: '', large: '' },
      screenshots: [],
      updated: '',
      version: '',
    },
  },
} as unknown as DataSourceInstanceSettings<LagwatchOptions>;

const datasource = new DataSource(instanceSettings);

const initialSettings: Settings = datasourceSettings({ uid: UID });

function ConfigPage() {
  const [options, setOptions] = useState<Settings>(initialSettings);
  api.options = options;
  api.save = () =>
    setOptions((o) => {
      const { secureJsonData, ...saved } = o;
      const configured = !!secureJsonData?.githubToken || !!o.secureJsonFields.githubToken;
      return { ...saved, secureJsonFields: { ...o.secureJsonFields, githubToken: configured } };
    });
  return <ConfigEditor options={options} onOptionsChange={setOptions} />;
}

function QueryPage() {
  const [query, setQuery] = useState<LagwatchQuery>({ refId: 'A', ...DEFAULT_QUERY });
  api.query = query;
  return (
    <QueryEditor
      query={query}
      datasource={datasource}
      onChange={setQuery}
      onRunQuery={() => {
        api.requests.push({ method: 'RUN', url: 'onRunQuery' });
      }}
    />
  );
}

function App({ view }: { view: string }) {
  const theme = createTheme({ colors: { mode: 'dark' } });
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <main
        style={{
          padding: theme.spacing(2, 3),
          maxWidth: 1000,
          background: theme.colors.background.primary,
          border: `1px solid ${theme.colors.border.weak}`,
          borderRadius: theme.shape.radius.default,
          margin: theme.spacing(2),
        }}
        data-testid={`harness-${view}`}
      >
        <h2 style={{ marginBottom: theme.spacing(2) }}>
          {view === 'query' ? 'Query A · Lagwatch' : 'Lagwatch settings'}
        </h2>
        {view === 'query' ? <QueryPage /> : <ConfigPage />}
      </main>
    </ThemeContext.Provider>
  );
}

const view = new URLSearchParams(window.location.search).get('view') === 'query' ? 'query' : 'config';
api.view = view;
document.body.style.background = createTheme({ colors: { mode: 'dark' } }).colors.background.canvas;
createRoot(document.getElementById('root')!).render(<App view={view} />);
