import { AnnotationQuery, DataSourceInstanceSettings, FieldType, ScopedVars, toDataFrame } from '@grafana/data';
import { setTemplateSrv } from '@grafana/runtime';
import { firstValueFrom } from 'rxjs';

import { framesToEvents } from './annotations';
import { DataSource } from './datasource';
import { getVersions } from './resources';
import { LagwatchVariableSupport } from './variables';
import { fakeTemplateSrv } from './testing/templateSrv';
import { LagwatchOptions, LagwatchQuery, LagwatchVariableQuery, ServicesResponse, VersionsResponse } from './types';

const SERVICES: ServicesResponse = {
  services: [
    { name: 'ollama', maintainer: 'community', repo: 'ollama/ollama', chart: 'ollama' },
    { name: 'vllm-stack', maintainer: 'vendor', repo: 'vllm-project/production-stack', chart: 'vllm-stack' },
    { name: 'chromadb', maintainer: 'community', repo: 'chroma-core/chroma', chart: 'chromadb' },
    { name: 'gpu-operator', maintainer: 'vendor', repo: 'NVIDIA/gpu-operator', chart: 'gpu-operator' },
  ],
  maintainers: ['vendor', 'community'],
};

const ALL_SERVICES = ['ollama', 'chromadb', 'vllm-stack', 'gpu-operator'];

function makeDataSource() {
  return new DataSource({
    uid: 'lagwatch-uid',
    type: 'lagwatch-datasource',
    name: 'Lagwatch',
    jsonData: {},
    access: 'proxy',
    readOnly: false,
    meta: {} as DataSourceInstanceSettings['meta'],
  } as DataSourceInstanceSettings<LagwatchOptions>);
}

function setVariables(service: string | string[], opts: { allValue?: string; maintainer?: string | string[] } = {}) {
  setTemplateSrv(
    fakeTemplateSrv({
      service: { current: service, options: ALL_SERVICES, allValue: opts.allValue },
      maintainer: { current: opts.maintainer ?? '$__all', options: ['community', 'vendor'] },
      metric: { current: ['lag', 'drift'], options: ['lag', 'drift'] },
      allMetrics: { current: '$__all', options: [], allValue: '*' },
    })
  );
}

const q = (patch: Partial<LagwatchQuery>): LagwatchQuery => ({ refId: 'A', queryType: 'lag', ...patch });

