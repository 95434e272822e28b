import fs from 'fs';
import path from 'path';

import {
  coversSeveralServices,
  hasLastHopMetric,
  hasSecurityMetric,
  metricsFor,
  normalizeNames,
  parseQuery,
  showsMinSeverity,
  showsWhatIfVersion,
  validateQuery,
} from './queryModel';
import { EVENT_KIND_VALUES, LAST_HOP_METRICS, LagwatchQuery, Metric, METRICS, SECURITY_METRICS } from './types';

const QUERIES_DIR = path.resolve(__dirname, '..', 'testdata', 'queries');
// DataQuery envelope fields plus the fields of LagwatchQuery (models.Query).
const KNOWN_KEYS = [
  'refId',
  'hide',
  'key',
  'queryType',
  'datasource',
  'services',
  'maintainer',
  'metrics',
  'eventKinds',
  'deployedVersion',
  'minSeverity',
];
const NORMALISATION = 'services-normalisation.json';
const files = fs.readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.json') && f !== NORMALISATION);

describe('shared example queries (testdata/queries)', () => {
  it('has example files', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s parses into LagwatchQuery and validates', (file) => {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(QUERIES_DIR, file), 'utf8'));
    const q: LagwatchQuery = parseQuery(json);
    expect(validateQuery(q)).toEqual([]);
    expect(q.refId).toBe('A');
    // Nothing is lost or added when reading, and the TS model declares every field of the file.
    expect(q).toEqual(json);
    expect(Object.keys(json as object).filter((k) => !KNOWN_KEYS.includes(k))).toEqual([]);
  });

  it('reads the fields of lag-metrics.json', () => {
    const q = parseQuery(JSON.parse(fs.readFileSync(path.join(QUERIES_DIR, 'lag-metrics.json'), 'utf8')));
    expect(q.queryType).toBe('lag');
    expect(q.services).toEqual(['ollama', 'chromadb']);
    expect(q.metrics).toEqual(['lag', 'versions_behind', 'chart_age']);
  });

  it('reads the what-if version and the last-hop metrics of current-deployed.json', () => {
    const q = parseQuery(JSON.parse(fs.readFileSync(path.join(QUERIES_DIR, 'current-deployed.json'), 'utf8')));
    expect(q.queryType).toBe('current');
    expect(q.deployedVersion).toBe('0.11.10');
    expect(q.metrics).toEqual(['deployed_versions_behind', 'deployed_lag', 'rollout_lag', 'verdict']);
  });

  it('reads the minimum severity of current-security-alert.json', () => {
    const q = parseQuery(JSON.parse(fs.readFileSync(path.join(QUERIES_DIR, 'current-security-alert.json'), 'utf8')));
    expect(q).toEqual({
      refId: 'A',
      queryType: 'current',
      metrics: ['deployed_security_lag'],
      minSeverity: 'high',
    });
    expect(showsMinSeverity(q, 'current')).toBe(true);
  });
});

describe('services normalisation shared with the Go model (testdata/queries)', () => {
  const { cases } = JSON.parse(fs.readFileSync(path.join(QUERIES_DIR, NORMALISATION), 'utf8')) as {
    cases: Array<{ input: string[]; expected: string[] }>;
  };

  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('reads $input as $expected', ({ input, expected }) => {
    expect(normalizeNames(input)).toEqual(expected);
  });
});

