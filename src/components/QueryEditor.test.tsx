import { act, render, screen, waitFor, within } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';
import React from 'react';

import type { DataSource } from '../datasource';
import { giveElementsASize } from '../testing/combobox';
import { renderControlled, setupUser } from '../testing/controlled';
import { fakeTemplateSrv } from '../testing/templateSrv';
import { LagwatchQuery, ServicesResponse } from '../types';
import { MIN_SEVERITY_DESCRIPTION, NO_LAST_HOP_WARNING, NO_SECURITY_METRIC_WARNING, QueryEditor } from './QueryEditor';
import { AnnotationQueryEditor } from './AnnotationQueryEditor';

const SERVICES: ServicesResponse = {
  services: [
    { name: 'ollama', maintainer: 'community', repo: 'ollama/ollama', chart: 'ollama' },
    { name: 'chromadb', maintainer: 'community', repo: 'chroma-core/chroma', chart: 'chromadb' },
    { name: 'vllm-stack', maintainer: 'vendor', repo: 'vllm-project/production-stack', chart: 'vllm-stack' },
  ],
  maintainers: ['community', 'vendor'],
};

beforeAll(() => giveElementsASize());

beforeEach(() => {
  setTemplateSrv(fakeTemplateSrv({ service: { current: 'ollama', options: ['ollama'] } }));
});

function setup(initial: Partial<LagwatchQuery> = {}, Editor: typeof QueryEditor = QueryEditor) {
  const datasource = { getResource: jest.fn().mockResolvedValue(SERVICES) } as unknown as DataSource;
  const onRunQuery = jest.fn();
  const { onChange, user } = renderControlled<LagwatchQuery>({ refId: 'A', ...initial }, (query, onChange) => (
    <Editor datasource={datasource} query={query} onChange={onChange} onRunQuery={onRunQuery} />
  ));
  return { onChange, onRunQuery, datasource, user };
}

/** Lets the mocked GET /services answer inside act, for tests that do not interact after rendering. */
const catalogLoaded = () => act(async () => {});

const lastQuery = (onChange: jest.Mock): LagwatchQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];

/** Picks an option; `filter` is typed first, for options beyond what the virtualised menu renders. */
async function pick(user: ReturnType<typeof setupUser>, input: HTMLElement, option: string | RegExp, filter?: string) {
  await user.click(input);
  if (filter) {
    // Replaces an earlier filter; user.type would click again and close the menu.
    await user.keyboard(`{Control>}a{/Control}{Backspace}${filter}`);
  }
  await user.click(await screen.findByRole('option', { name: option }));
}