describe('applyTemplateVariables', () => {
  const ds = makeDataSource();

  it('interpolates a single-value $service', () => {
    setVariables('ollama');
    expect(ds.applyTemplateVariables(q({ services: ['$service'] }), {}).services).toEqual(['ollama']);
  });

  it('expands a multi-value $service into several names', () => {
    setVariables(['ollama', 'chromadb']);
    expect(ds.applyTemplateVariables(q({ services: ['$service'] }), {}).services).toEqual(['ollama', 'chromadb']);
  });

  it('expands ${service} next to literal names and drops duplicates', () => {
    setVariables(['ollama', 'chromadb']);
    const out = ds.applyTemplateVariables(q({ services: ['vllm-stack', '${service}', 'ollama'] }), {});
    expect(out.services).toEqual(['vllm-stack', 'ollama', 'chromadb']);
  });

  it('expands All without a custom all value into the full list', () => {
    setVariables(['$__all']);
    expect(ds.applyTemplateVariables(q({ services: ['$service'] }), {}).services).toEqual(ALL_SERVICES);
  });

  it.each(['*', '$__all', 'All'])('reads All with the custom all value %s as every service', (allValue) => {
    setVariables('$__all', { allValue });
    expect(ds.applyTemplateVariables(q({ services: ['ollama', '$service'] }), {}).services).toEqual([]);
  });

  it('prefers scoped variables (repeated panels and rows)', () => {
    setVariables(['ollama', 'chromadb']);
    const scoped: ScopedVars = { service: { text: 'gpu-operator', value: 'gpu-operator' } };
    expect(ds.applyTemplateVariables(q({ services: ['$service'] }), scoped).services).toEqual(['gpu-operator']);
  });

  it('interpolates $maintainer; All or several values mean any maintainer', () => {
    setVariables('ollama', { maintainer: 'vendor' });
    expect(ds.applyTemplateVariables(q({ maintainer: '$maintainer' }), {}).maintainer).toBe('vendor');
    setVariables('ollama', { maintainer: '$__all' });
    expect(ds.applyTemplateVariables(q({ maintainer: '$maintainer' }), {}).maintainer).toBe('');
    setVariables('ollama', { maintainer: ['vendor', 'community'] });
    expect(ds.applyTemplateVariables(q({ maintainer: '$maintainer' }), {}).maintainer).toBe('');
  });

  it('interpolates metrics and leaves literal values and the other fields alone', () => {
    setVariables('ollama');
    const out = ds.applyTemplateVariables(
      q({ queryType: 'current', metrics: ['$metric' as never, 'chart_age'], maintainer: 'community', hide: false }),
      {}
    );
    expect(out).toEqual({
      refId: 'A',
      queryType: 'current',
      metrics: ['lag', 'drift', 'chart_age'],
      maintainer: 'community',
      hide: false,
    });
  });

  it('expands All metrics to the metrics of the query type: a lag query never asks for the verdict', () => {
    setVariables('ollama');
    const lag = ds.applyTemplateVariables(q({ queryType: 'lag', metrics: ['$allMetrics' as never] }), {});
    expect(lag.metrics).toEqual([
      'lag',
      'versions_behind',
      'drift',
      'chart_age',
      'is_current',
      'deployed_versions_behind',
      'deployed_lag',
      'rollout_lag',
      'security_fixes_behind',
      'security_lag',
      'security_severity',
      'eol',
      'support_left',
      'deployed_security_fixes_behind',
      'deployed_security_lag',
      'deployed_security_severity',
      'deployed_eol',
      'deployed_support_left',
    ]);
    const current = ds.applyTemplateVariables(q({ queryType: 'current', metrics: ['$allMetrics' as never] }), {});
    expect(current.metrics).toContain('verdict');
    expect(current.metrics).toHaveLength(19);
    // A stored query without a type is a lag query.
    expect(ds.applyTemplateVariables({ refId: 'A', metrics: ['*' as never] }, {}).metrics).not.toContain('verdict');
  });

  describe('what-if version (deployedVersion)', () => {
    const run = (deployedVersion: string, scopedVars: ScopedVars = {}) =>
      ds.applyTemplateVariables(q({ queryType: 'current', deployedVersion }), scopedVars);

    beforeEach(() =>
      setTemplateSrv(
        fakeTemplateSrv({
          version: { current: '0.12.3', options: ['0.12.3', '0.12.2'] },
          shortVersion: { current: 'v0.12', options: ['v0.12'] },
          rc: { current: '0.12-rc1', options: ['0.12-rc1'] },
          nightly: { current: 'nightly', options: ['nightly'] },
          several: { current: ['0.12.3', '0.12.2'], options: ['0.12.3', '0.12.2'], multi: true },
          all: { current: '$__all', options: ['0.12.3', '0.12.2'], includeAll: true },
        })
      )
    );

    it.each(['$version', '${version}', '${version:raw}', '[[version]]', ' $version '])('interpolates %j', (stored) => {
      expect(run(stored)).toEqual({ refId: 'A', queryType: 'current', deployedVersion: '0.12.3' });
    });

    it('normalises the value of the variable when it is a version, keeping a prerelease', () => {
      expect(run('$shortVersion').deployedVersion).toBe('0.12.0');
      expect(run('$rc').deployedVersion).toBe('0.12.0-rc1');
    });

    it('prefers scoped variables (repeated panels and rows)', () => {
      expect(run('$version', { version: { text: 'v0.11', value: 'v0.11' } }).deployedVersion).toBe('0.11.0');
    });

    it('sends a value that is no version as it is, for the backend to refuse by name', () => {
      expect(run('$nightly').deployedVersion).toBe('nightly');
      // A format in the template wins: ${several:raw} joins the values, which is no version.
      expect(run('${several:raw}').deployedVersion).toBe('0.12.3,0.12.2');
    });

    it('leaves a variable the dashboard does not define as typed: the backend names it', () => {
      // The backend answers "deployedVersion: template variable $app_version was not replaced".
      expect(run('$app_version').deployedVersion).toBe('$app_version');
      expect(run('${app_version}').deployedVersion).toBe('${app_version}');
    });

    it.each([
      ['several values', '$several'],
      ['All', '$all'],
    ])('sends no what-if version when the variable has %s (the catalog deployed version counts)', (_, stored) => {
      const out = run(stored);
      expect(out).toEqual({ refId: 'A', queryType: 'current' });
      expect('deployedVersion' in out).toBe(false);
    });

    it('normalises a literal version and drops an empty one', () => {
      expect(run('0.11.10').deployedVersion).toBe('0.11.10');
      expect(run('v1.2').deployedVersion).toBe('1.2.0');
      expect('deployedVersion' in run('  ')).toBe(false);
    });
  });

  it('sends the what-if version and the new event kinds as they are', () => {
    setVariables('ollama');
    expect(ds.applyTemplateVariables(q({ queryType: 'status', deployedVersion: '0.11.10' }), {})).toEqual({
      refId: 'A',
      queryType: 'status',
      deployedVersion: '0.11.10',
    });
    expect(
      ds.applyTemplateVariables(q({ queryType: 'events', eventKinds: ['deployed', 'forecast'] }), {}).eventKinds
    ).toEqual(['deployed', 'forecast']);
  });

  it('fills in the lag query type for stored queries without one', () => {
    setVariables('ollama');
    expect(ds.applyTemplateVariables({ refId: 'A' }, {})).toEqual({ refId: 'A', queryType: 'lag' });
  });
});

