import { setTemplateSrv } from '@grafana/runtime';
import { screen } from '@testing-library/react';
import React from 'react';

import type { DataSource } from '../datasource';
import { giveElementsASize } from '../testing/combobox';
import { renderControlled } from '../testing/controlled';
import { fakeTemplateSrv } from '../testing/templateSrv';
import { LagwatchVariableQuery, ServicesResponse } from '../types';
import { VariableQueryEditor } from './VariableQueryEditor';

const SERVICES: ServicesResponse = {
  services: [
    { name: 'ollama', maintainer: 'community', repo: 'ollama/ollama', chart: 'ollama' },
    { name: 'chromadb', maintainer: 'community', repo: 'chroma-core/chroma', chart: 'chromadb' },
  ],
  maintainers: ['community', 'vendor'],
};

beforeAll(() => giveElementsASize());

function setup(initial: Partial<LagwatchVariableQuery> = {}) {
  setTemplateSrv(
    fakeTemplateSrv({
      maintainer: { current: 'vendor', options: ['community', 'vendor'] },
      service: { current: 'ollama', options: ['ollama', 'chromadb'] },
    })
  );
  const datasource = { getResource: jest.fn().mockResolvedValue(SERVICES) } as unknown as DataSource;
  return renderControlled({ refId: 'V', ...initial } as LagwatchVariableQuery, (query, onChange) => (
    <VariableQueryEditor datasource={datasource} query={query} onChange={onChange} onRunQuery={jest.fn()} />
  ));
}

describe('VariableQueryEditor', () => {
  it('lists services by default and filters them by a maintainer or $maintainer', async () => {
    const { last, user } = setup();
    expect(screen.getByRole('radio', { name: 'Services' })).toBeChecked();
    await user.click(screen.getByPlaceholderText('Any maintainer'));
    expect(await screen.findByRole('option', { name: /^\$maintainer/ })).toBeInTheDocument();
    await user.click(await screen.findByRole('option', { name: /^community/ }));
    expect(last()).toEqual({ refId: 'V', list: 'services', maintainer: 'community' });
  });

  it('switches to maintainers and drops the maintainer filter', async () => {
    const { last, user } = setup({ list: 'services', maintainer: 'vendor' });
    await user.click(screen.getByRole('radio', { name: 'Maintainers' }));
    expect(last()).toEqual({ refId: 'V', list: 'maintainers', maintainer: undefined });
    expect(screen.queryByPlaceholderText('Any maintainer')).not.toBeInTheDocument();
  });

  it('lists the versions of one service: a catalog service or $service, upstream by default', async () => {
    const { last, user } = setup({ list: 'services', maintainer: 'vendor' });
    await user.click(screen.getByRole('radio', { name: 'Versions' }));
    expect(last()).toEqual({ refId: 'V', list: 'versions' });
    expect(screen.queryByPlaceholderText('Any maintainer')).not.toBeInTheDocument();
    expect(screen.getByRole('radio', { name: 'Upstream releases' })).toBeChecked();

    await user.click(screen.getByPlaceholderText('Choose a service'));
    expect(await screen.findByRole('option', { name: /^chromadb/ })).toBeInTheDocument();
    await user.click(await screen.findByRole('option', { name: /^\$service/ }));
    expect(last()).toEqual({ refId: 'V', list: 'versions', service: '$service' });

    await user.click(screen.getByRole('radio', { name: 'Chart releases' }));
    expect(last()).toEqual({ refId: 'V', list: 'versions', service: '$service', versionKind: 'chart' });

    // The upstream versions the charts ship: what a what-if version variable should list.
    await user.click(screen.getByRole('radio', { name: 'Packaged versions' }));
    expect(last()).toEqual({ refId: 'V', list: 'versions', service: '$service', versionKind: 'packaged' });
    expect(screen.getByRole('radio', { name: 'Packaged versions' })).toBeChecked();
    await user.click(screen.getByRole('radio', { name: 'Upstream releases' }));
    expect(last()).toEqual({ refId: 'V', list: 'versions', service: '$service', versionKind: 'upstream' });
  });

  it('shows a stored packaged versions variable and drops its kind when switching to maintainers', async () => {
    const { last, user } = setup({ list: 'versions', service: 'ollama', versionKind: 'packaged' });
    expect(screen.getByRole('radio', { name: 'Packaged versions' })).toBeChecked();
    expect(screen.getByRole('radio', { name: 'Chart releases' })).not.toBeChecked();
    await user.click(screen.getByRole('radio', { name: 'Maintainers' }));
    expect(last()).toEqual({
      refId: 'V',
      list: 'maintainers',
      maintainer: undefined,
      service: undefined,
      versionKind: undefined,
    });
  });

  it('picks a catalog service for a versions variable and drops the versions fields when switching back', async () => {
    const { last, user } = setup({ list: 'versions', versionKind: 'chart' });
    await user.click(screen.getByPlaceholderText('Choose a service'));
    await user.click(await screen.findByRole('option', { name: /^ollama/ }));
    expect(last()).toEqual({ refId: 'V', list: 'versions', service: 'ollama', versionKind: 'chart' });

    await user.click(screen.getByRole('radio', { name: 'Services' }));
    expect(last()).toEqual({ refId: 'V', list: 'services' });
    expect(screen.queryByPlaceholderText('Choose a service')).not.toBeInTheDocument();
  });
});