describe('QueryEditor', () => {
  it('shows the defaults of a new query: lag over time, metric lag, every service', async () => {
    const { datasource } = setup();
    expect(screen.getByRole('radio', { name: 'Lag over time' })).toBeChecked();
    expect(screen.getByText(/Time series, one per service and metric/)).toBeInTheDocument();
    expect(screen.getByText('Lag')).toBeInTheDocument();
    expect(screen.getByPlaceholderText('All services')).toBeInTheDocument();
    expect(screen.queryByText('Event kinds')).not.toBeInTheDocument();
    await waitFor(() => expect(datasource.getResource).toHaveBeenCalledTimes(1));
    expect(datasource.getResource).toHaveBeenCalledWith('services');
  });

  it('changes the query type, shows its hint and runs the query', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'lag', metrics: ['lag'] });
    await user.click(screen.getByRole('radio', { name: 'Current' }));
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'current', metrics: ['lag'] });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.getAllByText(/for Stat, Gauge and alert rules/)[0]).toBeInTheDocument();

    await user.click(screen.getByRole('radio', { name: 'Status' }));
    expect(lastQuery(onChange).queryType).toBe('status');
    expect(screen.queryByText('Metrics')).not.toBeInTheDocument();
  });

  it('selects services from GET /services and template variables', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'lag' });
    await pick(user, screen.getByPlaceholderText('All services'), /^ollama/);
    expect(lastQuery(onChange).services).toEqual(['ollama']);
    // The menu stays open for more choices; template variables are offered too.
    await user.click(await screen.findByRole('option', { name: /^\$service/ }));
    expect(lastQuery(onChange).services).toEqual(['ollama', '$service']);
    expect(onRunQuery).toHaveBeenCalledTimes(2);
  });

  it('selects a maintainer', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'status' });
    await pick(user, screen.getByPlaceholderText('Any maintainer'), /^vendor/);
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'status', maintainer: 'vendor' });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.getByDisplayValue('vendor')).toBeInTheDocument();
  });

  it('adds metrics to a current query', async () => {
    const { onChange, user } = setup({ queryType: 'current', metrics: ['lag'] });
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /Chart age/);
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'current', metrics: ['lag', 'chart_age'] });
  });

  it('toggles the six event kinds of an events query and keeps at least one', async () => {
    const { onChange, user } = setup({ queryType: 'events' });
    const box = (name: RegExp) => screen.getByRole('checkbox', { name });
    const all = [/Upstream releases/, /Chart releases/, /Deployed versions/, /Forecasts/, /Advisories/, /End of life/];
    for (const name of all) {
      expect(box(name)).toBeChecked();
    }
    expect(screen.getByText(/may lie after now/)).toBeInTheDocument();
    expect(screen.getByText(/id, severity and fixed version/)).toBeInTheDocument();
    expect(screen.queryByText('Metrics')).not.toBeInTheDocument();

    await user.click(box(/Chart releases/));
    expect(lastQuery(onChange).eventKinds).toEqual(['upstream', 'deployed', 'forecast', 'advisory', 'eol']);
    for (const name of [/Deployed versions/, /Forecasts/, /Advisories/, /End of life/]) {
      await user.click(box(name));
    }
    expect(lastQuery(onChange).eventKinds).toEqual(['upstream']);
    expect(box(/Upstream releases/)).toBeDisabled();

    await user.click(box(/End of life/));
    expect(lastQuery(onChange).eventKinds).toEqual(['upstream', 'eol']);
    await user.click(box(/Advisories/));
    expect(lastQuery(onChange).eventKinds).toEqual(['upstream', 'advisory', 'eol']);
    await user.click(box(/Upstream releases/));
    expect(lastQuery(onChange).eventKinds).toEqual(['advisory', 'eol']);
  });

  it('offers the deployed metrics in lag queries, and the verdict only in current queries', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['lag'] });
    await user.click(screen.getByRole('combobox', { name: /Metrics/ }));
    expect(await screen.findByRole('option', { name: /^Deployed versions behind/ })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: /^Deployed lag/ })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: /^Rollout lag/ })).toBeInTheDocument();
    await user.click(screen.getByRole('option', { name: /^Rollout lag/ }));
    expect(lastQuery(onChange).metrics).toEqual(['lag', 'rollout_lag']);
    // The same filter that finds it in a current query below.
    await user.click(screen.getByRole('combobox', { name: /Metrics/ }));
    await user.keyboard('Verdict');
    expect(screen.getByRole('combobox', { name: /Metrics/ })).toHaveValue('Verdict');
    expect(screen.queryByRole('option', { name: /^Verdict/ })).not.toBeInTheDocument();
    await user.keyboard('{Escape}');

    await user.click(screen.getByRole('radio', { name: 'Current' }));
    expect(lastQuery(onChange).metrics).toEqual(['lag', 'rollout_lag']);
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /^Verdict/, 'Verdict');
    expect(lastQuery(onChange)).toEqual({
      refId: 'A',
      queryType: 'current',
      metrics: ['lag', 'rollout_lag', 'verdict'],
    });
  });

  it('drops the verdict when a current query becomes a lag query', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'current', metrics: ['verdict', 'deployed_lag'] });
    await user.click(screen.getByRole('radio', { name: 'Lag over time' }));
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'lag', metrics: ['deployed_lag'] });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('falls back to the lag metric when the verdict was the only one', async () => {
    const { onChange, user } = setup({ queryType: 'current', metrics: ['verdict'] });
    // Status ignores metrics and keeps them; lag drops the verdict.
    await user.click(screen.getByRole('radio', { name: 'Status' }));
    expect(lastQuery(onChange).metrics).toEqual(['verdict']);
    await user.click(screen.getByRole('radio', { name: 'Lag over time' }));
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'lag', metrics: ['lag'] });
  });

  it('flags a stored lag query that asks for the verdict', async () => {
    setup({ queryType: 'lag', metrics: ['lag', 'verdict'] });
    await catalogLoaded();
    expect(screen.getByText('Verdict is only answered by Current queries')).toBeInTheDocument();
  });

  it('shows an error when the catalog cannot be loaded', async () => {
    const datasource = {
      getResource: jest.fn().mockRejectedValue({ status: 500, data: { message: 'no catalog' } }),
    } as unknown as DataSource;
    render(<QueryEditor datasource={datasource} query={{ refId: 'A' }} onChange={jest.fn()} onRunQuery={jest.fn()} />);
    expect(await screen.findByText('Could not load the catalog: no catalog (HTTP 500)')).toBeInTheDocument();
  });
});

