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
  services: [{ name: 'ollama', maintainer: 'community', repo: 'ollama/ollama', chart: 'ollama' }],
  maintainers: ['community', 'vendor'],
};

beforeAll(() => giveElementsASize());

function setup(initial: Partial<LagwatchVariableQuery> = {}) {
  setTemplateSrv(fakeTemplateSrv({ maintainer: { current: 'vendor', options: ['community', 'vendor'] } }));
  const datasource = { getServices: jest.fn().mockResolvedValue(SERVICES) } as unknown as DataSource;
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
});