describe('validateQuery mirrors models.ParseQuery', () => {
  it('accepts an empty query (lag by default)', () => {
    expect(validateQuery({ refId: 'A' })).toEqual([]);
  });

  it('rejects an unknown query type', () => {
    expect(validateQuery({ refId: 'A', queryType: 'latest' as never })).toEqual([
      'queryType "latest" is not one of lag, current, status, events',
    ]);
  });

  it('rejects unknown metrics and event kinds, one message each', () => {
    const errs = validateQuery({
      refId: 'A',
      metrics: ['lag', 'age' as never],
      eventKinds: ['upstream', 'image' as never],
    });
    expect(errs).toEqual([
      'metric "age" is not one of lag, versions_behind, drift, chart_age, is_current, deployed_versions_behind, deployed_lag, rollout_lag, ' +
        'security_fixes_behind, security_lag, security_severity, eol, support_left, deployed_security_fixes_behind, ' +
        'deployed_security_lag, deployed_security_severity, deployed_eol, deployed_support_left, verdict',
      'event kind "image" is not one of upstream, chart, deployed, forecast, advisory, eol',
    ]);
  });

  it('accepts the verdict in current queries only', () => {
    expect(validateQuery({ refId: 'A', queryType: 'current', metrics: ['verdict', 'deployed_lag'] })).toEqual([]);
    const noHistory = ['metric "verdict" has no history: use it in a current query, not in a lag query'];
    expect(validateQuery({ refId: 'A', queryType: 'lag', metrics: ['lag', 'verdict'] })).toEqual(noHistory);
    expect(validateQuery({ refId: 'A', metrics: ['verdict'] })).toEqual(noHistory);
  });

  it.each(['0.12.3', 'v0.12.3', '1.2.3-rc.1+build.5'])('accepts the what-if version %s', (deployedVersion) => {
    expect(validateQuery({ refId: 'A', queryType: 'status', deployedVersion })).toEqual([]);
  });

  it.each(['$version', '${version}', '${version:raw}', '[[version]]'])(
    'accepts the dashboard variable %s as what-if version (interpolated before the backend reads it)',
    (deployedVersion) => {
      expect(validateQuery({ refId: 'A', queryType: 'current', deployedVersion })).toEqual([]);
    }
  );

  it.each(['latest', 'v1.2', '1', '=1.2.3', 'v$version'])(
    'rejects the what-if version %s, which the backend does not read as semver',
    (deployedVersion) => {
      expect(validateQuery({ refId: 'A', queryType: 'lag', deployedVersion })).toEqual([
        `deployedVersion (what-if version) "${deployedVersion}" is not a semver version`,
      ]);
    }
  );
});

describe('minimum severity (minSeverity)', () => {
  it.each(['low', 'medium', 'high', 'critical', ''] as const)(
    'accepts %p in lag, current and status queries',
    (minSeverity) => {
      for (const queryType of ['lag', 'current', 'status', undefined] as const) {
        expect(validateQuery({ refId: 'A', queryType, minSeverity })).toEqual([]);
      }
    }
  );

  it('rejects an unknown severity, naming it', () => {
    expect(validateQuery({ refId: 'A', queryType: 'current', minSeverity: 'moderate' as never })).toEqual([
      'minSeverity "moderate" is not one of low, medium, high, critical',
    ]);
  });

  it('rejects it in events queries, like the backend', () => {
    expect(validateQuery({ refId: 'A', queryType: 'events', minSeverity: 'high' })).toEqual([
      'minSeverity (minimum severity) applies to lag, current and status queries, not events: remove it',
    ]);
    expect(validateQuery({ refId: 'A', queryType: 'events', minSeverity: '' })).toEqual([]);
    // As the backend: the query type is looked at first.
    expect(validateQuery({ refId: 'A', queryType: 'events', minSeverity: 'moderate' as never })).toEqual([
      'minSeverity (minimum severity) applies to lag, current and status queries, not events: remove it',
    ]);
  });

  it('trims it, as the backend does', () => {
    expect(validateQuery({ refId: 'A', queryType: 'status', minSeverity: ' high ' as never })).toEqual([]);
    expect(validateQuery({ refId: 'A', queryType: 'events', minSeverity: ' ' as never })).toEqual([]);
  });

  it('is read as a string', () => {
    expect(() => parseQuery({ refId: 'A', minSeverity: 3 })).toThrow('minSeverity must be a string');
    expect(parseQuery({ refId: 'A', minSeverity: 'critical' })).toEqual({ refId: 'A', minSeverity: 'critical' });
  });

  it('counts the security metrics only, for the chart and the last hop', () => {
    expect(SECURITY_METRICS).toEqual(METRICS.map((c) => c.value).filter((m) => m.includes('security_')));
    expect(hasSecurityMetric({ metrics: ['lag', 'deployed_security_lag'] })).toBe(true);
    expect(hasSecurityMetric({ metrics: ['security_severity'] })).toBe(true);
    expect(hasSecurityMetric({ metrics: ['eol', 'deployed_support_left', 'deployed_lag', 'verdict'] })).toBe(false);
    expect(hasSecurityMetric({})).toBe(false);
  });

  it('is shown for status always, for lag and current with a security metric or a stored value, never for events', () => {
    expect(showsMinSeverity({ refId: 'A' }, 'status')).toBe(true);
    for (const queryType of ['lag', 'current'] as const) {
      expect(showsMinSeverity({ refId: 'A', metrics: ['lag', 'eol'] }, queryType)).toBe(false);
      expect(showsMinSeverity({ refId: 'A', metrics: ['security_fixes_behind'] }, queryType)).toBe(true);
      expect(showsMinSeverity({ refId: 'A', metrics: ['lag'], minSeverity: 'low' }, queryType)).toBe(true);
      expect(showsMinSeverity({ refId: 'A', metrics: ['lag'], minSeverity: '' }, queryType)).toBe(false);
    }
    expect(showsMinSeverity({ refId: 'A', metrics: ['security_lag'], minSeverity: 'high' }, 'events')).toBe(false);
  });
});

