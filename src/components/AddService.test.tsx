import { BackendSrv, setBackendSrv } from '@grafana/runtime';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { load } from 'js-yaml';
import React, { useState } from 'react';

import { DiscoverResponse } from '../check';
import { AddService } from './AddService';

const OLLAMA_SERVICE = {
  name: 'ollama',
  maintainer: 'community',
  upstream: { repo: 'ollama/ollama', source: 'tags', tagPattern: '^v(\\d+\\.\\d+\\.\\d+)$' },
  chart: { repository: 'https://otwld.github.io/ollama-helm/', name: 'ollama', versionFrom: 'appVersion' },
};

// The answer of docs/catalog.md: ollama verified; chromadb (metadata names only the chart repository) not.
const DISCOVER: DiscoverResponse = {
  proposals: [
    {
      chart: { repository: 'https://otwld.github.io/ollama-helm/', name: 'ollama' },
      verified: true,
      reason: '',
      service: OLLAMA_SERVICE,
      evidence: [
        "upstream ollama/ollama: named by the chart's sources",
        'tags: keeps 245 of 635 tags; 20 of the last 20 chart versions match',
        'maintainer community: the chart is published by otwld, not by ollama',
      ],
      coverage: { matched: 20, of: 20, share: 1 },
      candidates: [
        {
          repo: 'ollama/ollama',
          from: ['sources'],
          source: 'tags',
          tagPattern: '^v(\\d+\\.\\d+\\.\\d+)$',
          versionFrom: 'appVersion',
          coverage: { matched: 20, of: 20, share: 1 },
          error: '',
        },
        {
          repo: 'otwld/ollama-helm',
          from: ['chart repository owner'],
          source: '',
          tagPattern: '',
          versionFrom: '',
          coverage: { matched: 0, of: 20, share: 0 },
          error: '',
        },
      ],
    },
    {
      chart: { repository: 'https://amikos-tech.github.io/chromadb-chart/', name: 'chromadb' },
      verified: false,
      reason: 'no verified upstream: no candidate ships most of the last 20 app versions',
      service: null,
      evidence: [],
      coverage: { matched: 0, of: 20, share: 0 },
      candidates: [
        {
          repo: 'amikos-tech/chromadb-chart',
          from: ['chart repository owner', 'sources'],
          source: 'releases',
          tagPattern: '',
          versionFrom: 'appVersion',
          coverage: { matched: 2, of: 20, share: 0.1 },
          error: '',
        },
        {
          repo: 'amikos-tech/chroma',
          from: ['home'],
          source: '',
          tagPattern: '',
          versionFrom: '',
          error: 'GitHub: Not Found',
        },
      ],
    },
  ],
  unmatched: [
    {
      chart: 'loki',
      version: '6.6.2',
      appVersion: '3.0.0',
      from: 'helm_chart_info',
      reason: 'no repository serves it',
    },
  ],
  yaml: 'services:\n  - name: ollama\n',
  requests: { github: 7, charts: 1 },
};

const get = jest.fn();

beforeEach(() => {
  get.mockReset();
  get.mockResolvedValue(DISCOVER);
  setBackendSrv({ get } as unknown as BackendSrv);
});

function Controlled({ initial, onChange }: { initial: string; onChange: (v: string) => void }) {
  const [catalog, setCatalog] = useState(initial);
  return (
    <AddService
      uid="lw-uid"
      catalog={catalog}
      onCatalogChange={(v) => {
        setCatalog(v);
        onChange(v);
      }}
    />
  );
}

function setup(initial = 'services:\n  - name: a\n    chart: {name: a}\n') {
  const onChange = jest.fn();
  const user = userEvent.setup();
  render(<Controlled initial={initial} onChange={onChange} />);
  return { onChange, user };
}

const locationInput = () => screen.getByLabelText(/Chart repository or OCI chart/);
const chartName = () => screen.getByLabelText(/Chart name/);

