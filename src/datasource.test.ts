import { AnnotationQuery, DataSourceInstanceSettings, FieldType, ScopedVars, toDataFrame } from '@grafana/data';
import { setTemplateSrv } from '@grafana/runtime';
import { firstValueFrom } from 'rxjs';

import { framesToEvents } from './annotations';
import { DataSource } from './datasource';
import { LagwatchVariableSupport } from './variables';
import { fakeTemplateSrv } from './testing/templateSrv';
import { LagwatchOptions, LagwatchQuery, LagwatchVariableQuery, ServicesResponse } from './types';

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