describe('AnnotationQueryEditor', () => {
  it('fixes the query type to events and offers the service and kind filters', async () => {
    const { onChange, user } = setup({ queryType: 'lag' }, AnnotationQueryEditor as typeof QueryEditor);
    expect(screen.queryByRole('radio')).not.toBeInTheDocument();
    expect(screen.getByText(/Releases, deployed-version changes and ship forecasts as rows/)).toBeInTheDocument();
    expect(screen.queryByLabelText(/What-if version/)).not.toBeInTheDocument();
    await pick(user, screen.getByPlaceholderText('All services'), /^chromadb/);
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'events', services: ['chromadb'] });
    expect(screen.getByRole('checkbox', { name: /Upstream releases/ })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: /Chart releases/ })).toBeChecked();
  });
});

describe('QueryEditor: minimum severity', () => {
  const group = () => screen.getByRole('radiogroup', { name: 'Minimum severity' });
  const noField = () => expect(screen.queryByText('Minimum severity')).not.toBeInTheDocument();
  const option = (name: string) => within(group()).getByRole('radio', { name });

  it('is offered for status queries with Any checked and its description', async () => {
    setup({ queryType: 'status' });
    await catalogLoaded();
    expect(option('Any')).toBeChecked();
    expect(['Any', 'Low', 'Medium', 'High', 'Critical'].map((n) => option(n))).toHaveLength(5);
    expect(screen.getByText(MIN_SEVERITY_DESCRIPTION)).toBeInTheDocument();
    expect(MIN_SEVERITY_DESCRIPTION).toMatch(/min_severity label/);
  });

  it('writes minSeverity on change and runs the query; Any removes it', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'current', metrics: ['deployed_security_lag'] });
    await catalogLoaded();
    await user.click(option('High'));
    expect(lastQuery(onChange)).toEqual({
      refId: 'A',
      queryType: 'current',
      metrics: ['deployed_security_lag'],
      minSeverity: 'high',
    });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(option('High')).toBeChecked();
    await user.click(option('Any'));
    const q = lastQuery(onChange);
    expect(q).toEqual({ refId: 'A', queryType: 'current', metrics: ['deployed_security_lag'] });
    expect('minSeverity' in q).toBe(false);
  });

  it.each(['lag', 'current'] as const)('is offered for %s queries only with a security metric', async (queryType) => {
    const { user } = setup({ queryType, metrics: ['lag', 'eol'] });
    await catalogLoaded();
    noField();
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /^Security fixes behind/, 'Security fixes');
    await user.keyboard('{Escape}');
    expect(option('Any')).toBeChecked();
    expect(screen.queryByText(NO_SECURITY_METRIC_WARNING)).not.toBeInTheDocument();
  });

  it('stays visible, with a warning, while a lag query without security metric holds one', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['lag'], minSeverity: 'critical' });
    await catalogLoaded();
    expect(option('Critical')).toBeChecked();
    expect(screen.getByText(NO_SECURITY_METRIC_WARNING)).toBeInTheDocument();
    await user.click(option('Any'));
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'lag', metrics: ['lag'] });
    noField();
  });

  it('is not offered for events queries, and switching to events drops it', async () => {
    const { onChange, user } = setup({ queryType: 'status', minSeverity: 'medium' });
    expect(option('Medium')).toBeChecked();
    await user.click(screen.getByRole('radio', { name: 'Events' }));
    noField();
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'events' });
  });

  it('is not offered by the annotation editor', async () => {
    setup({ queryType: 'status', minSeverity: 'high' }, AnnotationQueryEditor as typeof QueryEditor);
    await catalogLoaded();
    noField();
  });
});

