import { setTemplateSrv } from '@grafana/runtime';
import { render, screen } from '@testing-library/react';
import userEvent, { PointerEventsCheckLevel } from '@testing-library/user-event';
import React, { useState } from 'react';

import type { DataSource } from '../datasource';
import { giveElementsASize } from '../testing/combobox';
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
  const onChange = jest.fn();
  function Harness() {
    const [query, setQuery] = useState({ refId: 'V', ...initial } as LagwatchVariableQuery);
    return (
      <VariableQueryEditor
        datasource={datasource}
        query={query}
        onChange={(q) => {
          onChange(q);
          setQuery(q);
        }}
        onRunQuery={jest.fn()}
      />
    );
  }
  render(<Harness />);
  return { onChange, user: userEvent.setup({ delay: null, pointerEventsCheck: PointerEventsCheckLevel.Never }) };
}

const last = (fn: jest.Mock): LagwatchVariableQuery => fn.mock.calls[fn.mock.calls.length - 1][0];

describe('VariableQueryEditor', () => {
  it('lists services by default and filters them by a maintainer or $maintainer', async () => {
    const { onChange, user } = setup();
    expect(screen.getByRole('radio', { name: 'Services' })).toBeChecked();
    await user.click(screen.getByPlaceholderText('Any maintainer'));
    expect(await screen.findByRole('option', { name: /^\$maintainer/ })).toBeInTheDocument();
    await user.click(await screen.findByRole('option', { name: /^community/ }));
    expect(last(onChange)).toEqual({ refId: 'V', list: 'services', maintainer: 'community' });
  });

  it('switches to maintainers and drops the maintainer filter', async () => {
    const { onChange, user } = setup({ list: 'services', maintainer: 'vendor' });
    await user.click(screen.getByRole('radio', { name: 'Maintainers' }));
    expect(last(onChange)).toEqual({ refId: 'V', list: 'maintainers', maintainer: undefined });
    expect(screen.queryByPlaceholderText('Any maintainer')).not.toBeInTheDocument();
  });
});