describe('metricsFor', () => {
  it('gives lag queries every metric but the verdict, and current queries all of them', () => {
    expect(metricsFor('lag')).not.toContain('verdict');
    expect(metricsFor('lag')).toContain('rollout_lag');
    expect(metricsFor(undefined)).toEqual(metricsFor('lag'));
    expect(metricsFor('current')).toEqual([...metricsFor('lag'), 'verdict']);
  });

  it('offers the security and end-of-life metrics, for the chart and the last hop, in lag and current queries', () => {
    const security: Metric[] = ['security_fixes_behind', 'security_lag', 'security_severity', 'eol', 'support_left'];
    const deployed = security.map((m) => `deployed_${m}` as Metric);
    for (const queryType of ['lag', 'current'] as const) {
      expect(metricsFor(queryType)).toEqual(expect.arrayContaining([...security, ...deployed]));
    }
    for (const m of [...security, ...deployed]) {
      expect(validateQuery({ refId: 'A', queryType: 'lag', metrics: [m] })).toEqual([]);
      // One label and a one-line hint each, as the query editor shows them.
      const choice = METRICS.find((c) => c.value === m);
      expect(choice?.label).toMatch(/^[A-Z]/);
      expect(choice?.hint).not.toContain('\n');
    }
    expect(new Set(METRICS.map((c) => c.label)).size).toBe(METRICS.length);
    expect(EVENT_KIND_VALUES).toEqual(['upstream', 'chart', 'deployed', 'forecast', 'advisory', 'eol']);
  });
});

