import { BackendSrv, setBackendSrv } from '@grafana/runtime';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import { CheckResponse } from '../check';
import { ServicesResponse } from '../types';
import { CatalogCheck } from './CatalogCheck';

// The answer of docs/catalog.md: ollama with versionFrom: version (two problems, one fix), chromadb fine,
// vllm-stack whose data could not be fetched.
const CHECK: CheckResponse = {
  at: '2025-09-30T00:00:00Z',
  services: 3,
  problems: 1,
  failed: 1,
  results: [
    {
      service: 'ollama',
      ok: false,
      coverage: { matched: 0, of: 20, share: 0, missing: ['1.30.0', '1.29.0', '1.28.0', '1.27.0'] },
      upstream: { source: 'tags', fetched: 635, kept: 245 },
      chart: { fetched: 164, kept: 163, packaged: '1.30.0', upstreamLatest: '0.12.3' },
      leftOut: [
        {
          cause: 'upstream tags outside tagPattern',
          count: 390,
          examples: ['v0.13.4-rc2', 'v0.4.0-ci3', 'v0.12.7-citest0'],
        },
      ],
      problems: [
        {
          kind: 'packaged-unknown-upstream',
          message: 'the packaged version 1.30.0 is no upstream version and is above the newest one (0.12.3)',
        },
        { kind: 'low-coverage', message: '0 of the last 20 chart versions ship an upstream version' },
      ],
      fixes: [
        {
          field: 'chart.versionFrom',
          value: 'appVersion',
          evidence:
            'appVersion gives 20 of the last 20 chart versions an upstream version (versionFrom: version gives 0); it ships 0.12.2',
          coverage: { matched: 20, of: 20, share: 1 },
        },
      ],
    },
    {
      service: 'chromadb',
      ok: true,
      coverage: { matched: 19, of: 20, share: 0.95 },
      upstream: { source: 'tags', fetched: 300, kept: 120 },
      chart: { fetched: 80, kept: 80, packaged: '1.0.20', upstreamLatest: '1.1.0' },
      leftOut: [],
      problems: [],
      fixes: [],
    },
    {
      service: 'vllm-stack',
      ok: false,
      error: 'GET https://api.github.com/…: 403 rate limited',
      leftOut: [],
      problems: [],
      fixes: [],
    },
  ],
};

const SERVICES: ServicesResponse = {
  maintainers: ['community', 'vendor'],
  services: [
    {
      name: 'ollama',
      maintainer: 'community',
      repo: 'ollama/ollama',
      chart: 'ollama',
      advisories: true,
      eolProduct: '',
    },
    { name: 'chromadb', maintainer: 'community', repo: 'chroma-core/chroma', chart: 'chromadb', advisories: false },
    { name: 'vllm-stack', maintainer: 'vendor', repo: 'vllm-project/production-stack', chart: 'vllm-stack' },
    { name: 'redis', maintainer: 'community', repo: 'redis/redis', chart: 'redis', eolProduct: 'redis' },
  ],
};

const get = jest.fn();

function answer(check: unknown, services: unknown = SERVICES) {
  get.mockImplementation((url: string) => {
    const r = url.endsWith('/resources/check') ? check : url.endsWith('/resources/services') ? services : undefined;
    return r instanceof Error || (typeof r === 'object' && r !== null && 'status' in r)
      ? Promise.reject(r)
      : Promise.resolve(r);
  });
}

beforeEach(() => {
  get.mockReset();
  answer(CHECK);
  setBackendSrv({ get } as unknown as BackendSrv);
});

const item = (name: string) => screen.getByRole('listitem', { name: `Service ${name}` });