describe('DataSource', () => {
  const ds = makeDataSource();

  it('drops hidden queries', () => {
    expect(ds.filterQuery(q({ hide: true }))).toBe(false);
    expect(ds.filterQuery(q({}))).toBe(true);
  });

  it('defaults a new query to the lag of every service', () => {
    expect(ds.getDefaultQuery('dashboard' as never)).toEqual({ queryType: 'lag', metrics: ['lag'], services: [] });
  });
});

describe('variable support', () => {
  const ds = makeDataSource();
  jest.spyOn(ds, 'getResource').mockResolvedValue(SERVICES);

  const run = async (query: Partial<LagwatchVariableQuery>, maintainer = 'vendor') => {
    setVariables('ollama', { maintainer });
    const res = await firstValueFrom(
      (ds.variables as LagwatchVariableSupport).query({ targets: [{ refId: 'V', ...query }], scopedVars: {} } as never)
    );
    const frame = res.data[0];
    return frame.fields.find((f: { name: string }) => f.name === 'text').values;
  };

  it('lists every service, sorted, from GET /services', async () => {
    expect(await run({ list: 'services' })).toEqual(['chromadb', 'gpu-operator', 'ollama', 'vllm-stack']);
    expect(ds.getResource).toHaveBeenCalledWith('services');
  });

  it('lists the services of one maintainer, also through $maintainer', async () => {
    expect(await run({ list: 'services', maintainer: 'community' })).toEqual(['chromadb', 'ollama']);
    expect(await run({ list: 'services', maintainer: '$maintainer' }, 'vendor')).toEqual([
      'gpu-operator',
      'vllm-stack',
    ]);
    expect(await run({ list: 'services', maintainer: '$maintainer' }, '$__all')).toHaveLength(4);
  });

  it('lists maintainers', async () => {
    expect(await run({ list: 'maintainers' })).toEqual(['community', 'vendor']);
  });

  it('lists services when the stored query is empty (a new variable)', async () => {
    expect(await run({})).toHaveLength(4);
  });
});