describe('AddService', () => {
  it('discovers a chart of a repository, shows the proposals, and appends a verified one to the catalog', async () => {
    const { onChange, user } = setup();
    await user.type(locationInput(), 'https://otwld.github.io/ollama-helm/');
    await user.type(chartName(), 'ollama');
    await user.click(screen.getByRole('button', { name: 'Discover' }));
    expect(get).toHaveBeenCalledWith(
      '/api/datasources/uid/lw-uid/resources/discover',
      { repo: 'https://otwld.github.io/ollama-helm/', chart: 'ollama' },
      undefined,
      { showErrorAlert: false, showSuccessAlert: false }
    );

    const ollama = within(await screen.findByRole('listitem', { name: 'Proposal ollama' }));
    expect(ollama.getByText('verified')).toBeInTheDocument();
    expect(ollama.getByText(/coverage 20 of 20 \(100 %\)/)).toBeInTheDocument();
    expect(within(ollama.getByRole('list', { name: 'Evidence for ollama' })).getAllByRole('listitem')).toHaveLength(3);
    expect(within(ollama.getByRole('table', { name: 'Candidates for ollama' })).getAllByRole('row')).toHaveLength(3);

    const chroma = within(screen.getByRole('listitem', { name: 'Proposal chromadb' }));
    expect(chroma.getByText('no verified upstream')).toBeInTheDocument();
    expect(chroma.getByText(/no candidate ships most of the last 20 app versions/)).toBeInTheDocument();
    expect(chroma.queryByRole('button')).not.toBeInTheDocument();
    const rows = within(chroma.getByRole('table', { name: 'Candidates for chromadb' })).getAllByRole('row');
    expect(rows[1]).toHaveTextContent(
      'amikos-tech/chromadb-chartchart repository owner, sources2 of 20 (10 %)releases, appVersion'
    );
    expect(rows[2]).toHaveTextContent('error: GitHub: Not Found');
    expect(screen.getByText('loki 6.6.2: no repository serves it')).toBeInTheDocument();
    expect(screen.getByText('Requests: github 7, charts 1')).toBeInTheDocument();

    await user.click(ollama.getByRole('button', { name: 'Add ollama to the catalog' }));
    const text: string = onChange.mock.calls[0][0];
    const doc = load(text) as { services: unknown[] };
    expect(doc.services).toEqual([{ name: 'a', chart: { name: 'a' } }, OLLAMA_SERVICE]);
    expect(text).toContain("  # upstream ollama/ollama: named by the chart's sources\n  # tags: keeps");
    expect(text).toContain(
      '  # maintainer community: the chart is published by otwld, not by ollama\n  - name: ollama\n'
    );
    expect(screen.getByText(/Added ollama to the inline catalog/)).toBeInTheDocument();
    // Now in the catalog: not twice.
    expect(ollama.getByRole('button', { name: 'ollama is in the catalog' })).toHaveAttribute('aria-disabled', 'true');
  });

  it('discovers an OCI chart and every chart of a repository', async () => {
    const { user } = setup();
    await user.type(locationInput(), 'oci://ghcr.io/open-webui/helm-charts/open-webui');
    expect(chartName()).toBeDisabled();
    await user.keyboard('{Enter}');
    expect(get).toHaveBeenLastCalledWith(
      expect.any(String),
      { oci: 'oci://ghcr.io/open-webui/helm-charts/open-webui' },
      undefined,
      expect.anything()
    );
    await user.clear(locationInput());
    await user.type(locationInput(), 'https://charts.example/{Enter}');
    expect(get).toHaveBeenLastCalledWith(
      expect.any(String),
      { repo: 'https://charts.example/' },
      undefined,
      expect.anything()
    );
  });

  it('names a bad input without asking the backend', async () => {
    const { user } = setup();
    await user.type(locationInput(), 'otwld.github.io/ollama-helm{Enter}');
    expect(
      screen.getByText(/"otwld.github.io\/ollama-helm" is neither an http\(s\) Helm repository URL/)
    ).toBeInTheDocument();
    expect(get).not.toHaveBeenCalled();
  });

  it('shows the error of a failed discovery', async () => {
    get.mockRejectedValue({
      status: 400,
      data: { error: 'discover: chart "nope" is not in https://charts.example/index.yaml' },
    });
    const { user } = setup();
    await user.type(locationInput(), 'https://charts.example/');
    await user.type(chartName(), 'nope{Enter}');
    expect(
      await screen.findByText('discover: chart "nope" is not in https://charts.example/index.yaml (HTTP 400)')
    ).toBeInTheDocument();
  });

  it('does not touch a catalog it cannot append to, and shows the entry to add by hand', async () => {
    const { onChange, user } = setup('services: [{name: a}]\n');
    await user.type(locationInput(), 'https://otwld.github.io/ollama-helm/');
    await user.click(screen.getByRole('button', { name: 'Discover' }));
    await user.click(await screen.findByRole('button', { name: 'Add ollama to the catalog' }));
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByText(/flow style/)).toBeInTheDocument();
    const entry = screen.getByLabelText('Entry to add by hand').textContent ?? '';
    expect((load(`services:\n${entry}`) as { services: unknown[] }).services).toEqual([OLLAMA_SERVICE]);
  });

  it('needs a saved data source', () => {
    render(<AddService uid="" catalog="" onCatalogChange={jest.fn()} />);
    expect(screen.getByText(/Save the data source to discover services/)).toBeInTheDocument();
  });
});
