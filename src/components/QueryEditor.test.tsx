import { render, screen, waitFor } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';
import React from 'react';

import type { DataSource } from '../datasource';
import { giveElementsASize } from '../testing/combobox';
import { renderControlled, setupUser } from '../testing/controlled';
import { fakeTemplateSrv } from '../testing/templateSrv';
import { LagwatchQuery, ServicesResponse } from '../types';
import { QueryEditor } from './QueryEditor';
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
  const datasource = { getServices: jest.fn().mockResolvedValue(SERVICES) } as unknown as DataSource;
  const onRunQuery = jest.fn();
  const { onChange, user } = renderControlled<LagwatchQuery>({ refId: 'A', ...initial }, (query, onChange) => (
    <Editor datasource={datasource} query={query} onChange={onChange} onRunQuery={onRunQuery} />
  ));
  return { onChange, onRunQuery, datasource, user };
}

const lastQuery = (onChange: jest.Mock): LagwatchQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];

async function pick(user: ReturnType<typeof setupUser>, input: HTMLElement, option: string | RegExp) {
  await user.click(input);
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
    await waitFor(() => expect(datasource.getServices).toHaveBeenCalledTimes(1));
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

  it('toggles event kinds of an events query and keeps at least one', async () => {
    const { onChange, user } = setup({ queryType: 'events' });
    const upstream = screen.getByRole('checkbox', { name: /Upstream releases/ });
    const chart = screen.getByRole('checkbox', { name: /Chart releases/ });
    expect(upstream).toBeChecked();
    expect(chart).toBeChecked();
    expect(screen.queryByText('Metrics')).not.toBeInTheDocument();

    await user.click(chart);
    expect(lastQuery(onChange).eventKinds).toEqual(['upstream']);
    expect(screen.getByRole('checkbox', { name: /Upstream releases/ })).toBeDisabled();

    await user.click(screen.getByRole('checkbox', { name: /Chart releases/ }));
    expect(lastQuery(onChange).eventKinds).toEqual(['upstream', 'chart']);
  });

  it('shows an error when the catalog cannot be loaded', async () => {
    const datasource = {
      getServices: jest.fn().mockRejectedValue({ status: 500, data: { message: 'no catalog' } }),
    } as unknown as DataSource;
    render(<QueryEditor datasource={datasource} query={{ refId: 'A' }} onChange={jest.fn()} onRunQuery={jest.fn()} />);
    expect(await screen.findByText('Could not load the catalog: no catalog (HTTP 500)')).toBeInTheDocument();
  });
});

describe('AnnotationQueryEditor', () => {
  it('fixes the query type to events and offers the service and kind filters', async () => {
    const { onChange, user } = setup({ queryType: 'lag' }, AnnotationQueryEditor as typeof QueryEditor);
    expect(screen.queryByRole('radio')).not.toBeInTheDocument();
    expect(screen.getByText(/Upstream and chart releases as rows/)).toBeInTheDocument();
    await pick(user, screen.getByPlaceholderText('All services'), /^chromadb/);
    expect(lastQuery(onChange)).toEqual({ refId: 'A', queryType: 'events', services: ['chromadb'] });
    expect(screen.getByRole('checkbox', { name: /Upstream releases/ })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: /Chart releases/ })).toBeChecked();
  });
});