describe('QueryEditor: what-if version', () => {
  const field = () => screen.getByLabelText(/What-if version/);
  const noField = () => expect(screen.queryByLabelText(/What-if version/)).not.toBeInTheDocument();
  const ERROR = /is not a semver version/;
  const SEVERAL = 'applies to every service of this query';
  const VARIABLE_HINT = 'a dashboard variable: its value is checked when the query runs';

  it('is offered for status queries, whatever their metrics', async () => {
    setup({ queryType: 'status' });
    await catalogLoaded();
    expect(field()).toHaveValue('');
  });

  it.each(['lag', 'current'] as const)('is offered for %s queries only with a last-hop metric', async (queryType) => {
    const { user } = setup({ queryType, metrics: ['lag', 'versions_behind'] });
    await catalogLoaded();
    noField();
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /^Deployed lag/);
    await user.keyboard('{Escape}');
    expect(field()).toHaveValue('');
  });

  it('is offered once a deployed security or end-of-life metric is picked, not for the chart ones', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['lag'] });
    await catalogLoaded();
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /^Security lag/, 'Security lag');
    await user.keyboard('{Escape}');
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /^Support left/, 'Support left');
    await user.keyboard('{Escape}');
    expect(lastQuery(onChange).metrics).toEqual(['lag', 'security_lag', 'support_left']);
    noField();
    await pick(
      user,
      screen.getByRole('combobox', { name: /Metrics/ }),
      /^Deployed security severity/,
      'Deployed security severity'
    );
    await user.keyboard('{Escape}');
    expect(lastQuery(onChange).metrics).toEqual(['lag', 'security_lag', 'support_left', 'deployed_security_severity']);
    expect(field()).toBeInTheDocument();
  });

  it.each([
    ['deployed_versions_behind'],
    ['deployed_lag'],
    ['rollout_lag'],
    ['deployed_security_fixes_behind'],
    ['deployed_security_lag'],
    ['deployed_eol'],
    ['deployed_support_left'],
  ] as const)('is offered for a current query with %s', async (metric) => {
    setup({ queryType: 'current', metrics: ['lag', metric] });
    await catalogLoaded();
    expect(field()).toBeInTheDocument();
  });

  it('is not offered for a new (lag) query', async () => {
    setup();
    await catalogLoaded();
    noField();
  });

  it('is not offered for a current query of the verdict alone', async () => {
    setup({ queryType: 'current', metrics: ['verdict'] });
    await catalogLoaded();
    noField();
  });

  it('is hidden again when the last last-hop metric is removed, and shown again when one is added', async () => {
    const { onChange, user } = setup({ queryType: 'current', metrics: ['rollout_lag'] });
    await catalogLoaded();
    expect(field()).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Remove Rollout lag' }));
    expect(lastQuery(onChange).metrics).toEqual(['lag']);
    noField();
    await pick(user, screen.getByRole('combobox', { name: /Metrics/ }), /^Deployed versions behind/);
    await user.keyboard('{Escape}');
    expect(lastQuery(onChange).metrics).toEqual(['lag', 'deployed_versions_behind']);
    expect(field()).toBeInTheDocument();
  });

  it('stays visible, with a warning, while a lag query without last-hop metric holds a what-if version', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['lag'], deployedVersion: '0.12.3' });
    await catalogLoaded();
    expect(field()).toHaveValue('0.12.3');
    expect(screen.getByText(NO_LAST_HOP_WARNING)).toBeInTheDocument();
    await user.clear(field());
    await user.tab();
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'lag', metrics: ['lag'] });
    noField();
  });

  it('keeps the what-if version when a status query becomes a current query', async () => {
    const { onChange, user } = setup({ queryType: 'status', deployedVersion: '0.11.10' });
    await user.click(screen.getByRole('radio', { name: 'Current' }));
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'current', deployedVersion: '0.11.10' });
    expect(field()).toHaveValue('0.11.10');
    expect(screen.getByText(/^no selected metric uses it/)).toBeInTheDocument();
  });

  it('is not offered for events queries, and switching to events drops it', async () => {
    const { onChange, user } = setup({ queryType: 'status', deployedVersion: '0.11.10' });
    expect(field()).toHaveValue('0.11.10');
    await user.click(screen.getByRole('radio', { name: 'Events' }));
    noField();
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'events' });
  });

  it('switching a lag query with a last-hop metric to events drops it too', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['deployed_lag'], deployedVersion: '0.11.10' });
    await user.click(screen.getByRole('radio', { name: 'Events' }));
    noField();
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'events', metrics: ['deployed_lag'] });
  });

  describe('warns when it applies to several services', () => {
    beforeEach(() => {
      setTemplateSrv(
        fakeTemplateSrv({
          service: { current: 'ollama', options: ['ollama', 'chromadb'], multi: true, includeAll: true },
          one: { current: 'ollama', options: ['ollama', 'chromadb'] },
        })
      );
    });

    it.each([
      ['every service (empty)', undefined],
      ['every service (empty list)', []],
      ['several services', ['ollama', 'chromadb']],
      ['a multi-value variable', ['$service']],
    ])('for %s', async (_, services) => {
      setup({ queryType: 'status', services });
      await catalogLoaded();
      expect(screen.getByText(SEVERAL)).toBeInTheDocument();
    });

    it.each([
      ['one service', ['ollama']],
      ['a single-value variable', ['$one']],
    ])('not for %s', async (_, services) => {
      setup({ queryType: 'status', services });
      await catalogLoaded();
      expect(field()).toBeInTheDocument();
      expect(screen.queryByText(SEVERAL)).not.toBeInTheDocument();
    });

    it('updates the warning as services are picked', async () => {
      const { user } = setup({ queryType: 'current', metrics: ['deployed_lag'], services: ['ollama'] });
      await catalogLoaded();
      expect(screen.queryByText(SEVERAL)).not.toBeInTheDocument();
      await pick(user, screen.getByRole('combobox', { name: /Services/ }), /^chromadb/);
      await user.keyboard('{Escape}');
      expect(screen.getByText(SEVERAL)).toBeInTheDocument();
    });
  });

  it.each(['$version', '${version}', '${version:raw}', '[[version]]'])(
    'stores the dashboard variable %s as typed, with its hint',
    async (typed) => {
      const { onChange, onRunQuery, user } = setup({ queryType: 'status', services: ['ollama'] });
      await user.type(
        field(),
        typed.replace(/[[{]/g, (c) => c + c)
      );
      expect(field()).toHaveValue(typed);
      expect(screen.getByText(VARIABLE_HINT)).toBeInTheDocument();
      expect(screen.queryByText(ERROR)).not.toBeInTheDocument();
      await user.tab();
      expect(lastQuery(onChange)).toEqual({
        refId: 'A',
        queryType: 'status',
        services: ['ollama'],
        deployedVersion: typed,
      });
      expect(onRunQuery).toHaveBeenCalledTimes(1);
      expect(field()).toHaveValue(typed);
      expect(screen.getByText(VARIABLE_HINT)).toBeInTheDocument();
    }
  );

  it('shows a stored variable with its hint and replaces it with a version', async () => {
    const { onChange, user } = setup({ queryType: 'status', deployedVersion: '$version' });
    expect(field()).toHaveValue('$version');
    expect(screen.getByText(VARIABLE_HINT)).toBeInTheDocument();
    await user.clear(field());
    await user.type(field(), '0.12-rc1');
    expect(screen.getByText('Read as 0.12.0-rc1')).toBeInTheDocument();
    await user.keyboard('{Enter}');
    expect(lastQuery(onChange).deployedVersion).toBe('0.12.0-rc1');
    expect(screen.queryByText(VARIABLE_HINT)).not.toBeInTheDocument();
  });

  it.each(['main2', '2024-01-15', '1.2.3.4', '99999999999999999.0.0', 'v$version'])(
    'does not guess a version from %s',
    async (typed) => {
      const { onChange, user } = setup({ queryType: 'status' });
      await user.type(
        field(),
        typed.replace(/[[{]/g, (c) => c + c)
      );
      await user.tab();
      expect(
        screen.getByText(new RegExp(`^"${typed.replace(/[.$]/g, '\\$&')}" is not a semver version`))
      ).toBeInTheDocument();
      expect(onChange).not.toHaveBeenCalled();
    }
  );

  it('sends a valid version on blur and runs the query', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'current', metrics: ['deployed_versions_behind'] });
    await user.type(field(), '0.11.10');
    expect(onChange).not.toHaveBeenCalled();
    await user.tab();
    expect(lastQuery(onChange)).toEqual({
      refId: 'A',
      queryType: 'current',
      metrics: ['deployed_versions_behind'],
      deployedVersion: '0.11.10',
    });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.queryByText(ERROR)).not.toBeInTheDocument();
  });

  it('coerces v1.2 to 1.2.0, shows the normalised value and sends it on Enter', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['deployed_lag'] });
    await user.type(field(), 'v1.2');
    expect(screen.getByText('Read as 1.2.0')).toBeInTheDocument();
    await user.keyboard('{Enter}');
    expect(lastQuery(onChange).deployedVersion).toBe('1.2.0');
    expect(field()).toHaveValue('1.2.0');
    expect(screen.queryByText(/Read as/)).not.toBeInTheDocument();
  });

  it('names non-semver input in an error and does not send it', async () => {
    const { onChange, onRunQuery, user } = setup({ queryType: 'status' });
    await user.type(field(), 'latest');
    expect(
      screen.getByText('"latest" is not a semver version: use MAJOR.MINOR.PATCH such as 0.12.3 (v0.12 reads as 0.12.0)')
    ).toBeInTheDocument();
    await user.tab();
    await user.click(field());
    await user.keyboard('{Enter}');
    expect(onChange).not.toHaveBeenCalled();
    expect(onRunQuery).not.toHaveBeenCalled();
    expect(field()).toHaveValue('latest');
  });

  it('keeps the previous version while the text is invalid', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['rollout_lag'], deployedVersion: '0.12.3' });
    await user.clear(field());
    await user.type(field(), 'main');
    await user.tab();
    expect(screen.getByText(/^"main" is not a semver version/)).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();

    // Fixing the text sends the fixed version.
    await user.clear(field());
    await user.type(field(), '0.12.2');
    await user.tab();
    expect(lastQuery(onChange)).toEqual({
      refId: 'A',
      queryType: 'lag',
      metrics: ['rollout_lag'],
      deployedVersion: '0.12.2',
    });
    expect(screen.queryByText(ERROR)).not.toBeInTheDocument();
  });

  it('drops the version when the field is emptied', async () => {
    const { onChange, user } = setup({ queryType: 'current', metrics: ['deployed_lag'], deployedVersion: '0.12.3' });
    await user.clear(field());
    await user.tab();
    const q = lastQuery(onChange);
    expect(q).toEqual({ refId: 'A', queryType: 'current', metrics: ['deployed_lag'] });
    expect('deployedVersion' in q).toBe(false);
  });

  it('does not run the query again when the text normalises to the same version', async () => {
    const { onChange, user } = setup({ queryType: 'lag', metrics: ['deployed_lag'], deployedVersion: '1.2.0' });
    await user.clear(field());
    await user.type(field(), 'v1.2');
    await user.tab();
    expect(onChange).not.toHaveBeenCalled();
    expect(field()).toHaveValue('1.2.0');
  });
});