describe('CatalogCheck', () => {
  it('shows each service: coverage, problems, values left out, fixes with evidence, security and EOL inputs', async () => {
    render(<CatalogCheck uid="lw-uid" draft="d" />);
    expect(screen.getByText('Checking services…')).toBeInTheDocument();
    expect(
      await screen.findByText('3 services: 1 looks right, 1 has problems, 1 could not be checked')
    ).toBeInTheDocument();
    expect(get).toHaveBeenCalledWith('/api/datasources/uid/lw-uid/resources/check', undefined, undefined, {
      showErrorAlert: false,
      showSuccessAlert: false,
    });

    const ollama = within(item('ollama'));
    expect(ollama.getByText('2 problems')).toBeInTheDocument();
    expect(
      ollama.getByText(/Coverage: 0 of 20 \(0 %\) of the last chart versions.*\(not: 1\.30\.0, 1\.29\.0, 1\.28\.0, …\)/)
    ).toBeInTheDocument();
    expect(
      ollama.getByText(
        /Upstream \(tags\): 245 of 635 versions kept · chart: 163 of 164 versions kept, ships 1\.30\.0, newest upstream 0\.12\.3/
      )
    ).toBeInTheDocument();
    expect(within(ollama.getByRole('list', { name: 'Problems of ollama' })).getAllByRole('listitem')).toHaveLength(2);
    expect(ollama.getByText(/is no upstream version and is above the newest one/)).toBeInTheDocument();
    expect(
      ollama.getByText('390 upstream tags outside tagPattern, e.g. v0.13.4-rc2, v0.4.0-ci3, v0.12.7-citest0')
    ).toBeInTheDocument();
    const fix = within(ollama.getByRole('list', { name: 'Fixes for ollama' })).getByRole('listitem');
    expect(fix).toHaveTextContent('Set chart.versionFrom to appVersion');
    expect(fix).toHaveTextContent(/it ships 0\.12\.2 \(coverage then 20 of 20 \(100 %\)\)/);
    expect(ollama.getByText(/Security: advisories · End of life: none/)).toBeInTheDocument();

    const chroma = within(item('chromadb'));
    expect(chroma.getByText('looks right')).toBeInTheDocument();
    expect(chroma.getByText(/Coverage: 19 of 20 \(95 %\)/)).toBeInTheDocument();
    expect(chroma.queryByRole('list')).not.toBeInTheDocument();
    expect(chroma.getByText(/Security: none \(no advisories in the catalog\)/)).toBeInTheDocument();

    const vllm = within(item('vllm-stack'));
    expect(vllm.getByText('not checked')).toBeInTheDocument();
    expect(vllm.getByText(/Could not fetch its data: .*403 rate limited/)).toBeInTheDocument();
    // The backend does not say: no inputs line.
    expect(vllm.queryByText(/Security:/)).not.toBeInTheDocument();

    // In /services, not in the check (the catalog changed in between): its inputs still show.
    expect(within(item('redis')).getByText(/End of life: endoflife.date product redis/)).toBeInTheDocument();
  });

  it('rechecks on the button and after a save, not on every keystroke', async () => {
    const user = userEvent.setup();
    const view = render(<CatalogCheck uid="lw-uid" version={1} draft="saved" />);
    await screen.findByText(/3 services/);
    const checks = () => get.mock.calls.filter(([url]) => url.endsWith('/check')).length;
    expect(checks()).toBe(1);

    answer({ ...CHECK, services: 1, problems: 0, failed: 0, results: [CHECK.results[1]] });
    await user.click(screen.getByRole('button', { name: 'Recheck' }));
    expect(await screen.findByText('1 service: 1 looks right')).toBeInTheDocument();
    expect(checks()).toBe(2);

    view.rerender(<CatalogCheck uid="lw-uid" version={1} draft="edited" />);
    expect(screen.getByText(/unsaved changes: this check shows the saved ones/)).toBeInTheDocument();
    expect(checks()).toBe(2);

    view.rerender(<CatalogCheck uid="lw-uid" version={2} draft="edited" />);
    await screen.findByText('1 service: 1 looks right');
    expect(checks()).toBe(3);
    expect(screen.queryByText(/unsaved changes/)).not.toBeInTheDocument();
  });

  it('shows the error of a failed check, and the inputs from /services', async () => {
    answer({ status: 500, data: { message: 'Plugin unavailable' } });
    render(<CatalogCheck uid="lw-uid" draft="d" />);
    expect(await screen.findByText('Plugin unavailable (HTTP 500)')).toBeInTheDocument();
    expect(within(item('redis')).getByText(/product redis/)).toBeInTheDocument();
  });

  it('says why when neither resource answers', async () => {
    answer({ status: 502, data: { message: 'Bad Gateway' } }, { status: 502 });
    render(<CatalogCheck uid="lw-uid" draft="d" />);
    expect(
      await screen.findByText(/Bad Gateway \(HTTP 502\)\. Make sure the Lagwatch backend is running/)
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Recheck' })).toBeEnabled();
  });

  it('needs a saved data source', () => {
    render(<CatalogCheck uid="" draft="d" />);
    expect(screen.getByText(/Save the data source to check its services/)).toBeInTheDocument();
    expect(get).not.toHaveBeenCalled();
  });
});