describe('what-if version field', () => {
  it('counts the last-hop metrics only', () => {
    expect(hasLastHopMetric({ metrics: ['lag', 'deployed_lag'] })).toBe(true);
    expect(hasLastHopMetric({ metrics: ['deployed_versions_behind'] })).toBe(true);
    expect(hasLastHopMetric({ metrics: ['rollout_lag'] })).toBe(true);
    // Every deployed_* metric is a last-hop one (the what-if version applies), and only those and rollout lag.
    expect(LAST_HOP_METRICS).toEqual(
      METRICS.map((c) => c.value).filter((m) => m.startsWith('deployed_') || m === 'rollout_lag')
    );
    expect(hasLastHopMetric({ metrics: ['deployed_security_severity'] })).toBe(true);
    expect(hasLastHopMetric({ metrics: ['deployed_support_left'] })).toBe(true);
    expect(hasLastHopMetric({ metrics: ['security_lag', 'eol', 'support_left', 'security_severity'] })).toBe(false);
    expect(
      hasLastHopMetric({ metrics: ['lag', 'versions_behind', 'drift', 'chart_age', 'is_current', 'verdict'] })
    ).toBe(false);
    expect(hasLastHopMetric({})).toBe(false);
  });

  it('is shown for status always, for lag and current with a last-hop metric, never for events', () => {
    expect(showsWhatIfVersion({ refId: 'A' }, 'status')).toBe(true);
    for (const queryType of ['lag', 'current'] as const) {
      expect(showsWhatIfVersion({ refId: 'A', metrics: ['lag', 'drift'] }, queryType)).toBe(false);
      expect(showsWhatIfVersion({ refId: 'A' }, queryType)).toBe(false);
      expect(showsWhatIfVersion({ refId: 'A', metrics: ['lag', 'rollout_lag'] }, queryType)).toBe(true);
    }
    expect(showsWhatIfVersion({ refId: 'A', metrics: ['deployed_lag'], deployedVersion: '1.0.0' }, 'events')).toBe(
      false
    );
  });

  it('stays shown while a lag or current query holds a what-if version, so that it can be removed', () => {
    expect(showsWhatIfVersion({ refId: 'A', metrics: ['lag'], deployedVersion: '0.12.3' }, 'lag')).toBe(true);
    expect(showsWhatIfVersion({ refId: 'A', metrics: ['lag'], deployedVersion: ' ' }, 'current')).toBe(false);
  });

  describe('coversSeveralServices', () => {
    const variables = [
      { name: 'service', multi: true, includeAll: true },
      { name: 'multi', multi: true },
      { name: 'withAll', includeAll: true },
      { name: 'single', multi: false, includeAll: false },
    ];

    it.each([
      ['no services (every one)', []],
      ['an all marker', ['$__all']],
      ['several services', ['ollama', 'chromadb']],
      ['several names in one entry', ['ollama, chromadb']],
      ['a multi-value variable', ['$service']],
      ['a multi-value variable as ${name:csv}', ['${multi:csv}']],
      ['a variable with All', ['[[withAll]]']],
      ['two single-value variables', ['$single', 'ollama']],
    ])('is true for %s', (_, services) => {
      expect(coversSeveralServices(services, variables)).toBe(true);
    });

    it('is true when services is unset', () => {
      expect(coversSeveralServices(undefined, variables)).toBe(true);
    });

    it.each([
      ['one service', ['ollama']],
      ['one service twice', ['ollama', ' ollama ']],
      ['a single-value variable', ['$single']],
      ['a variable the dashboard does not define', ['$unknown']],
    ])('is false for %s', (_, services) => {
      expect(coversSeveralServices(services, variables)).toBe(false);
    });
  });
});

describe('parseQuery', () => {
  it('rejects wrongly typed fields', () => {
    expect(() => parseQuery({ refId: 'A', services: 'ollama' })).toThrow('services must be a list of strings');
    expect(() => parseQuery({ refId: 'A', metrics: [1] })).toThrow('metrics must be a list of strings');
    expect(() => parseQuery({ refId: 'A', maintainer: 3 })).toThrow('maintainer must be a string');
    expect(() => parseQuery({ refId: 'A', deployedVersion: 12 })).toThrow('deployedVersion must be a string');
    expect(() => parseQuery([])).toThrow('query JSON must be an object');
  });

  it('keeps DataQuery envelope fields', () => {
    expect(parseQuery({ refId: 'B', hide: true, queryType: 'status' })).toEqual({
      refId: 'B',
      hide: true,
      queryType: 'status',
    });
  });
});

describe('normalizeNames', () => {
  it('splits, trims, drops empties and duplicates', () => {
    expect(normalizeNames(['ollama, chromadb', '', ' ollama ', 'vllm-stack'])).toEqual([
      'ollama',
      'chromadb',
      'vllm-stack',
    ]);
  });

  it.each(['$__all', '*', 'All'])('%s means all', (marker) => {
    expect(normalizeNames(['ollama', marker])).toEqual([]);
  });
});