describe('versions variable', () => {
  const VERSIONS: VersionsResponse = {
    service: 'ollama',
    // As the backend sends them: time ascending, which is not semver order.
    upstream: [
      { version: '0.9.6', tag: 'v0.9.6', time: '2025-07-08T00:00:00Z' },
      { version: '0.12.3', tag: 'v0.12.3', time: '2025-09-26T01:30:45Z' },
      { version: '0.11.10', tag: 'v0.11.10', time: '2025-09-04T00:00:00Z' },
      { version: 'nightly', tag: 'nightly', time: '2025-09-27T00:00:00Z' },
      { version: '0.12.3', tag: '0.12.3', time: '2025-09-27T00:00:00Z' },
      { version: '0.12.0-rc0', tag: 'v0.12.0-rc0', time: '2025-09-10T00:00:00Z' },
      { version: '0.12.0', tag: 'v0.12.0', time: '2025-09-18T23:11:08Z' },
    ],
    chart: [
      { version: '1.29.0', packaged: '0.11.11', time: '2025-09-17T00:00:00Z' },
      { version: '1.30.0', packaged: '0.12.2', time: '2025-09-25T00:00:00Z' },
      { version: '1.4.0', packaged: '0.6.0', time: '2025-02-01T00:00:00Z' },
    ],
  };

  const setup = (response: unknown = VERSIONS) => {
    const ds = makeDataSource();
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue(response);
    const run = async (query: Partial<LagwatchVariableQuery>, scopedVars: ScopedVars = {}) => {
      const res = await firstValueFrom(
        (ds.variables as LagwatchVariableSupport).query({
          targets: [{ refId: 'V', list: 'versions', ...query }],
          scopedVars,
        } as never)
      );
      const frame = res.data[0];
      const field = (name: string) => frame.fields.find((f: { name: string }) => f.name === name).values;
      expect(field('value')).toEqual(field('text'));
      return field('text');
    };
    return { ds, getResource, run };
  };

  it('lists upstream versions newest first by semver, values that are not semver last, each once', async () => {
    setVariables('ollama');
    const { getResource, run } = setup();
    expect(await run({ service: 'ollama' })).toEqual(['0.12.3', '0.12.0', '0.12.0-rc0', '0.11.10', '0.9.6', 'nightly']);
    expect(getResource).toHaveBeenCalledWith('versions', { service: 'ollama' });
  });

  it('lists the chart versions for kind chart, not the versions they ship', async () => {
    setVariables('ollama');
    const { run } = setup();
    expect(await run({ service: 'ollama', versionKind: 'chart' })).toEqual(['1.30.0', '1.29.0', '1.4.0']);
  });

  it('lists the upstream versions the charts ship for kind packaged, each once, newest first', async () => {
    setVariables('ollama');
    const { getResource, run } = setup({
      ...VERSIONS,
      chart: [
        ...VERSIONS.chart,
        // Two chart releases shipping one upstream version, one shipping a prerelease, one not semver.
        { version: '1.30.1', packaged: '0.12.2', time: '2025-09-26T00:00:00Z' },
        { version: '1.31.0-rc.1', packaged: '0.12.3-rc0', time: '2025-09-27T00:00:00Z' },
        { version: '1.0.0', packaged: 'latest', time: '2024-01-01T00:00:00Z' },
        { version: '0.9.0', packaged: '', time: '2023-01-01T00:00:00Z' },
      ],
    });
    expect(await run({ service: 'ollama', versionKind: 'packaged' })).toEqual([
      '0.12.3-rc0',
      '0.12.2',
      '0.11.11',
      '0.6.0',
      'latest',
    ]);
    expect(getResource).toHaveBeenCalledWith('versions', { service: 'ollama' });
  });

  it('reads chart entries without packaged as shipping nothing', async () => {
    setVariables('ollama');
    const { run } = setup({ service: 'ollama', upstream: [], chart: [{ version: '1.0.0', time: '' }] });
    expect(await run({ service: 'ollama', versionKind: 'packaged' })).toEqual([]);
  });

  it('interpolates $service, scoped variables first', async () => {
    setVariables('chromadb');
    const { getResource, run } = setup();
    await run({ service: '$service' });
    expect(getResource).toHaveBeenLastCalledWith('versions', { service: 'chromadb' });
    await run({ service: '${service}' }, { service: { text: 'gpu-operator', value: 'gpu-operator' } });
    expect(getResource).toHaveBeenLastCalledWith('versions', { service: 'gpu-operator' });
  });

  it.each([
    ['several values', ['ollama', 'chromadb']],
    ['All', '$__all'],
  ])('lists nothing, without a request, when $service has %s', async (_, current) => {
    setVariables(current);
    const { getResource, run } = setup();
    expect(await run({ service: '$service' })).toEqual([]);
    expect(await run({})).toEqual([]);
    expect(getResource).not.toHaveBeenCalled();
  });

  it('names a variable the dashboard does not define instead of asking for it', async () => {
    setVariables('ollama');
    const { getResource, run } = setup();
    await expect(run({ service: '$app' })).rejects.toThrow(
      'service: template variable $app was not replaced: check that the dashboard defines it'
    );
    expect(getResource).not.toHaveBeenCalled();
  });

  it('passes on the error of GET /versions (unknown service)', async () => {
    setVariables('ollama');
    const { ds, run } = setup();
    jest.spyOn(ds, 'getResource').mockRejectedValue({ status: 400, data: { error: 'unknown service "olama"' } });
    await expect(run({ service: 'olama' })).rejects.toEqual({
      status: 400,
      data: { error: 'unknown service "olama"' },
    });
  });

  it('reads a response without lists as no versions', async () => {
    setVariables('ollama');
    const { ds, run } = setup({ service: 'ollama' });
    expect(await run({ service: 'ollama' })).toEqual([]);
    expect(await getVersions(ds, 'ollama')).toEqual({ service: 'ollama', upstream: [], chart: [] });
  });
});

describe('annotations', () => {
  const ds = makeDataSource();
  const annotations = ds.annotations!;

  const eventsFrame = toDataFrame({
    refId: 'LagwatchAnnotations',
    fields: [
      { name: 'time', type: FieldType.time, values: [Date.UTC(2025, 8, 1), Date.UTC(2025, 8, 3)] },
      { name: 'title', type: FieldType.string, values: ['ollama 0.12.3 released', 'chart ollama 1.30.0 ships 0.12.2'] },
      {
        name: 'text',
        type: FieldType.string,
        values: ['ollama/ollama published v0.12.3 (tags)', 'Helm chart ollama 1.30.0 (appVersion 0.12.2) published'],
      },
      { name: 'tags', type: FieldType.string, values: ['lagwatch,ollama,upstream', 'lagwatch, ollama ,chart,'] },
      { name: 'service', type: FieldType.string, values: ['ollama', 'ollama'] },
      { name: 'kind', type: FieldType.string, values: ['upstream', 'chart'] },
      { name: 'version', type: FieldType.string, values: ['0.12.3', '1.30.0'] },
    ],
  });

  it('maps the events frame: time, title, text and tags split on commas', async () => {
    const anno = { name: 'Releases', enable: true, iconColor: 'blue' } as AnnotationQuery<LagwatchQuery>;
    const events = await firstValueFrom(annotations.processEvents!(anno, [eventsFrame]));
    expect(events).toEqual([
      {
        time: Date.UTC(2025, 8, 1),
        title: 'ollama 0.12.3 released',
        text: 'ollama/ollama published v0.12.3 (tags)',
        tags: ['lagwatch', 'ollama', 'upstream'],
      },
      {
        time: Date.UTC(2025, 8, 3),
        title: 'chart ollama 1.30.0 ships 0.12.2',
        text: 'Helm chart ollama 1.30.0 (appVersion 0.12.2) published',
        tags: ['lagwatch', 'ollama', 'chart'],
      },
    ]);
  });

  it('maps an empty frame and frames without time to no events', () => {
    expect(framesToEvents([toDataFrame({ fields: [] })])).toEqual([]);
    expect(framesToEvents([])).toEqual([]);
  });

  it('always runs the events query type, keeping the service and kind filters', () => {
    const stored = {
      name: 'Releases',
      enable: true,
      iconColor: 'blue',
      target: { refId: 'A', queryType: 'lag', services: ['$service'], eventKinds: ['chart'] },
    } as AnnotationQuery<LagwatchQuery>;
    const prepared = annotations.prepareAnnotation!(stored);
    expect(prepared.target).toEqual({ refId: 'A', queryType: 'events', services: ['$service'], eventKinds: ['chart'] });
    expect(annotations.prepareQuery!(prepared)).toEqual(prepared.target);
  });

  it('gives new annotations an events query', () => {
    const prepared = annotations.prepareAnnotation!({ name: 'New', enable: true, iconColor: 'red' } as never);
    expect(prepared.target).toEqual({ refId: 'LagwatchAnnotations', queryType: 'events' });
    expect(annotations.getDefaultQuery!()).toEqual({ refId: 'LagwatchAnnotations', queryType: 'events' });
  });

  it('interpolates $service in annotation queries like in panels', () => {
    setVariables(['ollama', 'chromadb']);
    const target = annotations.prepareQuery!({
      name: 'Releases',
      enable: true,
      iconColor: 'blue',
      target: { refId: 'A', services: ['$service'] },
    } as AnnotationQuery<LagwatchQuery>)!;
    expect(ds.applyTemplateVariables(target, {}).services).toEqual(['ollama', 'chromadb']);
  });
});
